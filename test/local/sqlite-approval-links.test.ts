import { SqliteApprovalLinkStore } from '#shared/delivery/adapters/local/sqlite-approval-links.ts';
import { describeApprovalLinkStoreContract } from '../contract/approval-link-store.contract.ts';
import { twoConnectionsPerFile } from './sqlite-pair.ts';

const pair = twoConnectionsPerFile('links', (path) => new SqliteApprovalLinkStore({ path }));
// Two connections on one file (WAL), as two processes on the twin's state.db would be.
describeApprovalLinkStoreContract('sqlite file, two connections', async () => {
  const [store, second] = await pair();
  return { store, second };
});
