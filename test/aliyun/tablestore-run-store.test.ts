import { setupServer } from 'msw/node';
import TableStore from 'tablestore';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CloudCredentials } from '#shared/platform/credentials.ts';
import { BODY_CHUNK_BYTES, MAX_BODY_BYTES } from '#shared/delivery/adapters/aliyun/tablestore-rows.ts';
import type { TablestoreRunStore, TablestoreRunStoreOptions } from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';
import { createTables, tablestoreClient } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { ConflictError, TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { ReleasePlan } from '#shared/delivery/model/plan.ts';
import type { Release } from '#shared/delivery/model/records.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { describeRunStoreContract } from '../contract/run-store.contract.ts';
import { deployStep, plan } from '../workflow/plans.ts';
import { FakeTablestore, type FakeInstanceAddress, instantBackoff, OTS_ERRORS, runStoreOn } from './tablestore-msw.ts';

const ENDPOINT = 'https://tricenter-wire.cn-hangzhou.ots.aliyuncs.com';
const INSTANCE = 'tricenter-wire';
const KEY = { accessKeyId: 'STS.wire-key', accessKeySecret: 'ots-secret-never-logged', securityToken: 'sts-token-never-logged' };
const PREFIX = 'wire_';

const server = setupServer();
let fake: FakeTablestore;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

async function freshInstance(options: { rowsPerCall?: number; keys?: CloudCredentials[] } = {}): Promise<void> {
  const keys = Object.fromEntries(
    (options.keys ?? [KEY]).map((k) => [
      k.accessKeyId,
      { secret: k.accessKeySecret, ...(k.securityToken ? { stsToken: k.securityToken } : {}) },
    ]),
  );
  fake = new FakeTablestore({
    endpoint: ENDPOINT,
    instance: INSTANCE,
    keys,
    ...(options.rowsPerCall ? { rowsPerCall: options.rowsPerCall } : {}),
  });
  server.resetHandlers(...fake.handlers());
  await createTables(tablestoreClient({ endpoint: ENDPOINT, instance: INSTANCE, credentials: KEY }), PREFIX);
}

const AT: FakeInstanceAddress = { endpoint: ENDPOINT, instance: INSTANCE, prefix: PREFIX, key: KEY };

function store(overrides: Partial<TablestoreRunStoreOptions> = {}): TablestoreRunStore {
  return runStoreOn(AT, instantBackoff(), overrides);
}

describeRunStoreContract('tablestore over msw', async () => {
  await freshInstance();
  return store();
});
describeRunStoreContract('tablestore over msw, 1 row per GetRange call', async () => {
  await freshInstance({ rowsPerCall: 1 });
  return store();
});
describeRunStoreContract('tablestore over msw, every 3rd request throttled (OTSServerBusy) first', async () => {
  await freshInstance();
  fake.injectEvery(3, { error: OTS_ERRORS.serverBusy });
  return store();
});
describeRunStoreContract('tablestore over msw, every 2nd write applied but its answer lost', async () => {
  await freshInstance();
  fake.injectEvery(2, { action: 'PutRow', applied: true });
  return store();
});
describeRunStoreContract('tablestore over msw, every 4th request answered OTSTimeout after it was carried out', async () => {
  await freshInstance();
  fake.injectEvery(4, { error: OTS_ERRORS.timeout, applied: true });
  return store();
});

/** A release plan whose row is large: one target naming `count` packs (digest-sized strings, with a 2-byte character to cut around). */
const releasePlan = (count: number): ReleasePlan => ({
  ...plan([]),
  steps: [
    {
      ...deployStep('deploy', []),
      targets: [{ cluster: 'c1', packs: Array.from({ length: count }, (_, i) => `é${i.toString(16).padStart(63, '0')}`) }],
    },
  ],
});

const newRun = (id: string, createdAt: number) =>
  createRun({ id, releaseId: `rel-${id}`, plan: plan([deployStep('deploy', ['c1'])]) }, createdAt);

describe('TablestoreRunStore on the wire', () => {
  beforeEach(() => freshInstance());

  it('creates with EXPECT_NOT_EXIST and updates with EXPECT_EXIST + version == expected (INTEGER)', async () => {
    const s = store();
    const created = await s.createRun(newRun('run-1', 10));
    await s.updateRun({ ...created, reason: 'moved on' }, created.version);
    const puts = fake.calls.filter((c) => c.action === 'PutRow' && c.table === 'wire_runs');
    expect(puts[0]?.condition).toEqual({ rowExistence: TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST });
    expect(puts[1]?.condition).toEqual({
      rowExistence: TableStore.RowExistenceExpectation.EXPECT_EXIST,
      column: { name: 'version', comparator: TableStore.ComparatorType.EQUAL, value: { t: 'integer', v: 1 }, passIfMissing: false },
    });
    const row = [...fake.tables.get('wire_runs')!.rows.values()][0]!;
    expect(row.columns.get('version')?.cell).toEqual({ t: 'integer', v: 2 });
    expect(row.columns.get('app_key')?.cell).toEqual({ t: 'string', v: 'demo/web-demo' });
  });

  it('maps HTTP 403 OTSConditionCheckFail to ConflictError', async () => {
    const s = store();
    const created = await s.createRun(newRun('run-1', 10));
    await s.updateRun(created, 1);
    const lost = await s.updateRun(created, 1).catch((err: unknown) => err);
    expect(lost).toBeInstanceOf(ConflictError);
    expect((lost as Error).message).toMatch(/run run-1 changed since version 1/);
    expect(fake.calls.at(-1)).toMatchObject({ action: 'PutRow', status: 403, errorCode: 'OTSConditionCheckFail' });
  });

  it('splits a large release across body columns and reads it back whole', async () => {
    const s = store();
    const big = releasePlan(40_000);
    const release: Release = {
      id: 'big',
      app: big.app,
      publishVersion: big.publishVersion,
      contentHash: big.contentHash,
      createdAt: 5,
      plan: big,
      source: { bucket: 'b', key: 'k', etag: 'E' },
    };
    await s.putRelease(release);
    const row = fake.tables.get('wire_releases')!.rows.values().next().value!;
    const chunks = (row.columns.get('body_chunks')?.cell as { v: number }).v;
    expect(chunks).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(release)) / BODY_CHUNK_BYTES));
    expect(chunks).toBeGreaterThan(1);
    expect(await s.getRelease('big')).toEqual(release);
  });

  it('refuses a document over the row limit before sending, naming it and the sizes', async () => {
    const s = store();
    const huge = releasePlan(60_000);
    const before = fake.calls.length;
    const refused = await s
      .putRelease({
        id: 'huge',
        app: huge.app,
        publishVersion: 'v',
        contentHash: 'h',
        createdAt: 1,
        plan: huge,
        source: { bucket: 'b', key: 'k', etag: 'E' },
      })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TricenterError);
    expect((refused as TricenterError).code).toBe('BUNDLE_TOO_LARGE');
    expect((refused as Error).message).toMatch(
      new RegExp(`release huge is \\d+ bytes as JSON, over the Tablestore row limit of ${MAX_BODY_BYTES}`),
    );
    expect(fake.calls.length).toBe(before);
  });

  it('lists newest first through the by-app index, BACKWARD, following short pages', async () => {
    await freshInstance({ rowsPerCall: 2 });
    const s = store();
    for (let i = 1; i <= 5; i++) await s.createRun(newRun(`run-${i}`, i * 10));
    const page = await s.listRuns({ namespace: 'demo', name: 'web-demo' }, { limit: 5 });
    expect(page.items.map((r) => r.id)).toEqual(['run-5', 'run-4', 'run-3', 'run-2', 'run-1']);
    expect(page.nextCursor).toBeUndefined();
    const ranges = fake.calls.filter((c) => c.action === 'GetRange');
    expect(ranges.map((c) => [c.table, c.direction, c.limit])).toEqual([
      ['wire_runs_by_app', 'BACKWARD', 5],
      ['wire_runs_by_app', 'BACKWARD', 3],
      ['wire_runs_by_app', 'BACKWARD', 1],
    ]);
  });

  it('reads a listed page with one BatchGetRow, and rows the batch left unread one by one', async () => {
    const s = store();
    for (let i = 1; i <= 4; i++) await s.createRun(newRun(`run-${i}`, i));
    fake.calls.length = 0;
    fake.failBatchRowsNext(2);
    const page = await s.listRuns({ namespace: 'demo', name: 'web-demo' }, { limit: 4 });
    expect(page.items.map((r) => [r.id, r.version])).toEqual([
      ['run-4', 1],
      ['run-3', 1],
      ['run-2', 1],
      ['run-1', 1],
    ]);
    expect(fake.calls.map((c) => [c.action, c.table])).toEqual([
      ['GetRange', 'wire_runs_by_app'],
      ['BatchGetRow', 'wire_runs'],
      ['GetRow', 'wire_runs'],
      ['GetRow', 'wire_runs'],
    ]);
  });

  it('refuses a cursor of another application or another listing', async () => {
    const s = store();
    for (let i = 1; i <= 3; i++) await s.createRun(newRun(`run-${i}`, i));
    const first = await s.listRuns({ namespace: 'demo', name: 'web-demo' }, { limit: 1 });
    await expect(s.listRuns({ namespace: 'demo', name: 'other' }, { cursor: first.nextCursor! })).rejects.toThrow(
      /cursor ".+" is not one this store returned/,
    );
    await expect(s.listApps({ cursor: first.nextCursor! })).rejects.toThrow(/is not one this store returned/);
  });

  it('signs every request with the credentials valid at that moment (STS keys rotate between invocations)', async () => {
    const second = { accessKeyId: 'STS.second', accessKeySecret: 'second-secret', securityToken: 'second-token' };
    await freshInstance({ keys: [KEY, second] });
    let current: CloudCredentials = KEY;
    const s = store({ credentials: () => current });
    await s.createRun(newRun('run-1', 1));
    current = second;
    expect(await s.getRun('run-1')).toMatchObject({ id: 'run-1' });
    expect(fake.calls.slice(-2).map((c) => c.stsToken)).toEqual([KEY.securityToken, second.securityToken]);
    current = { ...second, securityToken: 'expired' };
    await expect(s.getRun('run-1')).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('keys an ingest whose OSS key is too long for a primary key by its SHA-256', async () => {
    const s = store();
    const key = { bucket: 'tricenter-bundles', key: `bundles/${'deep/'.repeat(200)}app.tar.gz`, etag: 'ABC' };
    const claim = await s.claimIngest(key, 1);
    expect(claim.claimed).toBe(true);
    await s.completeIngest(claim.record, { outcome: 'unchanged' }, 2);
    expect(await s.claimIngest(key, 3)).toMatchObject({ claimed: false, record: { key, status: 'completed' } });
    expect([...fake.tables.get('wire_ingests')!.rows.keys()][0]).toMatch(/^\[\{"t":"string","v":"sha256:[0-9a-f]{64}"\}\]$/);
  });

  it('tells to run `tricenter setup` when the tables are missing', async () => {
    fake = new FakeTablestore({
      endpoint: ENDPOINT,
      instance: INSTANCE,
      keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
    });
    server.resetHandlers(...fake.handlers());
    await expect(store().getRun('x')).rejects.toThrow(/table does not exist; create the tables with `tricenter setup`/);
  });

  it('logs a failed write without the secret or the token', async () => {
    const logger = memoryLogger();
    const s = store({ logger });
    fake.failNext('PutRow', 'OTSParameterInvalid', 400);
    await expect(s.createRun(newRun('run-1', 1))).rejects.toMatchObject({ code: 'INTERNAL', retryable: false });
    const lines = JSON.stringify(logger.lines);
    expect(logger.lines.some((l) => l.msg === 'tablestore write failed')).toBe(true);
    expect(lines).not.toContain(KEY.accessKeySecret);
    expect(lines).not.toContain(KEY.securityToken);
  });
});
