/**
 * `tricenter setup` and the task rows' time to live: `<prefix>task_reports` is created with
 * TASK_REPORTS_TTL_S (every other table keeps its rows for ever, as secondary indexes require), and a
 * task_reports table an earlier setup made without it gets it when setup runs again, while the
 * tables that exist are otherwise left as they are. Tablestore is the msw fake (the SDK's own
 * CreateTable / UpdateTable requests decoded).
 */
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runSetup } from '#cli/commands/setup.ts';
import { TASK_REPORTS_TTL_S } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { FakeTablestore } from './tablestore-msw.ts';

const ENDPOINT = 'https://tricenter-ttl.cn-shanghai.ots.aliyuncs.com';
const ENV = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-ttl',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'ttl-secret',
  ALIBABA_CLOUD_SECURITY_TOKEN: 'ttl-token',
};
const target = { endpoint: ENDPOINT, instance: 'tricenter-ttl', prefix: 'prod_' };

const server = setupServer();
let fake: FakeTablestore;
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());
beforeEach(() => {
  fake = new FakeTablestore({
    endpoint: ENDPOINT,
    instance: 'tricenter-ttl',
    keys: { 'LTAI-ttl': { secret: 'ttl-secret', stsToken: 'ttl-token' } },
  });
  server.resetHandlers(...fake.handlers());
});

describe('setup: time to live of the task rows', () => {
  it('creates task_reports with a 30-day time to live and every other table without one', async () => {
    expect(TASK_REPORTS_TTL_S).toBe(30 * 24 * 3600);
    await runSetup(target, ENV);
    expect(fake.tables.get('prod_task_reports')?.timeToLive).toBe(TASK_REPORTS_TTL_S);
    const others = [...fake.tables.values()].filter((t) => t.name !== 'prod_task_reports');
    expect(others.length).toBeGreaterThan(5);
    for (const table of others) expect({ table: table.name, ttl: table.timeToLive }).toEqual({ table: table.name, ttl: -1 });
    // Nothing to update on a fresh instance.
    expect(fake.calls.filter((c) => c.action === 'UpdateTable')).toEqual([]);
  });

  it('gives an existing task_reports made without it the time to live, and touches no other existing table', async () => {
    await runSetup(target, ENV);
    // What an earlier setup left: task_reports for ever, with a row in it.
    const old = fake.tables.get('prod_task_reports');
    if (!old) throw new Error('setup made no task_reports');
    old.timeToLive = -1;
    old.rows.set('kept', {} as never);
    const again = await runSetup(target, ENV);
    expect(again.tables.every((t) => t.status === 'exists')).toBe(true);
    expect(fake.tables.get('prod_task_reports')?.timeToLive).toBe(TASK_REPORTS_TTL_S);
    expect(fake.tables.get('prod_task_reports')?.rows.has('kept')).toBe(true);
    expect(fake.calls.filter((c) => c.action === 'UpdateTable').map((c) => [c.table, c.stsToken])).toEqual([
      ['prod_task_reports', 'ttl-token'],
    ]);
    for (const table of fake.tables.values()) if (table.name !== 'prod_task_reports') expect(table.timeToLive).toBe(-1);
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
