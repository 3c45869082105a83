import TableStore, { type DecodedRow, type PrimaryKeyInput } from 'tablestore';
import { TricenterError, type ErrorCode } from '../../../platform/errors.ts';

/**
 * Row-level helpers of the Tablestore run store: table names, the JSON body split across columns,
 * and opaque cursors made of `next_start_primary_key` (errors: tablestore-errors.ts).
 *
 * Large documents: Tablestore caps one string column at 2 MB and one request at 4 MB, and a release
 * carries every rendered manifest of every cluster. The JSON document is split into string columns
 * `body_0..body_{n-1}` of at most BODY_CHUNK_BYTES (cut on UTF-8 character boundaries) with
 * `body_chunks = n`; a document over MAX_BODY_BYTES is refused with an error naming the row and the
 * sizes, before any request is sent.
 */

export const BODY_CHUNK_BYTES = 1_000_000;
export const MAX_BODY_BYTES = 3_500_000;

export interface TableNames {
  releases: string;
  runs: string;
  taskReports: string;
  apps: string;
  ingests: string;
  trafficClaims: string;
  rejectedUploads: string;
  trafficHistory: string;
  releasesByApp: string;
  runsByApp: string;
}

const TABLE_PREFIX = /^[A-Za-z_][A-Za-z0-9_]{0,200}$/;

export function tableNames(prefix: string): TableNames {
  if (!TABLE_PREFIX.test(prefix)) {
    throw new TricenterError(
      'VALIDATION',
      `Tablestore table prefix "${prefix}" is not valid: use letters, digits and underscores, not starting with a digit`,
    );
  }
  return {
    releases: `${prefix}releases`,
    runs: `${prefix}runs`,
    taskReports: `${prefix}task_reports`,
    apps: `${prefix}apps`,
    ingests: `${prefix}ingests`,
    trafficClaims: `${prefix}traffic_claims`,
    rejectedUploads: `${prefix}rejected_uploads`,
    trafficHistory: `${prefix}traffic_history`,
    releasesByApp: `${prefix}releases_by_app`,
    runsByApp: `${prefix}runs_by_app`,
  };
}

/** The attribute columns that carry `document` as JSON, split into chunks. */
export function bodyColumns(document: unknown, describe: string, tooLargeCode: ErrorCode): Array<Record<string, unknown>> {
  const bytes = Buffer.from(JSON.stringify(document), 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw new TricenterError(
      tooLargeCode,
      `${describe} is ${bytes.byteLength} bytes as JSON, over the Tablestore row limit of ${MAX_BODY_BYTES} bytes this store accepts (4 MB per request)`,
    );
  }
  const chunks: string[] = [];
  let start = 0;
  while (start < bytes.byteLength) {
    let end = Math.min(bytes.byteLength, start + BODY_CHUNK_BYTES);
    // Never cut inside a UTF-8 sequence: continuation bytes are 0b10xxxxxx.
    while (end < bytes.byteLength && ((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
    chunks.push(bytes.subarray(start, end).toString('utf8'));
    start = end;
  }
  return [{ body_chunks: TableStore.Long.fromNumber(chunks.length) }, ...chunks.map((chunk, i) => ({ [`body_${i}`]: chunk }))];
}

export type RowAttributes = Map<string, DecodedRow['attributes'][number]['columnValue']>;

export function attributesOf(row: Partial<DecodedRow>): RowAttributes | undefined {
  if (!row.primaryKey || row.primaryKey.length === 0) return undefined;
  return new Map((row.attributes ?? []).map((a) => [a.columnName, a.columnValue]));
}

export function integerColumn(attributes: RowAttributes, name: string, where: string): number {
  const value = attributes.get(name);
  if (value && typeof value === 'object' && 'toNumber' in value) return value.toNumber();
  throw new TricenterError('INTERNAL', `${where}: column ${name} is missing or not an INTEGER`);
}

export function bodyOf<T>(attributes: RowAttributes, where: string): T {
  const chunks = integerColumn(attributes, 'body_chunks', where);
  let json = '';
  for (let i = 0; i < chunks; i++) {
    const chunk = attributes.get(`body_${i}`);
    if (typeof chunk !== 'string') throw new TricenterError('INTERNAL', `${where}: column body_${i} of ${chunks} is missing`);
    json += chunk;
  }
  return JSON.parse(json) as T;
}

type CursorCell = [name: string, type: 's' | 'i', value: string | number];

export function encodeCursor(primaryKey: DecodedRow['primaryKey']): string {
  const cells: CursorCell[] = primaryKey.map(({ name, value }) =>
    typeof value === 'string' ? [name, 's', value] : [name, 'i', (value as { toNumber(): number }).toNumber()],
  );
  return Buffer.from(JSON.stringify(cells)).toString('base64url');
}

/** The primary key a cursor stands for; refuses cursors of another shape or (for listings by app) another app. */
export function decodeCursor(cursor: string, columns: readonly string[], firstValue?: string): PrimaryKeyInput {
  const refuse = (cause?: unknown) =>
    new TricenterError('VALIDATION', `cursor "${cursor}" is not one this store returned for this listing`, { cause });
  let cells: CursorCell[];
  try {
    cells = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorCell[];
  } catch (err) {
    throw refuse(err);
  }
  if (!Array.isArray(cells) || cells.length !== columns.length || cells.some((cell, i) => !Array.isArray(cell) || cell[0] !== columns[i]))
    throw refuse();
  if (firstValue !== undefined && cells[0]?.[2] !== firstValue) throw refuse();
  return cells.map(([name, type, value]) => ({ [name]: type === 'i' ? TableStore.Long.fromNumber(Number(value)) : String(value) }));
}
