import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { describeTrafficHistoryContract } from '../contract/traffic-history.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'tricenter-traffic-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeTrafficHistoryContract('memory test double', async () => ({ history: new MemoryTrafficHistoryStore() }));
describeTrafficHistoryContract('sqlite :memory:', async () => {
  const runStore = new SqliteRunStore({ path: ':memory:' });
  return { history: runStore.trafficHistory, runStore };
});

describe('SQLite traffic history on a file', () => {
  it('two handles on one file exclude each other and a reopen keeps the history', async () => {
    const path = join(dir, 'store.db');
    const a = new SqliteRunStore({ path });
    const b = new SqliteRunStore({ path });
    const app = { namespace: 'demo', name: 'web-demo' };
    const v1 = await a.trafficHistory.put(app, { history: { pools: {}, observedAt: 1 } }, null);
    await b.trafficHistory.put(app, { history: { pools: {}, observedAt: 2 } }, v1);
    await expect(a.trafficHistory.put(app, { history: { pools: {}, observedAt: 3 } }, v1)).rejects.toMatchObject({ code: 'CONFLICT' });
    await a.close();
    await b.close();
    const reopened = new SqliteRunStore({ path });
    expect(await reopened.trafficHistory.get(app)).toEqual({ record: { history: { pools: {}, observedAt: 2 } }, version: 2 });
    await reopened.close();
  });
});
