import { describe, expect, it } from 'vitest';
import { SqliteRunStore } from '#shared/adapters/local/sqlite-run-store.ts';
import { RunStoreTrafficHistory } from '#shared/adapters/run-store-traffic-history.ts';
import type { TrafficRecord } from '#shared/ports/traffic-history.port.ts';

const app = { namespace: 'demo', name: 'web-demo' };
const record = (absent: number): TrafficRecord => ({
  history: { pools: { 'pool-beijing': { '127.0.0.2': { cluster: 'cluster1-beijing', absent } } }, observedAt: 1_000 + absent },
});

describe('traffic history in the run store (the cloud and local adapter)', () => {
  it('creates once, replaces only at the version read, and keeps the workflow fields', async () => {
    const store = new SqliteRunStore({ path: ':memory:' });
    const history = new RunStoreTrafficHistory(store);
    await expect(history.put(app, record(0), null)).rejects.toMatchObject({ code: 'CONFLICT' });
    await store.saveApp({ app, currentRunId: 'run-1', updatedAt: 1, version: 0 }, null);
    expect(await history.get(app)).toBeUndefined();

    const v1 = await history.put(app, record(0), null);
    await expect(history.put(app, record(1), null)).rejects.toMatchObject({ code: 'CONFLICT', retryable: true });
    const v2 = await history.put(app, record(1), v1);
    expect(v2).toBeGreaterThan(v1);
    await expect(history.put(app, record(2), v1)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await history.get(app)).toEqual({ record: record(1), version: v2 });
    expect((await store.getApp(app))?.currentRunId).toBe('run-1');

    // A workflow write in between makes the next traffic write conflict, never overwrite it.
    const current = await store.getApp(app);
    await store.saveApp({ ...current!, currentRunId: 'run-2' }, current!.version);
    await expect(history.put(app, record(3), v2)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.getApp(app))?.currentRunId).toBe('run-2');
    await store.close();
  });
});
