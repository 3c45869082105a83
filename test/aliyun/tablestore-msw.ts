import { createHash, createHmac } from 'node:crypto';
import { http, HttpResponse } from 'msw';
import TableStore, { type DecodedRow, type PrimaryKeyInput } from 'tablestore';
import protos from 'tablestore/lib/protocol/tablestore_compiled_proto.js';
import {
  createTablestoreRunStore,
  type TablestoreRunStore,
  type TablestoreRunStoreOptions,
} from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { staticCredentials } from '#shared/platform/credentials.ts';

/**
 * A Tablestore instance behind msw, speaking the real wire format: POST <endpoint>/<Action> with a
 * protobuf body (the SDK's own compiled `tablestore.proto` decodes requests and encodes answers),
 * rows as PlainBuffer (decoded by the SDK's PlainBufferCodedInputStream with its CRC-8 checks,
 * encoded by its PlainBufferBuilder), x-ots-* headers signed with HMAC-SHA1, errors as protobuf
 * `Error {code, message}` with Tablestore's HTTP statuses. Behind it an in-memory table model:
 * row conditions (existence + single-column conditions), range reads in both directions with
 * INF_MIN/INF_MAX, limits and next_start_primary_key, and global secondary indexes kept in step.
 */

const main = protos.main.proto;
const filters = protos.filter.proto;
const C = TableStore.plainBufferConsts as Record<string, number>;

type Cell =
  | { t: 'string'; v: string }
  | { t: 'integer'; v: number }
  | { t: 'double'; v: number }
  | { t: 'boolean'; v: boolean }
  | { t: 'binary'; v: Buffer };
type KeyCell = Cell | { t: 'min' } | { t: 'max' };
interface StoredRow {
  pk: Map<string, Cell>;
  columns: Map<string, { cell: Cell; timestamp: number }>;
}
interface Table {
  name: string;
  primaryKey: Array<{ name: string; type: number }>;
  definedColumns: Map<string, number>;
  indexes: Array<{ name: string; primaryKey: string[] }>;
  rows: Map<string, StoredRow>;
  /** Seconds a row lives after its last write (-1: for ever), as CreateTable or UpdateTable set it; rows are not expired here. */
  timeToLive: number;
}
export interface OtsCall {
  action: string;
  table?: string;
  condition?: { rowExistence: number; column?: { name: string; comparator: number; value: Cell; passIfMissing: boolean } };
  direction?: string;
  limit?: number;
  status: number;
  errorCode?: string;
  stsToken?: string;
  /** The fault this request met, if any (`dropped` when no answer was sent). */
  fault?: string;
}

/**
 * A fault a request meets after authentication: an error answer (a protobuf `Error` body with the
 * service's HTTP status) or, without `error`, a dropped connection (what the client sees when its
 * request times out or the connection resets). With `applied`, the request is carried out first:
 * a write that happened although its caller never learns it.
 */
export interface OtsFault {
  /** Only requests of this action (any action when absent). */
  action?: string;
  error?: { code: string; status: number; message?: string };
  applied?: boolean;
}

/** The answers Tablestore gives for its retryable conditions (code, HTTP status, message). */
export const OTS_ERRORS = {
  serverBusy: { code: 'OTSServerBusy', status: 503, message: 'Server is busy.' },
  timeout: { code: 'OTSTimeout', status: 503, message: 'Operation timeout.' },
  rowOperationConflict: { code: 'OTSRowOperationConflict', status: 409, message: 'Data is being modified by the other request.' },
  quotaExhausted: { code: 'OTSQuotaExhausted', status: 403, message: 'Too frequent table operations.' },
  partitionUnavailable: { code: 'OTSPartitionUnavailable', status: 503, message: 'The partition is not available.' },
  serverUnavailable: { code: 'OTSServerUnavailable', status: 503, message: 'Server is not available.' },
  internalServerError: { code: 'OTSInternalServerError', status: 500, message: 'Internal server error.' },
} as const;

class OtsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const INF_MIN = { t: 'min' } as const;
const INF_MAX = { t: 'max' } as const;

/** The SDK's reader, taught the two bound markers that only requests carry (its reader refuses them). */
class BoundAwareInput extends TableStore.PlainBufferCodedInputStream {
  override readPrimaryKeyValue(cellCheckSum: number): { pkVal: unknown; cellCheckSum: number } {
    const stream = this.inputStream;
    const start = stream.curPos;
    stream.readRawLittleEndian32();
    const type = stream.readRawByte();
    if (type === C.VT_INF_MIN || type === C.VT_INF_MAX) {
      const crc = TableStore.plainBufferCrc8.crcInt8(cellCheckSum, type);
      this.readTag();
      return { pkVal: type === C.VT_INF_MIN ? INF_MIN : INF_MAX, cellCheckSum: crc };
    }
    stream.curPos = start;
    return super.readPrimaryKeyValue(cellCheckSum);
  }
}

function readPlainBuffer(bytes: Uint8Array): DecodedRow {
  const buffer = Buffer.from(bytes);
  return new BoundAwareInput(new TableStore.PlainBufferInputStream({ buffer, offset: 0, limit: buffer.length })).readRow();
}

function toCell(value: unknown): Cell {
  if (typeof value === 'string') return { t: 'string', v: value };
  if (typeof value === 'boolean') return { t: 'boolean', v: value };
  if (typeof value === 'number') return { t: 'double', v: value };
  if (Buffer.isBuffer(value)) return { t: 'binary', v: value };
  if (value && typeof value === 'object' && 'toNumber' in value) return { t: 'integer', v: (value as { toNumber(): number }).toNumber() };
  throw new OtsError(400, 'OTSParameterInvalid', `unsupported value ${String(value)}`);
}

function toKeyCell(value: unknown): KeyCell {
  return value === INF_MIN || value === INF_MAX ? (value as KeyCell) : toCell(value);
}

function fromCell(cell: Cell): unknown {
  return cell.t === 'integer' ? TableStore.Long.fromNumber(cell.v) : cell.v;
}

function compareCells(a: KeyCell, b: KeyCell): number {
  if (a.t === b.t && (a.t === 'min' || a.t === 'max')) return 0;
  if (a.t === 'min' || b.t === 'max') return -1;
  if (a.t === 'max' || b.t === 'min') return 1;
  if (a.t === 'string' && b.t === 'string') return Buffer.compare(Buffer.from(a.v), Buffer.from(b.v));
  if (a.t === 'integer' && b.t === 'integer') return Math.sign(a.v - b.v);
  if (a.t === 'binary' && b.t === 'binary') return Buffer.compare(a.v, b.v);
  throw new OtsError(400, 'OTSParameterInvalid', `cannot compare ${a.t} with ${b.t}`);
}

function compareKeys(a: KeyCell[], b: KeyCell[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const order = compareCells(a[i] ?? INF_MIN, b[i] ?? INF_MIN);
    if (order !== 0) return order;
  }
  return 0;
}

/** A single-column condition's value: a PlainBuffer variant (type byte, then the value). */
function readVariant(bytes: Uint8Array): Cell {
  const buffer = Buffer.from(bytes);
  const stream = new TableStore.PlainBufferInputStream({ buffer, offset: 0, limit: buffer.length });
  const type = stream.readRawByte();
  if (type === C.VT_INTEGER) return { t: 'integer', v: stream.readInt64().toNumber() };
  if (type === C.VT_STRING) return { t: 'string', v: buffer.toString('utf8', 5, 5 + stream.readRawLittleEndian32()) };
  if (type === C.VT_BOOLEAN) return { t: 'boolean', v: buffer[1] !== 0 };
  throw new OtsError(400, 'OTSParameterInvalid', `unsupported condition value type ${type}`);
}

const OTS_API_VERSION = '2015-12-31';
const MAX_STRING_COLUMN_BYTES = 2 * 1024 * 1024;
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export class FakeTablestore {
  readonly tables = new Map<string, Table>();
  readonly calls: OtsCall[] = [];
  private readonly injected: OtsFault[] = [];
  private periodic: { every: number; fault: OtsFault; seen: number } | undefined;
  private failingBatchRows = 0;
  private requestCount = 0;
  private clock = 1_700_000_000_000;

  constructor(
    private readonly options: {
      endpoint: string;
      instance: string;
      keys: Record<string, { secret: string; stsToken?: string }>;
      /** At most this many rows per GetRange, like the service's 5,000 rows / 4 MB cut (default 5,000). */
      rowsPerCall?: number;
    },
  ) {}

  /** The next call of `action` fails with this error (once). */
  failNext(action: string, code: string, status: number): void {
    this.inject({ action, error: { code, status } });
  }

  /** The next `times` requests matching the fault meet it (a burst of throttling, say). */
  inject(fault: OtsFault, times = 1): void {
    for (let i = 0; i < times; i++) this.injected.push(fault);
  }

  /** Every `every`-th request matching the fault meets it, from now on (`undefined` stops it). */
  injectEvery(every: number | undefined, fault: OtsFault = {}): void {
    this.periodic = every === undefined ? undefined : { every, fault, seen: 0 };
  }

  /** In the next BatchGetRow, the first `count` rows fail alone (isOk false, OTSServerBusy), as the service may. */
  failBatchRowsNext(count: number): void {
    this.failingBatchRows = count;
  }

  handlers() {
    return [http.post(`${this.options.endpoint}/:action`, async ({ request, params }) => this.serve(String(params.action), request))];
  }

  private async serve(action: string, request: Request): Promise<Response> {
    const body = Buffer.from(await request.arrayBuffer());
    const call: OtsCall = { action, status: 200 };
    this.calls.push(call);
    try {
      call.stsToken = this.authenticate(action, request, body);
      const fault = this.faultFor(action);
      if (fault) return this.meet(fault, action, body, call);
      return this.reply(200, this.dispatch(action, body, call));
    } catch (err) {
      if (!(err instanceof OtsError)) throw err;
      call.status = err.status;
      call.errorCode = err.code;
      return this.reply(err.status, main.Error!.encode({ code: err.code, message: err.message }).finish());
    }
  }

  private dispatch(action: string, body: Buffer, call: OtsCall): Uint8Array {
    if (body.length > MAX_REQUEST_BYTES) throw new OtsError(400, 'OTSParameterInvalid', 'request body is over 4 MB');
    return this.route(action, body, call);
  }

  private faultFor(action: string): OtsFault | undefined {
    const queued = this.injected.findIndex((f) => f.action === undefined || f.action === action);
    if (queued >= 0) return this.injected.splice(queued, 1)[0];
    const periodic = this.periodic;
    if (!periodic || (periodic.fault.action !== undefined && periodic.fault.action !== action)) return undefined;
    periodic.seen += 1;
    return periodic.seen % periodic.every === 0 ? periodic.fault : undefined;
  }

  private meet(fault: OtsFault, action: string, body: Buffer, call: OtsCall): Response {
    if (fault.applied) {
      try {
        this.dispatch(action, body, call);
      } catch (err) {
        if (!(err instanceof OtsError)) throw err;
        call.errorCode = err.code;
      }
    }
    if (!fault.error) {
      call.fault = 'dropped';
      return HttpResponse.error();
    }
    call.fault = fault.error.code;
    throw new OtsError(fault.error.status, fault.error.code, fault.error.message ?? 'injected by the test');
  }

  private reply(status: number, body: Uint8Array): Response {
    const bytes = Buffer.from(body);
    return new HttpResponse(bytes, {
      status,
      headers: {
        'content-type': 'application/x-protobuf',
        'x-ots-requestid': `0005-fake-${++this.requestCount}`,
        'x-ots-contentmd5': createHash('md5').update(bytes).digest('base64'),
        'x-ots-contenttype': 'protocol buffer',
        'x-ots-date': new Date(this.clock).toISOString(),
      },
    });
  }

  /** Checks the x-ots-* headers and the signature the way the service does; returns the STS token sent. */
  private authenticate(action: string, request: Request, body: Buffer): string | undefined {
    const h = (name: string) => request.headers.get(name) ?? undefined;
    if (h('x-ots-apiversion') !== OTS_API_VERSION) throw new OtsError(400, 'OTSParameterInvalid', 'x-ots-apiversion');
    if (h('x-ots-instancename') !== this.options.instance) throw new OtsError(403, 'OTSAuthFailed', 'instance');
    if (h('x-ots-contentmd5') !== createHash('md5').update(body).digest('base64'))
      throw new OtsError(400, 'OTSParameterInvalid', 'content md5');
    if (!h('x-ots-date')) throw new OtsError(403, 'OTSAuthFailed', 'x-ots-date missing');
    const key = this.options.keys[h('x-ots-accesskeyid') ?? ''];
    if (!key) throw new OtsError(403, 'OTSAuthFailed', 'unknown access key');
    if (key.stsToken !== undefined && h('x-ots-ststoken') !== key.stsToken) throw new OtsError(403, 'OTSAuthFailed', 'STS token');
    const signed = [...request.headers.keys()]
      .filter((name) => name.startsWith('x-ots-') && name !== 'x-ots-signature')
      .sort()
      .map((name) => `${name}:${request.headers.get(name)}`)
      .join('\n');
    const expected = createHmac('sha1', key.secret).update(`/${action}\nPOST\n\n${signed}\n`).digest('base64');
    if (h('x-ots-signature') !== expected) throw new OtsError(403, 'OTSAuthFailed', 'signature mismatch');
    return h('x-ots-ststoken');
  }

  private route(action: string, body: Buffer, call: OtsCall): Uint8Array {
    const consumed = (read: number, write: number) => ({ capacityUnit: { read, write } });
    switch (action) {
      case 'CreateTable': {
        const req = main.CreateTableRequest!.decode(body);
        call.table = req.tableMeta.tableName;
        this.createTable(req);
        return main.CreateTableResponse!.encode({}).finish();
      }
      case 'UpdateTable': {
        const req = main.UpdateTableRequest!.decode(body);
        call.table = req.tableName;
        const table = this.table(String(req.tableName));
        const timeToLive = Number(req.tableOptions?.timeToLive ?? table.timeToLive);
        if (table.indexes.length > 0 && timeToLive !== -1)
          throw new OtsError(400, 'OTSParameterInvalid', 'a table with a secondary index needs timeToLive -1');
        table.timeToLive = timeToLive;
        return main
          .UpdateTableResponse!.encode({
            reservedThroughputDetails: { capacityUnit: { read: 0, write: 0 }, lastIncreaseTime: 0 },
            tableOptions: { timeToLive, maxVersions: 1 },
          })
          .finish();
      }
      case 'ListTable':
        return main.ListTableResponse!.encode({ tableNames: [...this.tables.keys()] }).finish();
      case 'PutRow': {
        const req = main.PutRowRequest!.decode(body);
        call.table = req.tableName;
        this.putRow(req, call);
        return main.PutRowResponse!.encode({ consumed: consumed(0, 1) }).finish();
      }
      case 'GetRow': {
        const req = main.GetRowRequest!.decode(body);
        call.table = req.tableName;
        const table = this.table(req.tableName);
        const row = table.rows.get(this.rowId(table, readPlainBuffer(req.primaryKey).primaryKey));
        return main
          .GetRowResponse!.encode({
            consumed: consumed(1, 0),
            row: row
              ? this.encodeRows(
                  [row],
                  table.primaryKey.map((p) => p.name),
                )
              : Buffer.alloc(0),
          })
          .finish();
      }
      case 'BatchGetRow': {
        const req = main.BatchGetRowRequest!.decode(body);
        let failing = this.failingBatchRows;
        this.failingBatchRows = 0;
        const tables = (req.tables as Array<{ tableName: string; primaryKey: Uint8Array[] }>).map(({ tableName, primaryKey }) => {
          const table = this.table(tableName);
          call.table = tableName;
          const rows = primaryKey.map((pk) => {
            if (failing > 0) {
              failing -= 1;
              return { isOk: false, error: { code: 'OTSServerBusy', message: 'Server is busy.' } };
            }
            const row = table.rows.get(this.rowId(table, readPlainBuffer(pk).primaryKey));
            return {
              isOk: true,
              consumed: consumed(1, 0),
              row: row
                ? this.encodeRows(
                    [row],
                    table.primaryKey.map((p) => p.name),
                  )
                : Buffer.alloc(0),
            };
          });
          return { tableName, rows };
        });
        return main.BatchGetRowResponse!.encode({ tables }).finish();
      }
      case 'GetRange': {
        const req = main.GetRangeRequest!.decode(body);
        call.table = req.tableName;
        call.direction = req.direction === main.Direction.BACKWARD ? 'BACKWARD' : 'FORWARD';
        call.limit = req.limit;
        return this.getRange(req, call.direction === 'BACKWARD');
      }
      default:
        throw new OtsError(400, 'OTSUnsupportOperation', `${action} is not served by this fake`);
    }
  }

  private createTable(req: Record<string, any>): void {
    const name = String(req.tableMeta.tableName);
    if (this.tables.has(name)) throw new OtsError(409, 'OTSObjectAlreadyExist', `Requested table already exists.`);
    const definedColumns = new Map<string, number>(
      (req.tableMeta.definedColumn ?? []).map((c: { name: string; type: number }) => [c.name, c.type]),
    );
    const primaryKey = (req.tableMeta.primaryKey as Array<{ name: string; type: number }>).map(({ name, type }) => ({ name, type }));
    const indexes = (req.indexMetas ?? []).map((meta: { name: string; primaryKey: string[] }) => {
      for (const column of meta.primaryKey) {
        if (!definedColumns.has(column) && !primaryKey.some((p) => p.name === column)) {
          throw new OtsError(
            400,
            'OTSParameterInvalid',
            `index ${meta.name}: column ${column} is neither a primary key nor a defined column`,
          );
        }
      }
      if (req.tableOptions?.maxVersions !== 1 || req.tableOptions?.timeToLive !== -1) {
        throw new OtsError(400, 'OTSParameterInvalid', 'a table with a secondary index needs maxVersions 1 and timeToLive -1');
      }
      return {
        name: meta.name,
        primaryKey: [...meta.primaryKey, ...primaryKey.map((p) => p.name).filter((p) => !meta.primaryKey.includes(p))],
      };
    });
    this.tables.set(name, {
      name,
      primaryKey,
      definedColumns,
      indexes,
      rows: new Map(),
      timeToLive: Number(req.tableOptions?.timeToLive ?? -1),
    });
  }

  private table(name: string): Table {
    const table = this.tables.get(name);
    if (!table) throw new OtsError(404, 'OTSObjectNotExist', `Requested table does not exist.`);
    return table;
  }

  private rowId(table: Table, primaryKey: DecodedRow['primaryKey']): string {
    const names = primaryKey.map((c) => c.name);
    if (names.join() !== table.primaryKey.map((p) => p.name).join()) {
      throw new OtsError(400, 'OTSParameterInvalid', `primary key [${names}] does not match the schema of ${table.name}`);
    }
    const cells = primaryKey.map((c) => toCell(c.value));
    if (cells.some((cell) => cell.t === 'string' && Buffer.byteLength(cell.v) > 1024))
      throw new OtsError(400, 'OTSParameterInvalid', 'a string primary key is over 1 KB');
    return JSON.stringify(cells);
  }

  private putRow(req: Record<string, any>, call: OtsCall): void {
    const table = this.table(req.tableName);
    const decoded = readPlainBuffer(req.row);
    const id = this.rowId(table, decoded.primaryKey);
    const existing = table.rows.get(id);
    const rowExistence = req.condition.rowExistence as number;
    call.condition = { rowExistence };
    if (rowExistence === main.RowExistenceExpectation.EXPECT_EXIST && !existing)
      throw new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');
    if (rowExistence === main.RowExistenceExpectation.EXPECT_NOT_EXIST && existing)
      throw new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');
    if (req.condition.columnCondition?.length) {
      const filter = filters.Filter!.decode(req.condition.columnCondition);
      if (filter.type !== filters.FilterType.FT_SINGLE_COLUMN_VALUE)
        throw new OtsError(400, 'OTSParameterInvalid', 'only single-column conditions are served');
      const single = filters.SingleColumnValueFilter!.decode(filter.filter);
      const value = readVariant(single.columnValue);
      call.condition.column = { name: single.columnName, comparator: single.comparator, value, passIfMissing: !single.filterIfMissing };
      const current = existing?.columns.get(single.columnName)?.cell;
      const pass = current === undefined ? !single.filterIfMissing : this.compareCondition(current, value, single.comparator);
      if (!pass) throw new OtsError(403, 'OTSConditionCheckFail', 'Condition check failed.');
    }
    const timestamp = ++this.clock;
    const columns = new Map<string, { cell: Cell; timestamp: number }>();
    for (const attribute of decoded.attributes) {
      const cell = toCell(attribute.columnValue);
      if (cell.t === 'string' && Buffer.byteLength(cell.v) > MAX_STRING_COLUMN_BYTES) {
        throw new OtsError(400, 'OTSParameterInvalid', `column ${attribute.columnName} is over 2 MB`);
      }
      const definedType = table.definedColumns.get(attribute.columnName);
      const expectedKind =
        definedType === undefined
          ? undefined
          : ({ 1: 'integer', 2: 'double', 3: 'boolean', 4: 'string' } as Record<number, string>)[definedType];
      if (expectedKind && expectedKind !== cell.t)
        throw new OtsError(400, 'OTSParameterInvalid', `defined column ${attribute.columnName} must be ${expectedKind}`);
      columns.set(attribute.columnName, { cell, timestamp });
    }
    table.rows.set(id, { pk: new Map(decoded.primaryKey.map((c) => [c.name, toCell(c.value)])), columns });
  }

  private compareCondition(current: Cell, value: Cell, comparator: number): boolean {
    const order = compareCells(current, value);
    const T = filters.ComparatorType;
    return comparator === T.CT_EQUAL
      ? order === 0
      : comparator === T.CT_NOT_EQUAL
        ? order !== 0
        : comparator === T.CT_GREATER_THAN
          ? order > 0
          : comparator === T.CT_GREATER_EQUAL
            ? order >= 0
            : comparator === T.CT_LESS_THAN
              ? order < 0
              : order <= 0;
  }

  /** The rows of a table or of a global index (derived from its table's rows), sorted by key. */
  private keyedRows(name: string): { keyNames: string[]; rows: Array<{ key: Cell[]; row: StoredRow }> } {
    for (const table of this.tables.values()) {
      const index = table.indexes.find((i) => i.name === name);
      if (!index) continue;
      const rows: Array<{ key: Cell[]; row: StoredRow }> = [];
      for (const row of table.rows.values()) {
        const key = index.primaryKey.map((column) => row.pk.get(column) ?? row.columns.get(column)?.cell);
        if (key.some((cell) => cell === undefined)) continue;
        rows.push({ key: key as Cell[], row: { pk: new Map(index.primaryKey.map((c, i) => [c, key[i]!])), columns: new Map() } });
      }
      return { keyNames: index.primaryKey, rows: rows.sort((a, b) => compareKeys(a.key, b.key)) };
    }
    const table = this.table(name);
    const keyNames = table.primaryKey.map((p) => p.name);
    const rows = [...table.rows.values()].map((row) => ({ key: keyNames.map((n) => row.pk.get(n)!), row }));
    return { keyNames, rows: rows.sort((a, b) => compareKeys(a.key, b.key)) };
  }

  private getRange(req: Record<string, any>, backward: boolean): Uint8Array {
    const { keyNames, rows } = this.keyedRows(req.tableName);
    const bound = (bytes: Uint8Array) => {
      const pk = readPlainBuffer(bytes).primaryKey;
      if (pk.map((c) => c.name).join() !== keyNames.join())
        throw new OtsError(400, 'OTSParameterInvalid', `range key [${pk.map((c) => c.name)}] does not match [${keyNames}]`);
      return pk.map((c) => toKeyCell(c.value));
    };
    const start = bound(req.inclusiveStartPrimaryKey);
    const end = bound(req.exclusiveEndPrimaryKey);
    const ordered = backward ? [...rows].reverse() : rows;
    const inRange = ordered.filter(({ key }) =>
      backward ? compareKeys(key, start) <= 0 && compareKeys(key, end) > 0 : compareKeys(key, start) >= 0 && compareKeys(key, end) < 0,
    );
    const cap = this.options.rowsPerCall ?? 5_000;
    const limit = req.limit && req.limit > 0 ? Math.min(req.limit, cap) : cap;
    const page = inRange.slice(0, limit);
    const following = inRange[limit];
    return main
      .GetRangeResponse!.encode({
        consumed: { capacityUnit: { read: Math.max(1, page.length), write: 0 } },
        rows: page.length
          ? this.encodeRows(
              page.map((p) => p.row),
              keyNames,
            )
          : Buffer.alloc(0),
        ...(following
          ? {
              nextStartPrimaryKey: TableStore.PlainBufferBuilder.serializePrimaryKey(
                keyNames.map((n, i) => ({ [n]: fromCell(following.key[i]!) as never })),
              ),
            }
          : {}),
      })
      .finish();
  }

  /** Rows as one PlainBuffer: a header, then each row (the SDK's builder writes one header per row). */
  private encodeRows(rows: StoredRow[], keyNames: string[]): Buffer {
    const parts = rows.map((row) => {
      const pk: PrimaryKeyInput = keyNames.map((n) => ({ [n]: fromCell(row.pk.get(n)!) as never }));
      const attributes = [...row.columns].map(([name, { cell, timestamp }]) => ({ [name]: fromCell(cell), timestamp }));
      return TableStore.PlainBufferBuilder.serializeForPutRow(pk, attributes);
    });
    return Buffer.concat(parts.map((part, i) => (i === 0 ? part : part.subarray(4))));
  }
}

/** Where a test's Tablestore instance lives on the fake, and the STS keys it is reached with. */
export interface FakeInstanceAddress {
  endpoint: string;
  instance: string;
  prefix: string;
  key: { accessKeyId: string; accessKeySecret: string; securityToken: string };
}

/** Backoff that takes no real time: the sleeper records each delay and moves the store's clock on. */
export function instantBackoff(clock = new ManualClock(1_000_000)): {
  clock: ManualClock;
  sleeps: number[];
  sleep: (ms: number) => Promise<void>;
} {
  const sleeps: number[] = [];
  return {
    clock,
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
  };
}

/** What a Tablestore adapter takes to reach the fake at `at`, retrying on the given instant backoff. */
export function adapterOptions(
  at: FakeInstanceAddress,
  backoff: { clock: ManualClock; sleep: (ms: number) => Promise<void> } = instantBackoff(),
) {
  return {
    region: 'cn-hangzhou',
    instance: at.instance,
    tablePrefix: at.prefix,
    endpoint: at.endpoint,
    credentials: staticCredentials(at.key),
    clock: backoff.clock,
    sleep: backoff.sleep,
  };
}

/** The cloud run store against the fake at `at`, retrying on the given instant backoff. */
export function runStoreOn(
  at: FakeInstanceAddress,
  backoff: { clock: ManualClock; sleep: (ms: number) => Promise<void> },
  overrides: Partial<TablestoreRunStoreOptions> = {},
): TablestoreRunStore {
  return createTablestoreRunStore({ ...adapterOptions(at, backoff), ...overrides });
}
