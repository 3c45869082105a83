import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * A connection of its own to a SQLite file of the twin (its folder made if missing) or to
 * `:memory:`, with `schema` applied: WAL, so the run store's connection to the same file and the
 * CLI next to `local up` read while it writes, and a busy timeout for a moment's write lock.
 */
export function openSqlite(path: string, schema: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(schema);
  return db;
}
