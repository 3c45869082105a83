/**
 * The part of the `tablestore` SDK (plain CommonJS, no typings of its own) that the run store and
 * the wire tests use. Values follow the SDK: integers travel as Int64LE objects (`Long.fromNumber`),
 * strings as strings, binaries as Buffers.
 */
declare module 'tablestore' {
  export interface Int64LE {
    toNumber(): number;
    toBuffer(): Buffer;
  }

  export type PrimaryKeyValue = string | Int64LE | Buffer | object;
  /** `[{ id: 'x' }, { created_at: Long }]`: one single-key object per primary-key column, in order. */
  export type PrimaryKeyInput = Array<Record<string, PrimaryKeyValue>>;
  export type AttributeInput = Array<Record<string, unknown>>;

  export interface DecodedRow {
    primaryKey: Array<{ name: string; value: string | Int64LE | Buffer }>;
    attributes: Array<{ columnName: string; columnValue: string | Int64LE | Buffer | number | boolean; timestamp: Int64LE | null }>;
  }

  export interface ClientConfig {
    accessKeyId: string;
    accessKeySecret: string;
    stsToken?: string;
    endpoint: string;
    instancename: string;
    maxRetries?: number;
    httpOptions?: { timeout?: number; maxSockets?: number };
  }

  /** The SDK's per-request state machine, as its per-client listeners see it. */
  export interface SdkResponse {
    httpResponse: { statusCode: number; headers: Record<string, string | undefined>; body: Buffer | undefined };
    error: (Error & { retryable?: boolean }) | null;
  }
  export interface SdkRequest {
    addListener(event: string, listener: (response: SdkResponse) => void): SdkRequest;
  }

  export class Client {
    constructor(config: ClientConfig);
    /** Called for every request this client builds; the hook for per-client listeners. */
    setupRequestListeners(request: SdkRequest): void;
    /** The `extractError` listener: turns a non-2xx answer into `response.error`. */
    extractError(response: SdkResponse): void;
    getRow(params: Record<string, unknown>): Promise<{ row: Partial<DecodedRow> }>;
    putRow(params: Record<string, unknown>): Promise<unknown>;
    getRange(params: Record<string, unknown>): Promise<{ rows: DecodedRow[]; nextStartPrimaryKey: DecodedRow['primaryKey'] | null }>;
    batchGetRow(params: Record<string, unknown>): Promise<{
      tables: Array<
        Array<{ isOk: boolean; errorCode: string | null; errorMessage: string | null; tableName: string } & Partial<DecodedRow>>
      >;
    }>;
    createTable(params: Record<string, unknown>): Promise<unknown>;
    updateTable(params: { tableName: string; tableOptions: { timeToLive: number; maxVersions: number } }): Promise<unknown>;
    listTable(params: Record<string, unknown>): Promise<{ tableNames: string[] }>;
  }

  export class Condition {
    constructor(rowExistence: number, columnCondition?: unknown);
  }
  export class SingleColumnCondition {
    constructor(columnName: string, columnValue: unknown, comparator: number, passIfMissing?: boolean, latestVersionOnly?: boolean);
  }

  export interface PlainBufferInput {
    buffer: Buffer;
    offset: number;
    limit: number;
  }
  export class PlainBufferInputStream {
    constructor(data: PlainBufferInput);
    readRawByte(): number;
    readRawLittleEndian32(): number;
    readInt64(): Int64LE;
    curPos: number;
  }
  export class PlainBufferCodedInputStream {
    constructor(input: PlainBufferInputStream);
    inputStream: PlainBufferInputStream;
    readRow(): DecodedRow;
    readTag(): number;
    checkLastTagWas(tag: number): boolean;
    readPrimaryKeyValue(cellCheckSum: number): { pkVal: unknown; cellCheckSum: number };
  }

  export interface TableStoreModule {
    Client: typeof Client;
    Condition: typeof Condition;
    SingleColumnCondition: typeof SingleColumnCondition;
    RowExistenceExpectation: { IGNORE: number; EXPECT_EXIST: number; EXPECT_NOT_EXIST: number };
    ComparatorType: {
      EQUAL: number;
      NOT_EQUAL: number;
      GREATER_THAN: number;
      GREATER_EQUAL: number;
      LESS_THAN: number;
      LESS_EQUAL: number;
    };
    Direction: { FORWARD: 'FORWARD'; BACKWARD: 'BACKWARD' };
    PrimaryKeyType: { INTEGER: number; STRING: number; BINARY: number };
    DefinedColumnType: { DCT_INTEGER: number; DCT_DOUBLE: number; DCT_BOOLEAN: number; DCT_STRING: number };
    IndexUpdateMode: { IUM_ASYNC_INDEX: number; IUM_SYNC_INDEX: number };
    IndexType: { IT_GLOBAL_INDEX: number; IT_LOCAL_INDEX: number };
    Long: { fromNumber(n: number): Int64LE };
    INF_MIN: object;
    INF_MAX: object;
    PlainBufferInputStream: typeof PlainBufferInputStream;
    PlainBufferCodedInputStream: typeof PlainBufferCodedInputStream;
    PlainBufferBuilder: {
      serializePrimaryKey(pk: PrimaryKeyInput): Buffer;
      serializeForPutRow(pk: PrimaryKeyInput, attributes: AttributeInput): Buffer;
    };
    plainBufferConsts: Record<string, number>;
    plainBufferCrc8: { crcInt8(crc: number, value: number): number };
    util: { Int64: unknown };
  }

  const TableStore: TableStoreModule;
  export default TableStore;
}

declare module 'tablestore/lib/protocol/tablestore_compiled_proto.js' {
  interface ProtoType {
    // biome-ignore lint/suspicious/noExplicitAny: a decoded protobuf message, shaped by the message type the caller names.
    decode(bytes: Uint8Array): Record<string, any>;
    encode(message: Record<string, unknown>): { finish(): Uint8Array };
    create(properties: Record<string, unknown>): Record<string, unknown>;
  }
  const protos: {
    main: { proto: Record<string, ProtoType> & { RowExistenceExpectation: Record<string, number>; Direction: Record<string, number> } };
    filter: { proto: Record<string, ProtoType> & { FilterType: Record<string, number>; ComparatorType: Record<string, number> } };
  };
  export default protos;
}
