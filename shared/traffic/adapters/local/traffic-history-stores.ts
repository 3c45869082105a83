import type Database from 'better-sqlite3';
import { ConflictError } from '../../../platform/errors.ts';
import { appKey, type AppRef } from '../../../delivery/model/ownership.ts';
import type { StoredTrafficRecord, TrafficRecord } from '../../domain/types.ts';
import type { TrafficHistoryStore } from '../../ports/traffic-history.port.ts';

/**
 * The local TrafficHistoryStores: in memory (planner and reconcile tests, the traffic bench) and
 * SQLite, the `traffic_history` table of the run store's file (SqliteRunStore.trafficHistory).
 * Documents are copied in and out, so callers never share state with the store.
 */
export class MemoryTrafficHistoryStore implements TrafficHistoryStore {
  private readonly rows = new Map<string, StoredTrafficRecord>();

  async get(app: AppRef): Promise<StoredTrafficRecord | undefined> {
    const row = this.rows.get(appKey(app));
    return row && structuredClone(row);
  }

  async put(app: AppRef, record: TrafficRecord, expectedVersion: number | null): Promise<number> {
    const key = appKey(app);
    const current = this.rows.get(key)?.version ?? null;
    if (current !== expectedVersion) throw versionConflict(key, expectedVersion);
    const version = (current ?? 0) + 1;
    this.rows.set(key, { record: structuredClone(record), version });
    return version;
  }
}

/** One row per application; every write is one conditional statement whose `changes` count decides. */
export class SqliteTrafficHistory implements TrafficHistoryStore {
  constructor(private readonly db: Database.Database) {}

  async get(app: AppRef): Promise<StoredTrafficRecord | undefined> {
    const row = this.db.prepare('SELECT body, version FROM traffic_history WHERE app_key = ?').get(appKey(app)) as
      | { body: string; version: number }
      | undefined;
    return row ? { record: JSON.parse(row.body) as TrafficRecord, version: row.version } : undefined;
  }

  async put(app: AppRef, record: TrafficRecord, expectedVersion: number | null): Promise<number> {
    const key = appKey(app);
    const body = JSON.stringify(record);
    const { changes } =
      expectedVersion === null
        ? this.db.prepare('INSERT INTO traffic_history (app_key, version, body) VALUES (?, 1, ?) ON CONFLICT DO NOTHING').run(key, body)
        : this.db
            .prepare('UPDATE traffic_history SET body = ?, version = version + 1 WHERE app_key = ? AND version = ?')
            .run(body, key, expectedVersion);
    if (changes !== 1) throw versionConflict(key, expectedVersion);
    return (expectedVersion ?? 0) + 1;
  }
}

function versionConflict(key: string, expectedVersion: number | null): ConflictError {
  return new ConflictError(`traffic history of ${key} changed meanwhile (expected version ${expectedVersion ?? 'none'})`);
}
