import { describe, expect, it } from 'vitest';
import { createTablestoreNotificationOutbox } from '#shared/delivery/adapters/aliyun/tablestore-notification-outbox.ts';
import { describeNotificationOutboxContract } from '../contract/notification-outbox.contract.ts';
import { freshInstance, listeningServer } from './tablestore-fixture.ts';
import { adapterOptions, OTS_ERRORS, type FakeInstanceAddress, type FakeTablestore } from './tablestore-msw.ts';

/** Messages to send again in their own Tablestore table (`<prefix>notification_outbox`), on the wire through msw. */
const ENDPOINT = 'https://tricenter-outbox.cn-hangzhou.ots.aliyuncs.com';
const INSTANCE = 'tricenter-outbox';
const KEY = { accessKeyId: 'STS.outbox-key', accessKeySecret: 'outbox-secret', securityToken: 'outbox-token' };
const PREFIX = 'outbox_';

const AT: FakeInstanceAddress = { endpoint: ENDPOINT, instance: INSTANCE, prefix: PREFIX, key: KEY };
const server = listeningServer();

async function freshOutboxes(inject?: (fake: FakeTablestore) => void, rowsPerCall?: number) {
  const fake = await freshInstance(server, AT, { ...(inject ? { inject } : {}), ...(rowsPerCall !== undefined ? { rowsPerCall } : {}) });
  const open = () => createTablestoreNotificationOutbox(adapterOptions(AT));
  return { fake, outbox: open(), second: open() };
}

describeNotificationOutboxContract('tablestore over msw', () => freshOutboxes());
describeNotificationOutboxContract('tablestore over msw, every 2nd write applied but its answer lost', () =>
  freshOutboxes((fake) => fake.injectEvery(2, { action: 'PutRow', applied: true })),
);
describeNotificationOutboxContract('tablestore over msw, every 3rd request throttled (OTSServerBusy) first', () =>
  freshOutboxes((fake) => fake.injectEvery(3, { error: OTS_ERRORS.serverBusy })),
);
describeNotificationOutboxContract('tablestore over msw, two rows per GetRange', () => freshOutboxes(undefined, 2));

describe('tablestore notification outbox on the wire', () => {
  it('adds with EXPECT_NOT_EXIST and claims with EXPECT_EXIST + version == 1, in the outbox table only', async () => {
    const { fake, outbox } = await freshOutboxes();
    const before = fake.calls.length;
    await outbox.add({
      key: 'run-1/failed/-/ops-room',
      channel: 'ops-room',
      message: { kind: 'failed', app: { namespace: 'demo', name: 'web-demo' }, runId: 'run-1', publishVersion: 'v1', summary: 'boom' },
      createdAt: 1,
      dueAt: 2,
      lastError: 'HTTP 500',
    });
    const [due] = await outbox.listDue(2, 10);
    if (!due) throw new Error('not listed');
    await outbox.claim(due, 100);
    const writes = fake.calls.slice(before).filter((c) => c.action === 'PutRow');
    expect(writes.map((c) => c.table)).toEqual(['outbox_notification_outbox', 'outbox_notification_outbox']);
    expect(writes[0]?.condition?.rowExistence).toBe(2);
    expect(writes[1]?.condition).toMatchObject({ rowExistence: 1, column: { name: 'version', value: { t: 'integer', v: 1 } } });
    const rows = [...(fake.tables.get('outbox_notification_outbox')?.rows.values() ?? [])];
    expect(rows.map((r) => [...r.pk.keys(), ...r.columns.keys()])).toEqual([['key', 'version', 'body_chunks', 'body_0', 'write_token']]);
  });
});
