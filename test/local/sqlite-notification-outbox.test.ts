import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteNotificationOutbox } from '#shared/delivery/adapters/local/sqlite-notification-outbox.ts';
import { describeNotificationOutboxContract } from '../contract/notification-outbox.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'tricenter-outbox-'));
const opened: SqliteNotificationOutbox[] = [];
afterAll(() => {
  for (const outbox of opened) outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
// Two connections on one file (WAL), as two processes on the twin's state.db would be.
describeNotificationOutboxContract('sqlite file, two connections', async () => {
  const path = join(dir, `outbox-${++count}.db`);
  const outbox = new SqliteNotificationOutbox({ path });
  const second = new SqliteNotificationOutbox({ path });
  opened.push(outbox, second);
  return { outbox, second };
});
