import { describe, expect, it } from 'vitest';
import { MemoryTrafficHistoryStore } from '#shared/adapters/local/traffic-history-stores.ts';
import { SqliteRunStore } from '#shared/adapters/local/sqlite-run-store.ts';
import { RunStoreTrafficHistory } from '#shared/adapters/run-store-traffic-history.ts';
import type { TrafficHistoryStore, TrafficRecord } from '#shared/ports/traffic-history.port.ts';

const app = { namespace: 'demo', name: 'web-demo' };
const record = (absent: number): TrafficRecord => ({
  history: { pools: { 'pool-beijing': { '127.0.0.2': { cluster: 'cluster1-beijing', absent } } }, observedAt: 1_000 + absent },
});

/** The run store's app record (what the functions use) must exist first: traffic follows a release. */
async function inRunStore(): Promise<TrafficHistoryStore> {
  const store = new SqliteRunStore({ path: ':memory:' });
  for (const a of [app, { namespace: 'demo', name: 'other' }]) await store.saveApp({ app: a, updatedAt: 0, version: 0 }, null);
  return new RunStoreTrafficHistory(store);
}

describe.each<[string, () => TrafficHistoryStore | Promise<TrafficHistoryStore>]>([
  ['memory test double', () => new MemoryTrafficHistoryStore()],
  ['run store (SQLite)', inRunStore],
])('TrafficHistoryStore (%s)', (_label, make) => {
  it('creates once, then replaces only at the expected version', async () => {
    const store = await make();
    expect(await store.get(app)).toBeUndefined();
    const v1 = await store.put(app, record(0), null);
    await expect(store.put(app, record(1), null)).rejects.toMatchObject({ code: 'CONFLICT', retryable: true });
    const v2 = await store.put(app, record(1), v1);
    expect(v2).toBeGreaterThan(v1);
    await expect(store.put(app, record(2), v1)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await store.get(app)).toEqual({ record: record(1), version: v2 });
    expect(await store.get({ namespace: 'demo', name: 'other' })).toBeUndefined();
  });

  it('never shares the stored document with the caller', async () => {
    const store = await make();
    const doc = record(0);
    await store.put(app, doc, null);
    doc.history.observedAt = 42;
    const read = await store.get(app);
    read!.record.history.observedAt = 43;
    expect((await store.get(app))?.record.history.observedAt).toBe(1_000);
  });
});
