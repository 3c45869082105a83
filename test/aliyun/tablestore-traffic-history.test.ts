import { describeTrafficHistoryContract } from '../contract/traffic-history.contract.ts';
import { freshInstance, listeningServer } from './tablestore-fixture.ts';
import { instantBackoff, OTS_ERRORS, runStoreOn, type FakeInstanceAddress, type FakeTablestore } from './tablestore-msw.ts';

/** The traffic history's own Tablestore table (`<prefix>traffic_history`), on the wire through msw. */
const ENDPOINT = 'https://tricenter-traffic.cn-hangzhou.ots.aliyuncs.com';
const INSTANCE = 'tricenter-traffic';
const KEY = { accessKeyId: 'STS.traffic-key', accessKeySecret: 'traffic-secret', securityToken: 'traffic-token' };
const PREFIX = 'traffic_';

const AT: FakeInstanceAddress = { endpoint: ENDPOINT, instance: INSTANCE, prefix: PREFIX, key: KEY };
const server = listeningServer();

async function freshStore(inject?: (fake: FakeTablestore) => void) {
  await freshInstance(server, AT, inject ? { inject } : {});
  const runStore = runStoreOn(AT, instantBackoff());
  return { history: runStore.trafficHistory, runStore };
}

describeTrafficHistoryContract('tablestore over msw', () => freshStore());
describeTrafficHistoryContract('tablestore over msw, every 2nd write applied but its answer lost', () =>
  freshStore((fake) => fake.injectEvery(2, { action: 'PutRow', applied: true })),
);
describeTrafficHistoryContract('tablestore over msw, every 3rd request throttled (OTSServerBusy) first', () =>
  freshStore((fake) => fake.injectEvery(3, { error: OTS_ERRORS.serverBusy })),
);
