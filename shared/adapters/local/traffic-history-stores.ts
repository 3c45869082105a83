import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ConflictError } from '../../core/errors.ts';
import { appKey, type AppRef } from '../../model/ownership.ts';
import type { StoredTrafficRecord, TrafficHistoryStore, TrafficRecord } from '../../ports/traffic-history.port.ts';

/** The in-memory twin: documents are copied in and out, so callers never share state with the store. */
export class MemoryTrafficHistoryStore implements TrafficHistoryStore {
  private readonly rows = new Map<string, StoredTrafficRecord>();

  async get(app: AppRef): Promise<StoredTrafficRecord | undefined> {
    const row = this.rows.get(appKey(app));
    return row && structuredClone(row);
  }

  async put(app: AppRef, record: TrafficRecord, expectedVersion: number | null): Promise<number> {
    const key = appKey(app);
    const current = this.rows.get(key)?.version ?? null;
    if (current !== expectedVersion) throw new ConflictError(`traffic history of ${key} is at version ${current ?? 'none'}, not ${expectedVersion ?? 'none'}`);
    const version = (current ?? 0) + 1;
    this.rows.set(key, { record: structuredClone(record), version });
    return version;
  }
}

/**
 * The SQLite twin (better-sqlite3): one row per application, the document as JSON, the version
 * column authoritative. Each write is one conditional statement whose `changes` count decides.
 */
export class SqliteTrafficHistoryStore implements TrafficHistoryStore {
  private readonly db: Database.Database;

  constructor(options: { path: string }) {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec('CREATE TABLE IF NOT EXISTS traffic_history (app_key TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL)');
  }

  async get(app: AppRef): Promise<StoredTrafficRecord | undefined> {
    const row = this.db.prepare('SELECT version, body FROM traffic_history WHERE app_key = ?').get(appKey(app)) as { version: number; body: string } | undefined;
    return row && { record: JSON.parse(row.body) as TrafficRecord, version: row.version };
  }

  async put(app: AppRef, record: TrafficRecord, expectedVersion: number | null): Promise<number> {
    const key = appKey(app);
    const body = JSON.stringify(record);
    const { changes } =
      expectedVersion === null
        ? this.db.prepare('INSERT INTO traffic_history (app_key, version, body) VALUES (?, 1, ?) ON CONFLICT DO NOTHING').run(key, body)
        : this.db.prepare('UPDATE traffic_history SET version = version + 1, body = ? WHERE app_key = ? AND version = ?').run(body, key, expectedVersion);
    if (changes !== 1) throw new ConflictError(`traffic history of ${key} changed meanwhile (expected version ${expectedVersion ?? 'none'})`);
    return (expectedVersion ?? 0) + 1;
  }

  close(): void {
    this.db.close();
  }
}
