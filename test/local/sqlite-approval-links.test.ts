import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteApprovalLinkStore } from '#shared/delivery/adapters/local/sqlite-approval-links.ts';
import { describeApprovalLinkStoreContract } from '../contract/approval-link-store.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'tricenter-links-'));
const opened: SqliteApprovalLinkStore[] = [];
afterAll(() => {
  for (const store of opened) store.close();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
// Two connections on one file (WAL), as two processes on the twin's state.db would be.
describeApprovalLinkStoreContract('sqlite file, two connections', async () => {
  const path = join(dir, `links-${++count}.db`);
  const store = new SqliteApprovalLinkStore({ path });
  const second = new SqliteApprovalLinkStore({ path });
  opened.push(store, second);
  return { store, second };
});
