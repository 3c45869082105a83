import { describe, expect, it } from 'vitest';
import { InProcessQueue } from '#shared/adapters/local/in-process-queue.ts';
import { InjectedCrash } from '#shared/ports/task-queue.port.ts';
import { describeTaskQueueContract, type ContractMessage } from '../contract/task-queue.contract.ts';

describeTaskQueueContract('in-process', () => new InProcessQueue<ContractMessage>({ retryBaseMs: 1, retryMaxMs: 5 }));
describeTaskQueueContract('in-process, concurrency 1, delays', () => new InProcessQueue<ContractMessage>({ concurrency: 1, retryBaseMs: 1, faults: { delayMs: [0, 3], seed: 9 } }));

type Message = { key: string };
const messages = (count: number): Message[] => Array.from({ length: count }, (_, i) => ({ key: `m-${i}` }));

describe('InProcessQueue', () => {
  it('never runs more handlers at once than its concurrency', async () => {
    const queue = new InProcessQueue<Message>({ concurrency: 3 });
    let active = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    queue.start(async () => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise<void>((resolve) => gates.push(resolve));
      active -= 1;
    });
    await queue.send(messages(10));
    // Release handlers one by one as they arrive: each release lets exactly one more start.
    while (queue.stats.delivered < 10 || gates.length > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      gates.shift()?.();
    }
    await queue.drain();
    expect(peak).toBe(3);
    expect(queue.stats.delivered).toBe(10);
  });

  it('sets a message aside after maxDeliveries failed deliveries', async () => {
    const queue = new InProcessQueue<Message>({ maxDeliveries: 3, retryBaseMs: 1 });
    let calls = 0;
    queue.start(async () => {
      calls += 1;
      throw new Error('cluster API says no');
    });
    await queue.send([{ key: 'poison' }]);
    await queue.drain();
    expect(calls).toBe(3);
    expect(queue.deadLetters).toEqual([{ message: { key: 'poison' }, error: 'cluster API says no' }]);
    expect(queue.stats).toMatchObject({ retried: 2, deadLettered: 1 });
  });

  it('duplicates, reorders and drops reproducibly for a seed', async () => {
    const runOnce = async () => {
      const queue = new InProcessQueue<Message>({ concurrency: 2, faults: { duplicateRate: 0.3, dropRate: 0.1, delayMs: [0, 4], seed: 42 } });
      const order: string[] = [];
      queue.start(async (m) => {
        order.push(m.key);
      });
      await queue.send(messages(200));
      await queue.drain();
      return { order, stats: { ...queue.stats } };
    };
    const first = await runOnce();
    const { stats } = first;
    expect(stats.duplicated).toBeGreaterThan(30);
    expect(stats.duplicated).toBeLessThan(90);
    expect(stats.dropped).toBeGreaterThan(5);
    expect(stats.dropped).toBeLessThan(40);
    expect(first.order).toHaveLength(200 - stats.dropped + stats.duplicated);
    expect(new Set(first.order).size).toBe(200 - stats.dropped);
    const inSendOrder = [...new Set(first.order)].every((key, i, all) => i === 0 || Number(key.slice(2)) > Number(all[i - 1]!.slice(2)));
    expect(inSendOrder).toBe(false);
    const second = await runOnce();
    expect(second.stats).toEqual(first.stats);
    expect(new Set(second.order)).toEqual(new Set(first.order));
  });

  it('crashes between apply and record through the fault hook; retries record each message once', async () => {
    const queue = new InProcessQueue<Message>({ retryBaseMs: 1, maxDeliveries: 10, faults: { crashAfterApplyRate: 0.3, seed: 7 } });
    const applied = new Map<string, number>();
    const recorded = new Map<string, number>();
    const errors: unknown[] = [];
    queue.start(async (m, { faults }) => {
      applied.set(m.key, (applied.get(m.key) ?? 0) + 1);
      try {
        faults.afterApply();
      } catch (err) {
        errors.push(err);
        throw err;
      }
      recorded.set(m.key, (recorded.get(m.key) ?? 0) + 1);
    });
    await queue.send(messages(100));
    await queue.drain();
    expect(queue.stats.crashed).toBeGreaterThan(10);
    expect(errors.every((e) => e instanceof InjectedCrash)).toBe(true);
    expect([...recorded.values()].every((n) => n === 1)).toBe(true);
    expect(recorded.size).toBe(100);
    const appliedTotal = [...applied.values()].reduce((a, b) => a + b, 0);
    expect(appliedTotal).toBe(100 + queue.stats.crashed);
  });

  it('discards undelivered messages on stop and waits for handlers in flight', async () => {
    const queue = new InProcessQueue<Message>({ concurrency: 1 });
    let finished = 0;
    let release!: () => void;
    const started = new Promise<void>((resolveStarted) => {
      queue.start(async () => {
        resolveStarted();
        await new Promise<void>((resolve) => (release = resolve));
        finished += 1;
      });
    });
    await queue.send(messages(5));
    await started;
    const stopping = queue.stop();
    release();
    await stopping;
    await queue.drain();
    expect(finished).toBe(1);
    expect(queue.stats.delivered).toBe(1);
  });
});
