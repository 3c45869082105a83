import { describe, expect, it } from 'vitest';
import { InProcessQueue } from '#shared/delivery/adapters/local/in-process-queue.ts';
import { describeTaskQueueContract, type ContractMessage } from '../contract/task-queue.contract.ts';

describeTaskQueueContract('in-process', () => new InProcessQueue<ContractMessage>({ retryBaseMs: 1, retryMaxMs: 5 }));
describeTaskQueueContract('in-process, concurrency 1', () => new InProcessQueue<ContractMessage>({ concurrency: 1, retryBaseMs: 1 }));

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
