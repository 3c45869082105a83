import { Command } from 'commander';
import { setupServer } from 'msw/node';
import TableStore from 'tablestore';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { register, runSetup } from '#cli/commands/setup.ts';
import { FakeTablestore } from './tablestore-msw.ts';

const ENDPOINT = 'https://tricenter-setup.cn-shanghai.ots.aliyuncs.com';
const ENV = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-setup',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'setup-secret',
  ALIBABA_CLOUD_SECURITY_TOKEN: 'setup-token',
};

const server = setupServer();
let fake: FakeTablestore;
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());
beforeEach(() => {
  fake = new FakeTablestore({ endpoint: ENDPOINT, instance: 'tricenter-setup', keys: { 'LTAI-setup': { secret: 'setup-secret', stsToken: 'setup-token' } } });
  server.resetHandlers(...fake.handlers());
});
afterEach(() => vi.restoreAllMocks());

describe('tricenter setup', () => {
  it('creates the six tables with string keys, one version, no TTL, and the by-app indexes', async () => {
    const result = await runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup', prefix: 'prod_' }, ENV);
    expect(result.tables).toEqual([
      { table: 'prod_releases', status: 'created' },
      { table: 'prod_runs', status: 'created' },
      { table: 'prod_apps', status: 'created' },
      { table: 'prod_ingests', status: 'created' },
      { table: 'prod_traffic_claims', status: 'created' },
      { table: 'prod_rejected_uploads', status: 'created' },
    ]);
    expect(fake.calls.filter((c) => c.action === 'CreateTable').map((c) => [c.table, c.stsToken])).toEqual([
      ['prod_releases', 'setup-token'],
      ['prod_runs', 'setup-token'],
      ['prod_apps', 'setup-token'],
      ['prod_ingests', 'setup-token'],
      ['prod_traffic_claims', 'setup-token'],
      ['prod_rejected_uploads', 'setup-token'],
    ]);
    const runs = fake.tables.get('prod_runs')!;
    expect(runs.primaryKey).toEqual([{ name: 'id', type: TableStore.PrimaryKeyType.STRING }]);
    expect([...runs.definedColumns]).toEqual([
      ['app_key', TableStore.DefinedColumnType.DCT_STRING],
      ['created_at', TableStore.DefinedColumnType.DCT_INTEGER],
    ]);
    expect(runs.indexes).toEqual([{ name: 'prod_runs_by_app', primaryKey: ['app_key', 'created_at', 'id'] }]);
    expect(fake.tables.get('prod_apps')!.primaryKey).toEqual([{ name: 'app', type: TableStore.PrimaryKeyType.STRING }]);
    expect(fake.tables.get('prod_ingests')!.indexes).toEqual([]);
    expect(fake.tables.get('prod_traffic_claims')!.primaryKey).toEqual([{ name: 'resource', type: TableStore.PrimaryKeyType.STRING }]);
    expect(fake.tables.get('prod_rejected_uploads')!.primaryKey).toEqual([{ name: 'upload', type: TableStore.PrimaryKeyType.STRING }]);
  });

  it('is idempotent: a second run reports the tables as existing', async () => {
    await runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup' }, ENV);
    const again = await runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup' }, ENV);
    expect(again.tables.map((t) => t.status)).toEqual(['exists', 'exists', 'exists', 'exists', 'exists', 'exists']);
    expect(fake.calls.filter((c) => c.errorCode === 'OTSObjectAlreadyExist')).toHaveLength(6);
  });

  it('takes instance, endpoint and prefix from the environment s.yaml uses', async () => {
    const result = await runSetup({}, { ...ENV, TRICENTER_OTS_INSTANCE: 'tricenter-setup', TRICENTER_OTS_ENDPOINT: ENDPOINT, TRICENTER_OTS_TABLE_PREFIX: 'env_' });
    expect(result.tables[0]).toEqual({ table: 'env_releases', status: 'created' });
  });

  it('refuses to run without credentials or instance, saying what to set', async () => {
    await expect(runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup' }, {})).rejects.toThrow(/set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET/);
    await expect(runSetup({ endpoint: ENDPOINT }, ENV)).rejects.toThrow(/pass --instance or set TRICENTER_OTS_INSTANCE/);
    await expect(runSetup({ endpoint: ENDPOINT, instance: 'tricenter-setup', prefix: '1bad-' }, ENV)).rejects.toThrow(/table prefix "1bad-" is not valid/);
    expect(fake.calls).toEqual([]);
  });

  it('runs as a CLI command and prints one line per table', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, ENV);
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const program = new Command('tricenter').exitOverride();
      register(program);
      await program.parseAsync(['setup', '--endpoint', ENDPOINT, '--instance', 'tricenter-setup', '--prefix', 'cli_'], { from: 'user' });
    } finally {
      process.env = saved;
    }
    const text = out.join('');
    expect(text).toContain(`Tablestore tricenter-setup at ${ENDPOINT}`);
    expect(text).toMatch(/cli_runs\s+created/);
    expect(text.match(/created/g)).toHaveLength(6);
  });
});
