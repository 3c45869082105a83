import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { createTables, tablestoreClient } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { describeTrafficHistoryContract } from '../contract/traffic-history.contract.ts';
import { FakeTablestore, instantBackoff, OTS_ERRORS, runStoreOn } from './tablestore-msw.ts';

/** The traffic history's own Tablestore table (`<prefix>traffic_history`), on the wire through msw. */
const ENDPOINT = 'https://tricenter-traffic.cn-hangzhou.ots.aliyuncs.com';
const INSTANCE = 'tricenter-traffic';
const KEY = { accessKeyId: 'STS.traffic-key', accessKeySecret: 'traffic-secret', securityToken: 'traffic-token' };
const PREFIX = 'traffic_';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

async function freshStore(inject?: (fake: FakeTablestore) => void) {
  const fake = new FakeTablestore({
    endpoint: ENDPOINT,
    instance: INSTANCE,
    keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
  });
  server.resetHandlers(...fake.handlers());
  await createTables(tablestoreClient({ endpoint: ENDPOINT, instance: INSTANCE, credentials: KEY }), PREFIX);
  inject?.(fake);
  const runStore = runStoreOn({ endpoint: ENDPOINT, instance: INSTANCE, prefix: PREFIX, key: KEY }, instantBackoff());
  return { history: runStore.trafficHistory, runStore };
}

describeTrafficHistoryContract('tablestore over msw', () => freshStore());
describeTrafficHistoryContract('tablestore over msw, every 2nd write applied but its answer lost', () =>
  freshStore((fake) => fake.injectEvery(2, { action: 'PutRow', applied: true })),
);
describeTrafficHistoryContract('tablestore over msw, every 3rd request throttled (OTSServerBusy) first', () =>
  freshStore((fake) => fake.injectEvery(3, { error: OTS_ERRORS.serverBusy })),
);
