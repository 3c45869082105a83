import { describe, expect, it } from 'vitest';
import { MemoryTrafficHistoryStore, SqliteTrafficHistoryStore } from '#shared/adapters/local/traffic-history-stores.ts';
import type { TrafficHistoryStore, TrafficRecord } from '#shared/ports/traffic-history.port.ts';

const app = { namespace: 'demo', name: 'web-demo' };
const record = (absent: number): TrafficRecord => ({
  history: { pools: { 'pool-beijing': { '127.0.0.2': { cluster: 'cluster1-beijing', absent } } }, observedAt: 1_000 + absent },
});

describe.each<[string, () => TrafficHistoryStore]>([
  ['memory', () => new MemoryTrafficHistoryStore()],
  ['sqlite', () => new SqliteTrafficHistoryStore({ path: ':memory:' })],
])('TrafficHistoryStore (%s)', (_label, make) => {
  it('creates once, then replaces only at the expected version', async () => {
    const store = make();
    expect(await store.get(app)).toBeUndefined();
    expect(await store.put(app, record(0), null)).toBe(1);
    await expect(store.put(app, record(1), null)).rejects.toMatchObject({ code: 'CONFLICT', retryable: true });
    expect(await store.put(app, record(1), 1)).toBe(2);
    await expect(store.put(app, record(2), 1)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await store.get(app)).toEqual({ record: record(1), version: 2 });
    expect(await store.get({ namespace: 'demo', name: 'other' })).toBeUndefined();
  });

  it('never shares the stored document with the caller', async () => {
    const store = make();
    const doc = record(0);
    await store.put(app, doc, null);
    doc.history.observedAt = 42;
    const read = await store.get(app);
    read!.record.history.observedAt = 43;
    expect((await store.get(app))?.record.history.observedAt).toBe(1_000);
  });
});
