import { createHash } from 'node:crypto';
import TableStore, { type DecodedRow, type PrimaryKeyInput } from 'tablestore';
import { ConflictError, TricenterError, type ErrorCode } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import { appKey, type AppRef } from '../../model/ownership.ts';
import {
  DEFAULT_INGEST_STALE_AFTER_MS,
  idempotencyKeyRowId,
  ingestKeyString,
  type AppRecord,
  type IdempotencyClaim,
  type IngestClaim,
  type IngestKey,
  type IngestRecord,
  type IngestResult,
  type Release,
  type RejectedUpload,
} from '../../model/records.ts';
import { pageLimit, type Page, type PageRequest } from '../../../platform/page.ts';
import type { TrafficClaim } from '../../../traffic/domain/claims.ts';
import type { RunStore } from '../../ports/run-store.port.ts';
import type { StoredTrafficRecord, TrafficRecord } from '../../../traffic/domain/types.ts';
import type { TrafficHistoryStore } from '../../../traffic/ports/traffic-history.port.ts';
import type { Run, TaskReport } from '../../workflow/run.ts';
import type { CredentialsProvider } from '../../../platform/credentials.ts';
import { putVersioned, targetCalls, type TablestoreCalls, type TablestoreCallsOptions } from './tablestore-client.ts';
import { DEFAULT_TABLE_PREFIX, otsEndpoint } from './ots-endpoint.ts';
import {
  attributesOf,
  bodyColumns,
  bodyOf,
  decodeCursor,
  encodeCursor,
  integerColumn,
  tableNames,
  type RowAttributes,
  type TableNames,
} from './tablestore-rows.ts';

/**
 * The RunStore over Tablestore (wide-column, `tablestore` SDK). Tables (see `createTables`):
 *
 *   <prefix>releases  pk [id]          app_key, created_at (INTEGER), body_chunks, body_0..n
 *   <prefix>runs      pk [id]          app_key, created_at, version (INTEGER), body_chunks, body_0..n
 *   <prefix>task_reports pk [task]     version (= the attempt), body_chunks, body_0..n  (task = taskReportRowKey)
 *   <prefix>apps      pk [app]         version, body_chunks, body_0..n       (app = "namespace/name")
 *   <prefix>ingests   pk [ingest_key]  version, body_chunks, body_0..n       (bucket/key@etag; its SHA-256 over 1 KB)
 *   <prefix>traffic_claims    pk [resource]  version, body_chunks, body_0..n  (a released claim stays as a row holding null)
 *   <prefix>rejected_uploads  pk [upload]    body_chunks, body_0..n           (see rejectedUploadRowKey)
 *   <prefix>traffic_history   pk [app]       version, body_chunks, body_0..n  (the traffic reconciler's memory, apart from the workflow's app row)
 *   global secondary indexes <prefix>releases_by_app / <prefix>runs_by_app: pk [app_key, created_at, id]
 *   every row also holds write_token, the id of the write that put it (see TablestoreCalls.putRow)
 *
 * Reads by id (every task reads its run) are single-row and strongly consistent; listings by app
 * range-read the index BACKWARD (newest first, ties by id descending) and then read the page's
 * rows with one BatchGetRow. A
 * global index follows its table asynchronously (milliseconds), so a run created a moment ago can
 * be missing from a listing for that long; nothing decides on listings alone.
 *
 * Every write is one PutRow with a row condition: creation EXPECT_NOT_EXIST; replacement
 * EXPECT_EXIST plus `version == expected` on the INTEGER version column. A failed condition
 * (HTTP 403 OTSConditionCheckFail) becomes ConflictError. The body replaces the whole row, so a
 * document that shrank leaves no stale chunk behind. Every call goes through TablestoreCalls
 * (tablestore-client.ts): decoded errors, retries within a time budget, writes safe to retry.
 */
export interface TablestoreRunStoreOptions extends TablestoreCallsOptions {
  /** Region of the instance, e.g. cn-hangzhou (used for the default endpoint). */
  region: string;
  /** Tablestore instance name. */
  instance: string;
  /** Table name prefix (default `tricenter_`). */
  tablePrefix?: string;
  credentials: CredentialsProvider;
  /** Overrides `https://<instance>.<region>.ots.aliyuncs.com` (a VPC endpoint, or a test server). */
  endpoint?: string;
}

/**
 * The primary key of an ingest row. A string primary-key column holds at most 1 KB and an OSS key
 * alone may be 1,023 bytes, so longer ingest keys are stored under their SHA-256 (the row's body
 * keeps the whole key).
 */
function ingestRowKey(id: string): string {
  return Buffer.byteLength(id, 'utf8') <= 1024 ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

/**
 * The primary key of a rejected upload: `["<key>","<bucket>","<etag>"]` as JSON, so that a range
 * read on the JSON of a folder's prefix (`["bundles/rt/`) finds exactly that folder's keys. Over
 * 1 KB the row key keeps its first 900 bytes (the order and the prefix) and adds the SHA-256 of
 * the whole (uniqueness).
 */
function rejectedUploadRowKey(source: { bucket: string; key: string; etag: string }): string {
  const id = JSON.stringify([source.key, source.bucket, source.etag]);
  const bytes = Buffer.from(id, 'utf8');
  if (bytes.byteLength <= 1024) return id;
  let end = 900;
  while (((bytes[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return `${bytes.subarray(0, end).toString('utf8')}#sha256:${createHash('sha256').update(id).digest('hex')}`;
}

/** The row-key range of the rejected uploads whose key starts with `keyPrefix`. */
function rejectedUploadRange(keyPrefix: string): { start: string; end: string } {
  const start = JSON.stringify([keyPrefix]).slice(0, -2);
  const last = start.codePointAt(start.length - 1) ?? 0;
  return { start, end: `${start.slice(0, -1)}${String.fromCodePoint(last + 1)}` };
}

/**
 * The primary key of a task report: `["<runId>","<step>","<cluster>"]` as JSON, so that a range read
 * on `["<runId>","<step>",` finds exactly that step's rows (a step or cluster name may hold any character).
 */
function taskReportRowKey(runId: string, step: string, cluster: string): string {
  return JSON.stringify([runId, step, cluster]);
}

/** The row-key range of one step's task reports: from `["run","step",` up to `["run","step"-` (',' + 1). */
function taskReportRange(runId: string, step: string): { start: string; end: string } {
  const start = `${JSON.stringify([runId, step]).slice(0, -1)},`;
  return { start, end: `${start.slice(0, -1)}-` };
}

type TaskReportRow = TaskReport & Versioned;

function withoutVersion({ version: _version, ...report }: TaskReportRow): TaskReport {
  return report;
}

export function createTablestoreRunStore(options: TablestoreRunStoreOptions): TablestoreRunStore {
  return new TablestoreRunStore(options);
}

type Versioned = { version: number };
/** A traffic claim's row: `claim` null once released. */
type ClaimRow = { claim: TrafficClaim | null; version: number };

export class TablestoreRunStore implements RunStore {
  readonly tables: TableNames;
  /** The traffic history, in its own table: its writes never conflict with the workflow's. */
  readonly trafficHistory: TrafficHistoryStore = {
    get: async (app) => {
      const key = appKey(app);
      const row = await this.readVersioned<StoredTrafficRecord>(this.tables.trafficHistory, [{ app: key }], `traffic history ${key}`);
      return row && { record: row.record, version: row.version };
    },
    put: async (app, record: TrafficRecord, expectedVersion) => {
      const key = appKey(app);
      const stored: StoredTrafficRecord = { record, version: (expectedVersion ?? 0) + 1 };
      await this.write(this.tables.trafficHistory, [{ app: key }], stored, `traffic history ${key}`, expectedVersion, {
        conflict: `traffic history of ${key} changed meanwhile (expected version ${expectedVersion ?? 'none'})`,
      });
      return stored.version;
    },
  };
  private readonly logger: Logger;
  private readonly calls: TablestoreCalls;
  private readonly forgetClient: () => void;

  constructor(options: TablestoreRunStoreOptions) {
    this.tables = tableNames(options.tablePrefix ?? DEFAULT_TABLE_PREFIX);
    this.logger = (options.logger ?? silentLogger).child({ component: 'tablestore-run-store' });
    const endpoint = options.endpoint ?? otsEndpoint({ region: options.region, instance: options.instance });
    const target = targetCalls({ endpoint, instance: options.instance, credentials: options.credentials }, options);
    this.calls = target.calls;
    this.forgetClient = target.forget;
  }

  async putRelease(release: Release): Promise<void> {
    await this.write(this.tables.releases, [{ id: release.id }], release, `release ${release.id}`, null, {
      indexed: { app: release.app, createdAt: release.createdAt },
      tooLarge: 'BUNDLE_TOO_LARGE',
      conflict: `release ${release.id} already exists`,
    });
  }

  async getRelease(id: string): Promise<Release | undefined> {
    const attributes = await this.read(this.tables.releases, [{ id }], `release ${id}`);
    return attributes ? bodyOf<Release>(attributes, `release ${id}`) : undefined;
  }

  listReleases(app: AppRef, page?: PageRequest): Promise<Page<Release>> {
    return this.newestFirst(this.tables.releasesByApp, this.tables.releases, app, page, (attributes, id) =>
      bodyOf<Release>(attributes, `release ${id}`),
    );
  }

  async createRun(run: Run): Promise<Run> {
    const stored: Run = { ...run, version: 1 };
    await this.write(this.tables.runs, [{ id: run.id }], stored, `run ${run.id}`, null, {
      indexed: { app: run.app, createdAt: run.createdAt },
      conflict: `run ${run.id} already exists`,
    });
    return stored;
  }

  async getRun(id: string): Promise<Run | undefined> {
    return this.readVersioned<Run>(this.tables.runs, [{ id }], `run ${id}`);
  }

  async updateRun(run: Run, expectedVersion: number): Promise<Run> {
    const stored: Run = { ...run, version: expectedVersion + 1 };
    await this.write(this.tables.runs, [{ id: run.id }], stored, `run ${run.id}`, expectedVersion, {
      indexed: { app: run.app, createdAt: run.createdAt },
      conflict: `run ${run.id} changed since version ${expectedVersion} was read (or does not exist)`,
    });
    return stored;
  }

  listRuns(app: AppRef, page?: PageRequest): Promise<Page<Run>> {
    return this.newestFirst(this.tables.runsByApp, this.tables.runs, app, page, (attributes, id) => ({
      ...bodyOf<Run>(attributes, `run ${id}`),
      version: integerColumn(attributes, 'version', `run ${id}`),
    }));
  }

  async recordTaskReport(report: TaskReport): Promise<TaskReport> {
    const id = taskReportRowKey(report.runId, report.step, report.cluster);
    const describe = `task report ${report.runId}/${report.step}/${report.cluster}`;
    // The row's version column is the attempt: replaced only at the version read, and only by a later attempt.
    for (let tries = 1; tries <= 5; tries++) {
      const stored = await this.readVersioned<TaskReportRow>(this.tables.taskReports, [{ task: id }], describe);
      if (stored && stored.attempt >= report.attempt) return withoutVersion(stored);
      try {
        const row: TaskReportRow = { ...report, version: report.attempt };
        await this.write(this.tables.taskReports, [{ task: id }], row, describe, stored ? stored.version : null, {
          conflict: `${describe} changed meanwhile`,
        });
        return report;
      } catch (err) {
        if (!(err instanceof TricenterError && err.code === 'CONFLICT')) throw err;
      }
    }
    throw new ConflictError(`${describe}: still conflicting after 5 attempts`);
  }

  async getTaskReport(runId: string, step: string, cluster: string): Promise<TaskReport | undefined> {
    const row = await this.readVersioned<TaskReportRow>(
      this.tables.taskReports,
      [{ task: taskReportRowKey(runId, step, cluster) }],
      `task report ${runId}/${step}/${cluster}`,
    );
    return row && withoutVersion(row);
  }

  async listTaskReports(runId: string, step: string): Promise<TaskReport[]> {
    const { start, end } = taskReportRange(runId, step);
    const reports: TaskReport[] = [];
    let from: PrimaryKeyInput | undefined = [{ task: start }];
    while (from) {
      const { rows, next } = await this.range(this.tables.taskReports, 'FORWARD', from, [{ task: end }], 1_000);
      for (const row of rows) reports.push(withoutVersion(bodyOf<TaskReportRow>(attributesOf(row)!, this.tables.taskReports)));
      from = next ? next.map(({ name, value }) => ({ [name]: value })) : undefined;
    }
    return reports;
  }

  getApp(app: AppRef): Promise<AppRecord | undefined> {
    return this.readVersioned<AppRecord>(this.tables.apps, [{ app: appKey(app) }], `app ${appKey(app)}`);
  }

  async saveApp(record: AppRecord, expectedVersion: number | null): Promise<AppRecord> {
    const key = appKey(record.app);
    const stored: AppRecord = { ...record, version: (expectedVersion ?? 0) + 1 };
    await this.write(this.tables.apps, [{ app: key }], stored, `app ${key}`, expectedVersion, {
      conflict:
        expectedVersion === null
          ? `app ${key} already has a record`
          : `app ${key} changed since version ${expectedVersion} was read (or has no record)`,
    });
    return stored;
  }

  async listApps(page?: PageRequest): Promise<Page<AppRecord>> {
    const limit = pageLimit(page);
    const start: PrimaryKeyInput = page?.cursor === undefined ? [{ app: TableStore.INF_MIN }] : decodeCursor(page.cursor, ['app']);
    const { rows, next } = await this.range(this.tables.apps, 'FORWARD', start, [{ app: TableStore.INF_MAX }], limit);
    const items = rows.map((row) => {
      const attributes = attributesOf(row)!;
      return { ...bodyOf<AppRecord>(attributes, this.tables.apps), version: integerColumn(attributes, 'version', this.tables.apps) };
    });
    return { items, ...(next ? { nextCursor: encodeCursor(next) } : {}) };
  }

  async claimIngest(key: IngestKey, now: number, options: { staleAfterMs?: number } = {}): Promise<IngestClaim> {
    const id = ingestKeyString(key);
    const pk = [{ ingest_key: ingestRowKey(id) }];
    const fresh: IngestRecord = { key, status: 'in-progress', claimedAt: now, version: 1 };
    if (await this.tryWrite(pk, fresh, null, id)) return { claimed: true, record: fresh };

    const existing = await this.readIngest(id);
    const staleAfterMs = options.staleAfterMs ?? DEFAULT_INGEST_STALE_AFTER_MS;
    if (existing.status !== 'in-progress' || existing.claimedAt + staleAfterMs > now) return { claimed: false, record: existing };
    const takenOver: IngestRecord = { key, status: 'in-progress', claimedAt: now, version: existing.version + 1 };
    if (await this.tryWrite(pk, takenOver, existing.version, id)) return { claimed: true, record: takenOver };
    return { claimed: false, record: await this.readIngest(id) };
  }

  async completeIngest(record: IngestRecord, result: IngestResult, now: number): Promise<IngestRecord> {
    const id = ingestKeyString(record.key);
    const completed: IngestRecord = { ...record, status: 'completed', completedAt: now, result, version: record.version + 1 };
    await this.write(this.tables.ingests, [{ ingest_key: ingestRowKey(id) }], completed, `ingest ${id}`, record.version, {
      conflict: `ingest ${id} was taken over or completed by another caller`,
    });
    return completed;
  }

  getIngest(key: IngestKey): Promise<IngestRecord | undefined> {
    const id = ingestKeyString(key);
    return this.readVersioned<IngestRecord>(this.tables.ingests, [{ ingest_key: ingestRowKey(id) }], `ingest ${id}`);
  }

  async claimIdempotencyKey(key: string, request: string, now: number): Promise<IdempotencyClaim> {
    const id = idempotencyKeyRowId(key);
    const pk = [{ ingest_key: ingestRowKey(id) }];
    try {
      await this.write(this.tables.ingests, pk, { request, claimedAt: now }, id, null, { conflict: `${id} is bound` });
      return { claimed: true, request, claimedAt: now };
    } catch (err) {
      if (!(err instanceof TricenterError && err.code === 'CONFLICT')) throw err;
    }
    const attributes = await this.read(this.tables.ingests, pk, id);
    if (!attributes) throw new TricenterError('INTERNAL', `${id} vanished after its claim was refused`);
    const first = bodyOf<{ request: string; claimedAt: number }>(attributes, id);
    return { claimed: false, request: first.request, claimedAt: first.claimedAt };
  }

  async close(): Promise<void> {
    this.forgetClient();
  }

  async recordRejectedUpload(upload: RejectedUpload): Promise<RejectedUpload> {
    const id = rejectedUploadRowKey(upload.source);
    const describe = `rejected upload ${upload.source.bucket}/${upload.source.key}@${upload.source.etag}`;
    try {
      await this.write(this.tables.rejectedUploads, [{ upload: id }], upload, describe, null, { conflict: `${describe} is recorded` });
      return upload;
    } catch (err) {
      if (!(err instanceof TricenterError) || err.code !== 'CONFLICT') throw err;
    }
    const attributes = await this.read(this.tables.rejectedUploads, [{ upload: id }], describe);
    if (!attributes) throw new TricenterError('INTERNAL', `${describe} vanished after its write was refused`);
    return bodyOf<RejectedUpload>(attributes, describe);
  }

  async listRejectedUploads(keyPrefix: string, page?: PageRequest): Promise<Page<RejectedUpload>> {
    const { start, end } = rejectedUploadRange(keyPrefix);
    const from: PrimaryKeyInput = page?.cursor === undefined ? [{ upload: start }] : decodeCursor(page.cursor, ['upload']);
    // A cursor of another folder's listing would start the range outside this folder.
    const cursorKey = String((from[0] as { upload: unknown }).upload);
    if (cursorKey < start || cursorKey >= end)
      throw new TricenterError('VALIDATION', `cursor "${page?.cursor}" is not one this store returned for ${keyPrefix}`);
    const { rows, next } = await this.range(this.tables.rejectedUploads, 'FORWARD', from, [{ upload: end }], pageLimit(page));
    const items = rows.map((row) => bodyOf<RejectedUpload>(attributesOf(row)!, this.tables.rejectedUploads));
    return { items, ...(next ? { nextCursor: encodeCursor(next) } : {}) };
  }

  async claimTraffic(claim: TrafficClaim): Promise<TrafficClaim> {
    // A released claim stays as a row holding null (a write needs no DeleteRow permission): it is taken at its version.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const row = await this.readVersioned<ClaimRow>(
        this.tables.trafficClaims,
        [{ resource: claim.resource }],
        `traffic claim ${claim.resource}`,
      );
      if (row?.claim) return row.claim;
      if (await this.tryClaimWrite(claim.resource, { claim, version: (row?.version ?? 0) + 1 }, row ? row.version : null)) return claim;
    }
    throw new ConflictError(`traffic claim ${claim.resource}: still conflicting after 5 attempts`);
  }

  async getTrafficClaim(resource: string): Promise<TrafficClaim | undefined> {
    const row = await this.readVersioned<ClaimRow>(this.tables.trafficClaims, [{ resource }], `traffic claim ${resource}`);
    return row?.claim ?? undefined;
  }

  async releaseTrafficClaims(app: AppRef): Promise<TrafficClaim[]> {
    const released: TrafficClaim[] = [];
    // Claims are few (two per application with a TrafficPolicy): one scan finds an application's.
    let from: PrimaryKeyInput | undefined = [{ resource: TableStore.INF_MIN }];
    while (from) {
      const { rows, next } = await this.range(this.tables.trafficClaims, 'FORWARD', from, [{ resource: TableStore.INF_MAX }], 100);
      for (const row of rows) {
        const resource = String(row.primaryKey[0]?.value);
        const attributes = attributesOf(row)!;
        const stored: ClaimRow = {
          ...bodyOf<ClaimRow>(attributes, `traffic claim ${resource}`),
          version: integerColumn(attributes, 'version', `traffic claim ${resource}`),
        };
        if (
          stored.claim &&
          appKey(stored.claim.app) === appKey(app) &&
          (await this.tryClaimWrite(resource, { claim: null, version: stored.version + 1 }, stored.version))
        ) {
          released.push(stored.claim);
        }
      }
      from = next ? next.map(({ name, value }) => ({ [name]: value })) : undefined;
    }
    return released;
  }

  /** The SDK client for the credentials valid now (STS keys change between invocations). */
  private async write(
    table: string,
    primaryKey: PrimaryKeyInput,
    document: unknown,
    describe: string,
    expectedVersion: number | null,
    extra: { conflict: string; indexed?: { app: AppRef; createdAt: number }; tooLarge?: ErrorCode },
  ): Promise<void> {
    const columns = bodyColumns(document, describe, extra.tooLarge ?? 'VALIDATION');
    if ((document as Partial<Versioned>).version !== undefined)
      columns.unshift({ version: TableStore.Long.fromNumber((document as Versioned).version) });
    if (extra.indexed) {
      columns.unshift({ app_key: appKey(extra.indexed.app) }, { created_at: TableStore.Long.fromNumber(extra.indexed.createdAt) });
    }
    await putVersioned(this.calls, this.logger, {
      table,
      describe,
      primaryKey,
      attributeColumns: columns,
      expectedVersion,
      conflict: extra.conflict,
    });
  }

  /** An ingest write whose condition failure is an answer, not an error. */
  private async tryWrite(primaryKey: PrimaryKeyInput, record: IngestRecord, expectedVersion: number | null, id: string): Promise<boolean> {
    try {
      await this.write(this.tables.ingests, primaryKey, record, `ingest ${id}`, expectedVersion, { conflict: `ingest ${id} is claimed` });
      return true;
    } catch (err) {
      if (err instanceof TricenterError && err.code === 'CONFLICT') return false;
      throw err;
    }
  }

  private async read(table: string, primaryKey: PrimaryKeyInput, describe: string) {
    const { row } = await this.calls.retry(`GetRow ${table} (${describe})`, (sdk) =>
      sdk.getRow({ tableName: table, primaryKey, maxVersions: 1 }),
    );
    return attributesOf(row);
  }

  private async readVersioned<T extends Versioned>(table: string, primaryKey: PrimaryKeyInput, describe: string): Promise<T | undefined> {
    const attributes = await this.read(table, primaryKey, describe);
    if (!attributes) return undefined;
    return { ...bodyOf<T>(attributes, describe), version: integerColumn(attributes, 'version', describe) };
  }

  /** A traffic-claim write whose condition failure is an answer (someone else wrote first), not an error. */
  private async tryClaimWrite(resource: string, row: ClaimRow, expectedVersion: number | null): Promise<boolean> {
    try {
      await this.write(this.tables.trafficClaims, [{ resource }], row, `traffic claim ${resource}`, expectedVersion, {
        conflict: `traffic claim ${resource} changed`,
      });
      return true;
    } catch (err) {
      if (err instanceof TricenterError && err.code === 'CONFLICT') return false;
      throw err;
    }
  }

  private async readIngest(id: string): Promise<IngestRecord> {
    const record = await this.readVersioned<IngestRecord>(this.tables.ingests, [{ ingest_key: ingestRowKey(id) }], `ingest ${id}`);
    if (!record) throw new TricenterError('INTERNAL', `ingest ${id} vanished after its claim was refused`);
    return record;
  }

  /**
   * Up to `limit` rows from `start`; follows next_start_primary_key while Tablestore returns
   * short pages (it stops at 5,000 rows or 4 MB per call), and reports where the next page starts.
   */
  private async range(table: string, direction: 'FORWARD' | 'BACKWARD', start: PrimaryKeyInput, end: PrimaryKeyInput, limit: number) {
    const rows: DecodedRow[] = [];
    let from: PrimaryKeyInput | undefined = start;
    let next: DecodedRow['primaryKey'] | null = null;
    while (from && rows.length < limit) {
      const request: Record<string, unknown> = {
        tableName: table,
        direction: TableStore.Direction[direction],
        inclusiveStartPrimaryKey: from,
        exclusiveEndPrimaryKey: end,
        limit: limit - rows.length,
        maxVersions: 1,
      };
      const answer = await this.calls.retry(`GetRange ${table}`, (sdk) => sdk.getRange(request));
      rows.push(...answer.rows);
      next = answer.nextStartPrimaryKey;
      from = next ? next.map(({ name, value }) => ({ [name]: value })) : undefined;
    }
    return { rows, next };
  }

  /**
   * One page of an application's rows, newest first: the index gives the ids (BACKWARD range on
   * [app_key, created_at, id]), one BatchGetRow reads the rows; a row the batch could not read
   * (per-row errors are possible) is read alone.
   */
  private async newestFirst<T>(
    index: string,
    table: string,
    app: AppRef,
    page: PageRequest | undefined,
    decode: (attributes: RowAttributes, id: string) => T,
  ): Promise<Page<T>> {
    const key = appKey(app);
    const columns = ['app_key', 'created_at', 'id'];
    const start: PrimaryKeyInput =
      page?.cursor === undefined
        ? [{ app_key: key }, { created_at: TableStore.INF_MAX }, { id: TableStore.INF_MAX }]
        : decodeCursor(page.cursor, columns, key);
    const end: PrimaryKeyInput = [{ app_key: key }, { created_at: TableStore.INF_MIN }, { id: TableStore.INF_MIN }];
    const { rows, next } = await this.range(index, 'BACKWARD', start, end, pageLimit(page));
    const ids = rows.map((row) => String(row.primaryKey.find((cell) => cell.name === 'id')?.value));
    const found = await this.readMany(table, ids);
    // An index entry whose row is gone (the index trails its table) is skipped.
    const items = ids.flatMap((id) => {
      const attributes = found.get(id);
      return attributes ? [decode(attributes, id)] : [];
    });
    return { items, ...(next ? { nextCursor: encodeCursor(next) } : {}) };
  }

  private async readMany(table: string, ids: string[]): Promise<Map<string, RowAttributes>> {
    const found = new Map<string, RowAttributes>();
    if (ids.length === 0) return found;
    const answer = await this.calls.retry(`BatchGetRow ${table}`, (sdk) =>
      sdk.batchGetRow({ tables: [{ tableName: table, primaryKey: ids.map((id) => [{ id }]), maxVersions: 1 }] }),
    );
    const results = answer.tables[0] ?? [];
    const unread: string[] = [];
    ids.forEach((id, i) => {
      const result = results[i];
      if (!result?.isOk) {
        unread.push(id);
        return;
      }
      const attributes = attributesOf(result);
      if (attributes) found.set(id, attributes);
    });
    if (unread.length > 0) this.logger.info('batch read left rows unread; reading them one by one', { table, rows: unread.length });
    for (const id of unread) {
      const attributes = await this.read(table, [{ id }], `${table} ${id}`);
      if (attributes) found.set(id, attributes);
    }
    return found;
  }
}
