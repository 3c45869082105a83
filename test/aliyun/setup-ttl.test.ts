/**
 * `tricenter setup` and the tables' time to live: `<prefix>task_reports`, `approval_links` and
 * `notification_outbox` are created with theirs (every other table keeps its rows for ever, as
 * secondary indexes require), and such a table an earlier setup made without it gets it when setup
 * runs again, while the tables that exist are otherwise left as they are. Tablestore is the msw fake (the SDK's own
 * CreateTable / UpdateTable requests decoded).
 */
import { describe, expect, it } from 'vitest';
import { runSetup } from '#cli/commands/setup.ts';
import { APPROVAL_LINKS_TTL_S, NOTIFICATION_OUTBOX_TTL_S, TASK_REPORTS_TTL_S } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { MAX_LINK_TTL_MS } from '#shared/delivery/model/approval-link.ts';
import { emptyInstanceEachTest, listeningServer } from './tablestore-fixture.ts';
import type { FakeTablestore } from './tablestore-msw.ts';

const ENDPOINT = 'https://tricenter-ttl.cn-shanghai.ots.aliyuncs.com';
const ENV = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-ttl',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'ttl-secret',
  ALIBABA_CLOUD_SECURITY_TOKEN: 'ttl-token',
};
const target = { endpoint: ENDPOINT, instance: 'tricenter-ttl', prefix: 'prod_' };
const EXPIRING: Record<string, number> = {
  prod_task_reports: TASK_REPORTS_TTL_S,
  prod_approval_links: APPROVAL_LINKS_TTL_S,
  prod_notification_outbox: NOTIFICATION_OUTBOX_TTL_S,
};

let fake: FakeTablestore;
emptyInstanceEachTest(
  listeningServer(),
  {
    endpoint: ENDPOINT,
    instance: 'tricenter-ttl',
    accessKeyId: ENV.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: ENV.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    securityToken: ENV.ALIBABA_CLOUD_SECURITY_TOKEN,
  },
  (fresh) => {
    fake = fresh;
  },
);

describe('setup: time to live of the task rows, links and outbox', () => {
  it('creates task_reports (30 days), approval_links (past the longest link) and the outbox (a week) with a time to live, every other table without one', async () => {
    expect(TASK_REPORTS_TTL_S).toBe(30 * 24 * 3600);
    // No link that may still be used is removed by its table's time to live.
    expect(APPROVAL_LINKS_TTL_S * 1000).toBeGreaterThan(MAX_LINK_TTL_MS);
    expect(NOTIFICATION_OUTBOX_TTL_S).toBe(7 * 24 * 3600);
    await runSetup(target, ENV);
    for (const [name, ttl] of Object.entries(EXPIRING)) expect({ name, ttl: fake.tables.get(name)?.timeToLive }).toEqual({ name, ttl });
    const others = [...fake.tables.values()].filter((t) => !(t.name in EXPIRING));
    expect(others.length).toBeGreaterThan(5);
    for (const table of others) expect({ table: table.name, ttl: table.timeToLive }).toEqual({ table: table.name, ttl: -1 });
    // Nothing to update on a fresh instance.
    expect(fake.calls.filter((c) => c.action === 'UpdateTable')).toEqual([]);
  });

  it('gives an existing expiring table made without it the time to live, and touches no other existing table', async () => {
    await runSetup(target, ENV);
    // What an earlier setup left: these tables for ever, each with a row in it.
    for (const name of Object.keys(EXPIRING)) {
      const old = fake.tables.get(name);
      if (!old) throw new Error(`setup made no ${name}`);
      old.timeToLive = -1;
      old.rows.set('kept', {} as never);
    }
    const again = await runSetup(target, ENV);
    expect(again.tables.every((t) => t.status === 'exists')).toBe(true);
    for (const [name, ttl] of Object.entries(EXPIRING)) {
      expect(fake.tables.get(name)?.timeToLive).toBe(ttl);
      expect(fake.tables.get(name)?.rows.has('kept')).toBe(true);
    }
    expect(
      fake.calls
        .filter((c) => c.action === 'UpdateTable')
        .map((c) => [c.table, c.stsToken])
        .sort(),
    ).toEqual(
      Object.keys(EXPIRING)
        .map((name) => [name, 'ttl-token'])
        .sort(),
    );
    for (const table of fake.tables.values()) if (!(table.name in EXPIRING)) expect(table.timeToLive).toBe(-1);
  });

  it('abuse: the fake refuses a time to live on a table with a secondary index, as Tablestore does', async () => {
    await runSetup(target, ENV);
    const { tablestoreClient } = await import('#shared/delivery/adapters/aliyun/tablestore-tables.ts');
    const client = tablestoreClient({
      endpoint: ENDPOINT,
      instance: 'tricenter-ttl',
      credentials: { accessKeyId: 'LTAI-ttl', accessKeySecret: 'ttl-secret', securityToken: 'ttl-token' },
    });
    await expect(client.updateTable({ tableName: 'prod_runs', tableOptions: { timeToLive: 3600, maxVersions: 1 } })).rejects.toThrow(
      /secondary index/,
    );
    expect(fake.tables.get('prod_runs')?.timeToLive).toBe(-1);
  });
});
