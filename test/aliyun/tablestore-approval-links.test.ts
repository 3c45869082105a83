import { describe, expect, it } from 'vitest';
import { createTablestoreApprovalLinks } from '#shared/delivery/adapters/aliyun/tablestore-approval-links.ts';
import { describeApprovalLinkStoreContract } from '../contract/approval-link-store.contract.ts';
import { freshInstance, listeningServer } from './tablestore-fixture.ts';
import { adapterOptions, OTS_ERRORS, type FakeInstanceAddress, type FakeTablestore } from './tablestore-msw.ts';

/** One-time approval links in their own Tablestore table (`<prefix>approval_links`), on the wire through msw. */
const ENDPOINT = 'https://tricenter-links.cn-hangzhou.ots.aliyuncs.com';
const INSTANCE = 'tricenter-links';
const KEY = { accessKeyId: 'STS.links-key', accessKeySecret: 'links-secret', securityToken: 'links-token' };
const PREFIX = 'links_';

const AT: FakeInstanceAddress = { endpoint: ENDPOINT, instance: INSTANCE, prefix: PREFIX, key: KEY };
const server = listeningServer();

async function freshStores(inject?: (fake: FakeTablestore) => void) {
  const fake = await freshInstance(server, AT, inject ? { inject } : {});
  const open = () => createTablestoreApprovalLinks(adapterOptions(AT));
  return { fake, store: open(), second: open() };
}

describeApprovalLinkStoreContract('tablestore over msw', () => freshStores());
describeApprovalLinkStoreContract('tablestore over msw, every 2nd write applied but its answer lost', () =>
  freshStores((fake) => fake.injectEvery(2, { action: 'PutRow', applied: true })),
);
describeApprovalLinkStoreContract('tablestore over msw, every 3rd request throttled (OTSServerBusy) first', () =>
  freshStores((fake) => fake.injectEvery(3, { error: OTS_ERRORS.serverBusy })),
);

describe('tablestore approval links on the wire', () => {
  it('creates with EXPECT_NOT_EXIST and consumes with EXPECT_EXIST + version == 1, in the links table only', async () => {
    const { fake, store } = await freshStores();
    const link = {
      hash: 'a'.repeat(64),
      app: { namespace: 'demo', name: 'web-demo' },
      runId: 'run-1',
      step: 'deploy-rest',
      recipient: 'alice',
      digest: 'd'.repeat(64),
      policyVersion: 'p/1',
      createdAt: 1,
      expiresAt: 10_000,
    };
    const before = fake.calls.length;
    await store.put(link);
    await store.consume(link.hash, 5);
    const writes = fake.calls.slice(before).filter((c) => c.action === 'PutRow');
    expect(writes.map((c) => c.table)).toEqual(['links_approval_links', 'links_approval_links']);
    expect(writes[0]?.condition?.rowExistence).toBe(2);
    expect(writes[1]?.condition).toMatchObject({ rowExistence: 1, column: { name: 'version', value: { t: 'integer', v: 1 } } });
    const rows = [...(fake.tables.get('links_approval_links')?.rows.values() ?? [])];
    expect(rows.map((r) => [...r.pk.keys(), ...r.columns.keys()])).toEqual([['hash', 'version', 'body_chunks', 'body_0', 'write_token']]);
  });
});
