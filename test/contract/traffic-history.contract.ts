import { describe, expect, it } from 'vitest';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import type { TrafficHistoryStore } from '#shared/traffic/ports/traffic-history.port.ts';
import type { TrafficRecord } from '#shared/traffic/domain/types.ts';

/**
 * What every TrafficHistoryStore must do: `describeTrafficHistoryContract('sqlite', () => ...)`.
 * `make` returns a fresh, empty history, and the run store beside it when there is one: the two
 * are separate records, so neither write conflicts with the other.
 */

const app: AppRef = { namespace: 'demo', name: 'web-demo' };
const other: AppRef = { namespace: 'demo', name: 'other' };
const record = (absent: number): TrafficRecord => ({
  history: { pools: { 'pool-beijing': { '127.0.0.2': { cluster: 'cluster1-beijing', absent } } }, observedAt: 1_000 + absent },
});

export function describeTrafficHistoryContract(
  label: string,
  make: () => Promise<{ history: TrafficHistoryStore; runStore?: RunStore }>,
): void {
  describe(`TrafficHistoryStore contract: ${label}`, () => {
    it('creates once, then replaces only at the expected version', async () => {
      const { history } = await make();
      expect(await history.get(app)).toBeUndefined();
      const v1 = await history.put(app, record(0), null);
      await expect(history.put(app, record(1), null)).rejects.toMatchObject({ code: 'CONFLICT', retryable: true });
      const v2 = await history.put(app, record(1), v1);
      expect(v2).toBeGreaterThan(v1);
      await expect(history.put(app, record(2), v1)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await history.get(app)).toEqual({ record: record(1), version: v2 });
      expect(await history.get(other)).toBeUndefined();
    });

    it('refuses a replacement of a history that does not exist', async () => {
      const { history } = await make();
      await expect(history.put(app, record(0), 1)).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await history.get(app)).toBeUndefined();
    });

    it('never shares the stored document with the caller', async () => {
      const { history } = await make();
      const doc = record(0);
      await history.put(app, doc, null);
      doc.history.observedAt = 42;
      const read = await history.get(app);
      read!.record.history.observedAt = 43;
      expect((await history.get(app))?.record.history.observedAt).toBe(1_000);
    });

    it('is a record of its own: workflow writes to the application record never conflict with it', async () => {
      const { history, runStore } = await make();
      if (!runStore) return;
      const created = await runStore.saveApp({ app, updatedAt: 1, version: 0 }, null);
      const v1 = await history.put(app, record(0), null);
      const saved = await runStore.saveApp({ ...created, currentRunId: 'run-2', updatedAt: 2 }, created.version);
      expect(await history.put(app, record(1), v1)).toBe(v1 + 1);
      expect(await runStore.getApp(app)).toMatchObject({ currentRunId: 'run-2', version: saved.version });
      expect(await runStore.getApp(other)).toBeUndefined();
    });
  });
}
