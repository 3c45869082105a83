import { SqliteNotificationOutbox } from '#shared/delivery/adapters/local/sqlite-notification-outbox.ts';
import { describeNotificationOutboxContract } from '../contract/notification-outbox.contract.ts';
import { twoConnectionsPerFile } from './sqlite-pair.ts';

const pair = twoConnectionsPerFile('outbox', (path) => new SqliteNotificationOutbox({ path }));
// Two connections on one file (WAL), as two processes on the twin's state.db would be.
describeNotificationOutboxContract('sqlite file, two connections', async () => {
  const [outbox, second] = await pair();
  return { outbox, second };
});
