import type Database from 'better-sqlite3';
import { claimedOutboxEntry, freshOutboxEntry, rescheduledOutboxEntry, settledOutboxEntry } from '../../model/outbox-entry.ts';
import type { NewOutboxEntry, NotificationOutbox, OutboxEntry, OutboxState } from '../../ports/notification-outbox.port.ts';
import { openSqlite } from './sqlite-file.ts';

/**
 * The local NotificationOutbox: a table `notification_outbox` in a SQLite file (the twin's
 * state.db, through a connection of its own) or `:memory:`. `add` is `INSERT ... ON CONFLICT DO
 * NOTHING`; every later change is one `UPDATE ... WHERE key = ? AND version = ?` whose `changes`
 * decides, as the Tablestore adapter's row condition does. `state` and `due_at` are columns so the
 * due listing is one indexed query; the rest of the entry is the JSON body.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS notification_outbox (
  key TEXT PRIMARY KEY, state TEXT NOT NULL, due_at INTEGER NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_outbox_due ON notification_outbox (state, due_at);
`;

interface OutboxRow {
  body: string;
}

export class SqliteNotificationOutbox implements NotificationOutbox {
  private readonly db: Database.Database;

  constructor(options: { path: string }) {
    this.db = openSqlite(options.path, SCHEMA);
  }

  async add(fresh: NewOutboxEntry): Promise<boolean> {
    const entry: OutboxEntry = freshOutboxEntry(fresh);
    const result = this.db
      .prepare('INSERT INTO notification_outbox (key, state, due_at, version, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING')
      .run(entry.key, entry.state, entry.dueAt, entry.version, JSON.stringify(entry));
    return result.changes === 1;
  }

  async listDue(now: number, limit: number): Promise<OutboxEntry[]> {
    const rows = this.db
      .prepare("SELECT body FROM notification_outbox WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, key LIMIT ?")
      .all(now, limit) as OutboxRow[];
    return rows.map((row) => JSON.parse(row.body) as OutboxEntry);
  }

  async claim(entry: OutboxEntry, leaseUntil: number): Promise<OutboxEntry | undefined> {
    const claimed = claimedOutboxEntry(entry, leaseUntil);
    return claimed && this.replace(claimed, entry.version, 'pending') ? claimed : undefined;
  }

  async settle(claimed: OutboxEntry, state: Exclude<OutboxState, 'pending'>, now: number, lastError?: string): Promise<boolean> {
    return this.replace(settledOutboxEntry(claimed, state, now, lastError), claimed.version);
  }

  async reschedule(claimed: OutboxEntry, dueAt: number, lastError: string): Promise<boolean> {
    return this.replace(rescheduledOutboxEntry(claimed, dueAt, lastError), claimed.version);
  }

  async get(key: string): Promise<OutboxEntry | undefined> {
    const row = this.db.prepare('SELECT body FROM notification_outbox WHERE key = ?').get(key) as OutboxRow | undefined;
    return row ? (JSON.parse(row.body) as OutboxEntry) : undefined;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Writes `next` only if the row still has `expectedVersion` (and, when given, `expectedState`). */
  private replace(next: OutboxEntry, expectedVersion: number, expectedState?: OutboxState): boolean {
    const result = this.db
      .prepare(
        'UPDATE notification_outbox SET state = ?, due_at = ?, version = ?, body = ? WHERE key = ? AND version = ? AND (? IS NULL OR state = ?)',
      )
      .run(
        next.state,
        next.dueAt,
        next.version,
        JSON.stringify(next),
        next.key,
        expectedVersion,
        expectedState ?? null,
        expectedState ?? null,
      );
    return result.changes === 1;
  }
}
