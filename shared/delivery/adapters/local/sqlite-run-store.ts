import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ConflictError, TricenterError } from '../../../platform/errors.ts';
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
import type { TrafficHistoryStore } from '../../../traffic/ports/traffic-history.port.ts';
import { isEnded, type Run, type TaskReport } from '../../workflow/run.ts';
import { SqliteTrafficHistory } from '../../../traffic/adapters/local/traffic-history-stores.ts';

/**
 * The local RunStore: one SQLite file (or `:memory:`) through better-sqlite3. Each row keeps its
 * document as JSON plus the columns that keys, ordering and conditions need; the `version`
 * column is authoritative. Every write is a single conditional statement (`INSERT ... ON CONFLICT
 * DO NOTHING` or `UPDATE ... WHERE version = ?`) whose `changes` count decides success, which is
 * exactly the guarantee Tablestore's row conditions give the cloud adapter.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS releases (
  id TEXT PRIMARY KEY, app_key TEXT NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS releases_by_app ON releases (app_key, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, app_key TEXT NOT NULL, created_at INTEGER NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_app ON runs (app_key, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS task_reports (
  run_id TEXT NOT NULL, step TEXT NOT NULL, cluster TEXT NOT NULL, attempt INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (run_id, step, cluster)
);
CREATE TABLE IF NOT EXISTS apps (
  app_key TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ingests (
  ingest_key TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected_uploads (
  object_key TEXT NOT NULL, bucket TEXT NOT NULL, etag TEXT NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (object_key, bucket, etag)
);
CREATE TABLE IF NOT EXISTS traffic_claims (
  resource TEXT PRIMARY KEY, app_key TEXT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traffic_claims_by_app ON traffic_claims (app_key);
CREATE TABLE IF NOT EXISTS traffic_history (
  app_key TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL
);
`;

/**
 * A run row that has ended (workflow/run.ts's ended phases), as an SQL condition on `runs`: its task
 * rows are redundant (the run record took them in) and are deleted, and none is written any more.
 */
const RUN_ENDED = `json_extract(runs.body, '$.phase') IN ('workflowTerminated', 'workflowFailed', 'running', 'unhealthy')`;
/** An ended run's task rows, conditional on its row saying it ended (run id twice). */
const DELETE_ENDED_RUN_ROWS = `DELETE FROM task_reports WHERE run_id = ? AND EXISTS (SELECT 1 FROM runs WHERE id = ? AND ${RUN_ENDED})`;

interface BodyRow {
  body: string;
}
interface VersionedRow extends BodyRow {
  version: number;
}
interface ListedRow extends BodyRow {
  id: string;
  created_at: number;
  version?: number;
}

export interface SqliteRunStoreOptions {
  /** A file path (its folder is created) or `:memory:`. */
  path: string;
}

export class SqliteRunStore implements RunStore {
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  /** The traffic history, in its own table of the same file: its writes never conflict with the workflow's. */
  readonly trafficHistory: TrafficHistoryStore;

  constructor(options: SqliteRunStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL still survives a crash of this process (commits reach the OS at once) and
    // never corrupts the file; it syncs to disk at checkpoints, not at every commit. FULL's fsync per
    // commit blocked this thread for milliseconds on every task report: a step over n clusters
    // waited for 2n of them one after the other. A power cut may lose the last commits of the twin.
    this.db.pragma('synchronous = NORMAL');
    // Another process (the CLI next to `local up`) may hold the write lock for a moment.
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Rows an ended run left behind in a file written before runs deleted theirs as they ended.
    this.db.prepare(`DELETE FROM task_reports WHERE run_id IN (SELECT id FROM runs WHERE ${RUN_ENDED})`).run();
    this.trafficHistory = new SqliteTrafficHistory(this.db);
  }

  /** better-sqlite3 compiles a statement per prepare(); each SQL text is compiled once per store. */
  private statement(sql: string): Database.Statement {
    let prepared = this.statements.get(sql);
    if (!prepared) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  async putRelease(release: Release): Promise<void> {
    const { changes } = this.statement(
      'INSERT INTO releases (id, app_key, created_at, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(release.id, appKey(release.app), release.createdAt, JSON.stringify(release));
    if (changes !== 1) throw new ConflictError(`release ${release.id} already exists`);
  }

  async getRelease(id: string): Promise<Release | undefined> {
    const row = this.statement('SELECT body FROM releases WHERE id = ?').get(id) as BodyRow | undefined;
    return row ? (JSON.parse(row.body) as Release) : undefined;
  }

  async listReleases(app: AppRef, page?: PageRequest): Promise<Page<Release>> {
    return this.newestFirst('releases', app, page, (row) => JSON.parse(row.body) as Release);
  }

  async createRun(run: Run): Promise<Run> {
    const stored: Run = { ...run, version: 1 };
    const { changes } = this.statement(
      'INSERT INTO runs (id, app_key, created_at, version, body) VALUES (?, ?, ?, 1, ?) ON CONFLICT DO NOTHING',
    ).run(run.id, appKey(run.app), run.createdAt, JSON.stringify(stored));
    if (changes !== 1) throw new ConflictError(`run ${run.id} already exists`);
    return stored;
  }

  async getRun(id: string): Promise<Run | undefined> {
    const row = this.statement('SELECT body, version FROM runs WHERE id = ?').get(id) as VersionedRow | undefined;
    return row ? withVersion<Run>(row) : undefined;
  }

  async updateRun(run: Run, expectedVersion: number): Promise<Run> {
    const stored: Run = { ...run, version: expectedVersion + 1 };
    // The write that ends a run also deletes its task rows (its record took them in), in one transaction.
    const changes = this.db.transaction(() => {
      const written = this.statement('UPDATE runs SET body = ?, version = version + 1 WHERE id = ? AND version = ?').run(
        JSON.stringify(stored),
        run.id,
        expectedVersion,
      ).changes;
      if (written === 1 && isEnded(stored)) this.statement(DELETE_ENDED_RUN_ROWS).run(run.id, run.id);
      return written;
    })();
    if (changes !== 1) throw new ConflictError(`run ${run.id} changed since version ${expectedVersion} was read (or does not exist)`);
    return stored;
  }

  async listRuns(app: AppRef, page?: PageRequest): Promise<Page<Run>> {
    return this.newestFirst('runs', app, page, (row) => withVersion<Run>({ body: row.body, version: row.version ?? 0 }));
  }

  async recordTaskReport(report: TaskReport): Promise<TaskReport> {
    // One statement: insert, or replace a row of an earlier attempt; a row of this or a later attempt stays.
    // Never a row for a run that has ended (a task that finished after its run did): nothing would delete it.
    this.statement(
      `INSERT INTO task_reports (run_id, step, cluster, attempt, body) SELECT ?, ?, ?, ?, ?
       WHERE NOT EXISTS (SELECT 1 FROM runs WHERE id = ? AND ${RUN_ENDED})
       ON CONFLICT (run_id, step, cluster) DO UPDATE SET attempt = excluded.attempt, body = excluded.body
       WHERE task_reports.attempt < excluded.attempt`,
    ).run(report.runId, report.step, report.cluster, report.attempt, JSON.stringify(report), report.runId);
    const stored = await this.getTaskReport(report.runId, report.step, report.cluster);
    if (stored) return stored;
    // The run has ended: the report changes nothing (its record is final), so none is kept.
    if (this.statement(`SELECT 1 FROM runs WHERE id = ? AND ${RUN_ENDED}`).get(report.runId)) return report;
    throw new TricenterError('INTERNAL', `task report ${report.runId}/${report.step}/${report.cluster} vanished after it was written`);
  }

  async getTaskReport(runId: string, step: string, cluster: string): Promise<TaskReport | undefined> {
    const row = this.statement('SELECT body FROM task_reports WHERE run_id = ? AND step = ? AND cluster = ?').get(runId, step, cluster) as
      | BodyRow
      | undefined;
    return row ? (JSON.parse(row.body) as TaskReport) : undefined;
  }

  async listTaskReports(runId: string, step: string): Promise<TaskReport[]> {
    const rows = this.statement('SELECT body FROM task_reports WHERE run_id = ? AND step = ? ORDER BY cluster').all(
      runId,
      step,
    ) as BodyRow[];
    return rows.map((row) => JSON.parse(row.body) as TaskReport);
  }

  async getApp(app: AppRef): Promise<AppRecord | undefined> {
    const row = this.statement('SELECT body, version FROM apps WHERE app_key = ?').get(appKey(app)) as VersionedRow | undefined;
    return row ? withVersion<AppRecord>(row) : undefined;
  }

  async saveApp(record: AppRecord, expectedVersion: number | null): Promise<AppRecord> {
    const key = appKey(record.app);
    const stored: AppRecord = { ...record, version: (expectedVersion ?? 0) + 1 };
    const body = JSON.stringify(stored);
    const { changes } =
      expectedVersion === null
        ? this.statement('INSERT INTO apps (app_key, version, body) VALUES (?, 1, ?) ON CONFLICT DO NOTHING').run(key, body)
        : this.statement('UPDATE apps SET body = ?, version = version + 1 WHERE app_key = ? AND version = ?').run(
            body,
            key,
            expectedVersion,
          );
    if (changes !== 1) {
      throw new ConflictError(
        expectedVersion === null
          ? `app ${key} already has a record`
          : `app ${key} changed since version ${expectedVersion} was read (or has no record)`,
      );
    }
    return stored;
  }

  async listApps(page?: PageRequest): Promise<Page<AppRecord>> {
    const limit = pageLimit(page);
    const after = page?.cursor === undefined ? '' : decodeCursor<string>(page.cursor);
    const rows = this.statement('SELECT app_key, body, version FROM apps WHERE app_key > ? ORDER BY app_key LIMIT ?').all(
      after,
      limit + 1,
    ) as Array<VersionedRow & { app_key: string }>;
    const items = rows.slice(0, limit);
    const last = rows.length > limit ? items.at(-1) : undefined;
    return {
      items: items.map((row) => withVersion<AppRecord>(row)),
      ...(last ? { nextCursor: encodeCursor(last.app_key) } : {}),
    };
  }

  async claimIngest(key: IngestKey, now: number, options: { staleAfterMs?: number } = {}): Promise<IngestClaim> {
    const id = ingestKeyString(key);
    const fresh: IngestRecord = { key, status: 'in-progress', claimedAt: now, version: 1 };
    const inserted = this.statement('INSERT INTO ingests (ingest_key, version, body) VALUES (?, 1, ?) ON CONFLICT DO NOTHING').run(
      id,
      JSON.stringify(fresh),
    );
    if (inserted.changes === 1) return { claimed: true, record: fresh };

    const existing = this.readIngest(id);
    const staleAfterMs = options.staleAfterMs ?? DEFAULT_INGEST_STALE_AFTER_MS;
    if (existing.status !== 'in-progress' || existing.claimedAt + staleAfterMs > now) return { claimed: false, record: existing };
    const takenOver: IngestRecord = { key, status: 'in-progress', claimedAt: now, version: existing.version + 1 };
    const updated = this.statement('UPDATE ingests SET body = ?, version = version + 1 WHERE ingest_key = ? AND version = ?').run(
      JSON.stringify(takenOver),
      id,
      existing.version,
    );
    return updated.changes === 1 ? { claimed: true, record: takenOver } : { claimed: false, record: this.readIngest(id) };
  }

  async completeIngest(record: IngestRecord, result: IngestResult, now: number): Promise<IngestRecord> {
    const id = ingestKeyString(record.key);
    const completed: IngestRecord = { ...record, status: 'completed', completedAt: now, result, version: record.version + 1 };
    const { changes } = this.statement('UPDATE ingests SET body = ?, version = version + 1 WHERE ingest_key = ? AND version = ?').run(
      JSON.stringify(completed),
      id,
      record.version,
    );
    if (changes !== 1) throw new ConflictError(`ingest ${id} was taken over or completed by another caller`);
    return completed;
  }

  async getIngest(key: IngestKey): Promise<IngestRecord | undefined> {
    const row = this.statement('SELECT body, version FROM ingests WHERE ingest_key = ?').get(ingestKeyString(key)) as
      | VersionedRow
      | undefined;
    return row ? withVersion<IngestRecord>(row) : undefined;
  }

  async claimIdempotencyKey(key: string, request: string, now: number): Promise<IdempotencyClaim> {
    const id = idempotencyKeyRowId(key);
    const inserted = this.statement('INSERT INTO ingests (ingest_key, version, body) VALUES (?, 1, ?) ON CONFLICT DO NOTHING').run(
      id,
      JSON.stringify({ request, claimedAt: now }),
    );
    if (inserted.changes === 1) return { claimed: true, request, claimedAt: now };
    const row = this.statement('SELECT body FROM ingests WHERE ingest_key = ?').get(id) as BodyRow;
    const first = JSON.parse(row.body) as { request: string; claimedAt: number };
    return { claimed: false, request: first.request, claimedAt: first.claimedAt };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  async recordRejectedUpload(upload: RejectedUpload): Promise<RejectedUpload> {
    const { bucket, key, etag } = upload.source;
    this.statement('INSERT INTO rejected_uploads (object_key, bucket, etag, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
      key,
      bucket,
      etag,
      JSON.stringify(upload),
    );
    const row = this.statement('SELECT body FROM rejected_uploads WHERE object_key = ? AND bucket = ? AND etag = ?').get(
      key,
      bucket,
      etag,
    ) as BodyRow;
    return JSON.parse(row.body) as RejectedUpload;
  }

  async listRejectedUploads(keyPrefix: string, page?: PageRequest): Promise<Page<RejectedUpload>> {
    const limit = pageLimit(page);
    const [afterKey, afterBucket, afterEtag] =
      page?.cursor === undefined ? [keyPrefix, '', ''] : decodeCursor<[string, string, string]>(page.cursor);
    if (typeof afterKey !== 'string' || !afterKey.startsWith(keyPrefix))
      throw new TricenterError('VALIDATION', `cursor "${page?.cursor}" is not one this store returned for ${keyPrefix}`);
    // substr compares bytes of the prefix exactly (LIKE would read % and _ in a key as wildcards).
    const rows = this.statement(
      `SELECT object_key, bucket, etag, body FROM rejected_uploads
         WHERE substr(object_key, 1, length(?)) = ? AND (object_key, bucket, etag) > (?, ?, ?)
         ORDER BY object_key, bucket, etag LIMIT ?`,
    ).all(keyPrefix, keyPrefix, afterKey, afterBucket, afterEtag, limit + 1) as Array<
      BodyRow & { object_key: string; bucket: string; etag: string }
    >;
    const items = rows.slice(0, limit);
    const last = rows.length > limit ? items.at(-1) : undefined;
    return {
      items: items.map((row) => JSON.parse(row.body) as RejectedUpload),
      ...(last ? { nextCursor: encodeCursor([last.object_key, last.bucket, last.etag]) } : {}),
    };
  }

  async claimTraffic(claim: TrafficClaim): Promise<TrafficClaim> {
    this.statement('INSERT INTO traffic_claims (resource, app_key, body) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(
      claim.resource,
      appKey(claim.app),
      JSON.stringify(claim),
    );
    const holder = await this.getTrafficClaim(claim.resource);
    if (!holder) throw new TricenterError('INTERNAL', `traffic claim ${claim.resource} vanished after it was written`);
    return holder;
  }

  async getTrafficClaim(resource: string): Promise<TrafficClaim | undefined> {
    const row = this.statement('SELECT body FROM traffic_claims WHERE resource = ?').get(resource) as BodyRow | undefined;
    return row ? (JSON.parse(row.body) as TrafficClaim) : undefined;
  }

  async releaseTrafficClaims(app: AppRef): Promise<TrafficClaim[]> {
    const rows = this.statement('DELETE FROM traffic_claims WHERE app_key = ? RETURNING body').all(appKey(app)) as BodyRow[];
    return rows.map((row) => JSON.parse(row.body) as TrafficClaim).sort((a, b) => (a.resource < b.resource ? -1 : 1));
  }

  private readIngest(id: string): IngestRecord {
    const row = this.statement('SELECT body, version FROM ingests WHERE ingest_key = ?').get(id) as VersionedRow | undefined;
    if (!row) throw new TricenterError('INTERNAL', `ingest ${id} vanished after its claim was refused`);
    return withVersion<IngestRecord>(row);
  }

  private newestFirst<T>(table: 'releases' | 'runs', app: AppRef, page: PageRequest | undefined, decode: (row: ListedRow) => T): Page<T> {
    const limit = pageLimit(page);
    const columns = table === 'runs' ? 'id, created_at, body, version' : 'id, created_at, body';
    const key = appKey(app);
    let rows: ListedRow[];
    if (page?.cursor === undefined) {
      rows = this.statement(`SELECT ${columns} FROM ${table} WHERE app_key = ? ORDER BY created_at DESC, id DESC LIMIT ?`).all(
        key,
        limit + 1,
      ) as ListedRow[];
    } else {
      const [createdAt, id] = decodeCursor<[number, string]>(page.cursor);
      rows = this.statement(
        `SELECT ${columns} FROM ${table} WHERE app_key = ? AND (created_at < ? OR (created_at = ? AND id < ?))
           ORDER BY created_at DESC, id DESC LIMIT ?`,
      ).all(key, createdAt, createdAt, id, limit + 1) as ListedRow[];
    }
    const items = rows.slice(0, limit);
    const last = rows.length > limit ? items.at(-1) : undefined;
    return { items: items.map(decode), ...(last ? { nextCursor: encodeCursor([last.created_at, last.id]) } : {}) };
  }
}

function withVersion<T extends { version: number }>(row: VersionedRow): T {
  return { ...(JSON.parse(row.body) as T), version: row.version };
}

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor<T>(cursor: string): T {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as T;
  } catch (err) {
    throw new TricenterError('VALIDATION', `cursor "${cursor}" is not one this store returned`, { cause: err });
  }
}
