import { describe, expect, it } from 'vitest';
import type { NewOutboxEntry, NotificationOutbox } from '#shared/delivery/ports/notification-outbox.port.ts';

/**
 * What every NotificationOutbox must do: `describeNotificationOutboxContract('sqlite', () => ...)`.
 * `make` returns a fresh, empty outbox and a second handle on the same data (another connection,
 * another adapter instance), so that concurrent claims really come from two writers.
 */
const entry = (key: string, overrides: Partial<NewOutboxEntry> = {}): NewOutboxEntry => ({
  key,
  channel: 'ops-room',
  message: {
    kind: 'waiting-for-approval',
    app: { namespace: 'demo', name: 'web-demo' },
    runId: 'run-1',
    publishVersion: 'v1',
    step: 'deploy-rest',
    summary: 'waiting for an approval',
  },
  createdAt: 1_000,
  dueAt: 2_000,
  lastError: 'HTTP 500',
  ...overrides,
});

export function describeNotificationOutboxContract(
  label: string,
  make: () => Promise<{ outbox: NotificationOutbox; second: NotificationOutbox }>,
): void {
  describe(`NotificationOutbox contract: ${label}`, () => {
    it('adds an entry once per key, pending at version 1, and reads it back as stored', async () => {
      const { outbox, second } = await make();
      const a = entry('run-1/waiting-for-approval/deploy-rest/ops-room');
      expect(await outbox.add(a)).toBe(true);
      expect(await outbox.add({ ...a, dueAt: 99, lastError: 'again' })).toBe(false);
      expect(await second.add(a)).toBe(false);
      const stored = { ...a, state: 'pending', attempts: 0, version: 1 };
      expect(await outbox.get(a.key)).toEqual(stored);
      expect(await second.get(a.key)).toEqual(stored);
      expect(await outbox.get('run-1/unknown')).toBeUndefined();
    });

    it('lists pending entries due at or before now, oldest due first, at most the limit', async () => {
      const { outbox } = await make();
      await outbox.add(entry('c', { dueAt: 3_000 }));
      await outbox.add(entry('a', { dueAt: 2_000 }));
      await outbox.add(entry('b', { dueAt: 1_500 }));
      await outbox.add(entry('later', { dueAt: 9_000 }));
      expect((await outbox.listDue(1_499, 10)).map((e) => e.key)).toEqual([]);
      expect((await outbox.listDue(3_000, 10)).map((e) => e.key)).toEqual(['b', 'a', 'c']);
      expect((await outbox.listDue(3_000, 2)).map((e) => e.key)).toEqual(['b', 'a']);
    });

    it('claims for one attempt: leased (not due until the lease ends), one more attempt, one more version', async () => {
      const { outbox } = await make();
      await outbox.add(entry('k'));
      const [due] = await outbox.listDue(2_000, 10);
      const claimed = due && (await outbox.claim(due, 60_000));
      expect(claimed).toMatchObject({ key: 'k', state: 'pending', dueAt: 60_000, attempts: 1, version: 2 });
      expect(await outbox.get('k')).toEqual(claimed);
      expect(await outbox.listDue(59_999, 10)).toEqual([]);
      expect((await outbox.listDue(60_000, 10)).map((e) => e.key)).toEqual(['k']);
    });

    it('of concurrent claims of one listed entry from two writers, exactly one wins', async () => {
      const { outbox, second } = await make();
      await outbox.add(entry('race'));
      const [due] = await outbox.listDue(2_000, 10);
      if (!due) throw new Error('not listed');
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? outbox : second).claim(due, 50_000 + i)));
      const winners = results.filter((r) => r !== undefined);
      expect(winners).toHaveLength(1);
      expect(await outbox.get('race')).toEqual(winners[0]);
    });

    it('settles a claimed entry (no longer listed, kept with its state); a stale claim settles nothing', async () => {
      const { outbox, second } = await make();
      await outbox.add(entry('s'));
      const [due] = await outbox.listDue(2_000, 10);
      if (!due) throw new Error('not listed');
      const claimed = await outbox.claim(due, 60_000);
      if (!claimed) throw new Error('not claimed');
      expect(await second.settle(due, 'sent', 3_000)).toBe(false);
      expect(await outbox.settle(claimed, 'sent', 3_000)).toBe(true);
      expect(await outbox.get('s')).toEqual({ ...claimed, state: 'sent', settledAt: 3_000, version: 3 });
      expect(await outbox.listDue(1e12, 10)).toEqual([]);
      expect(await second.settle(claimed, 'given-up', 4_000, 'late')).toBe(false);
      expect(await outbox.claim({ ...claimed, version: 3, state: 'sent' }, 70_000)).toBeUndefined();
      // The same effect failing again is not queued again.
      expect(await outbox.add(entry('s'))).toBe(false);
    });

    it('gives up and drops with the reason kept', async () => {
      const { outbox } = await make();
      await outbox.add(entry('g'));
      await outbox.add(entry('d'));
      const due = await outbox.listDue(2_000, 10);
      const [d, g] = await Promise.all(due.map((e) => outbox.claim(e, 60_000)));
      if (!d || !g) throw new Error('not claimed');
      expect(await outbox.settle(g, 'given-up', 5_000, 'failed for 24 h: HTTP 500')).toBe(true);
      expect(await outbox.settle(d, 'dropped', 5_000, 'step no longer waits')).toBe(true);
      expect(await outbox.get('g')).toMatchObject({ state: 'given-up', lastError: 'failed for 24 h: HTTP 500', settledAt: 5_000 });
      expect(await outbox.get('d')).toMatchObject({ state: 'dropped', lastError: 'step no longer waits' });
    });

    it('reschedules a claimed entry with its error; the stale handle cannot reschedule it again', async () => {
      const { outbox, second } = await make();
      await outbox.add(entry('r'));
      const [due] = await outbox.listDue(2_000, 10);
      if (!due) throw new Error('not listed');
      const claimed = await outbox.claim(due, 60_000);
      if (!claimed) throw new Error('not claimed');
      expect(await outbox.reschedule(claimed, 8_000, 'HTTP 503')).toBe(true);
      expect(await second.reschedule(claimed, 9_000, 'HTTP 502')).toBe(false);
      expect(await outbox.get('r')).toEqual({ ...claimed, dueAt: 8_000, lastError: 'HTTP 503', version: 3 });
      expect((await second.listDue(8_000, 10)).map((e) => [e.key, e.attempts])).toEqual([['r', 1]]);
    });
  });
}
