import type Database from 'better-sqlite3';
import type { ApprovalLink, ConsumeOutcome } from '../../model/approval-link.ts';
import type { ApprovalLinkStore } from '../../ports/approval-link-store.port.ts';
import { openSqlite } from './sqlite-file.ts';

/**
 * The local ApprovalLinkStore: a table `approval_links` in a SQLite file (the twin's state.db,
 * through a connection of its own, so it needs nothing of the run store) or `:memory:`. A link is
 * created by `INSERT ... ON CONFLICT DO NOTHING` and consumed by one `UPDATE ... WHERE consumed_at
 * IS NULL AND expires_at > now`: the statement's `changes` decides, so exactly one caller wins, as
 * the Tablestore adapter's row condition does.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS approval_links (
  hash TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, consumed_at INTEGER, body TEXT NOT NULL
);
`;

interface LinkRow {
  body: string;
  consumed_at: number | null;
}

export class SqliteApprovalLinkStore implements ApprovalLinkStore {
  private readonly db: Database.Database;

  constructor(options: { path: string }) {
    this.db = openSqlite(options.path, SCHEMA);
  }

  async put(link: ApprovalLink): Promise<boolean> {
    const { consumedAt: _ignored, ...fresh } = link;
    const result = this.db
      .prepare('INSERT INTO approval_links (hash, expires_at, consumed_at, body) VALUES (?, ?, NULL, ?) ON CONFLICT (hash) DO NOTHING')
      .run(link.hash, link.expiresAt, JSON.stringify(fresh));
    return result.changes === 1;
  }

  async get(hash: string): Promise<ApprovalLink | undefined> {
    const row = this.db.prepare('SELECT body, consumed_at FROM approval_links WHERE hash = ?').get(hash) as LinkRow | undefined;
    return row ? linkOf(row) : undefined;
  }

  async consume(hash: string, now: number): Promise<ConsumeOutcome> {
    const won = this.db
      .prepare('UPDATE approval_links SET consumed_at = ? WHERE hash = ? AND consumed_at IS NULL AND expires_at > ?')
      .run(now, hash, now);
    const link = await this.get(hash);
    if (!link) return { outcome: 'unknown' };
    if (won.changes === 1) return { outcome: 'consumed', link };
    return link.consumedAt !== undefined ? { outcome: 'used', link } : { outcome: 'expired', link };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function linkOf(row: LinkRow): ApprovalLink {
  const link = JSON.parse(row.body) as ApprovalLink;
  return row.consumed_at === null ? link : { ...link, consumedAt: row.consumed_at };
}
