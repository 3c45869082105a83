import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConsumingTaskQueue, QueueMessage } from '#shared/delivery/ports/task-queue.port.ts';

/**
 * What every task queue must do, seen from the sender and the handler:
 * `describeTaskQueueContract('in-process', () => new InProcessQueue({ retryBaseMs: 1 }))`.
 * A send-only cloud queue (FC async invoke) runs it through a harness that feeds the intercepted
 * invocations to the handler. Adapters must re-deliver within a few milliseconds in tests.
 */

export interface ContractMessage extends QueueMessage {
  n: number;
  payload: { runId: string; nested: { list: number[] } };
}

function message(n: number): ContractMessage {
  return { key: `run-1/step/c${n}/1`, n, payload: { runId: 'run-1', nested: { list: [n, n + 1] } } };
}

export function describeTaskQueueContract(label: string, makeQueue: () => ConsumingTaskQueue<ContractMessage>): void {
  describe(`TaskQueue contract: ${label}`, () => {
    let queue: ConsumingTaskQueue<ContractMessage>;
    beforeEach(() => {
      queue = makeQueue();
    });
    afterEach(async () => {
      await queue.stop();
    });

    it('delivers every message at least once, intact', async () => {
      const seen: ContractMessage[] = [];
      queue.start(async (m) => {
        seen.push(m);
      });
      const sent = Array.from({ length: 20 }, (_, i) => message(i));
      await queue.send(sent);
      await queue.drain();
      const unique = new Map(seen.map((m) => [m.key, m]));
      expect([...unique.values()].sort((a, b) => a.n - b.n)).toEqual(sent);
    });

    it('keeps messages sent before start until a handler is there', async () => {
      await queue.send([message(1), message(2)]);
      const seen = new Set<string>();
      queue.start(async (m) => {
        seen.add(m.key);
      });
      await queue.drain();
      expect(seen).toEqual(new Set([message(1).key, message(2).key]));
    });

    it('re-delivers a message whose handler threw, counting deliveries', async () => {
      const deliveries: number[] = [];
      queue.start(async (m, context) => {
        deliveries.push(context.delivery);
        if (context.delivery < 3) throw new Error(`transient failure of ${m.key}`);
      });
      await queue.send([message(7)]);
      await queue.drain();
      expect(deliveries).toEqual([1, 2, 3]);
    });

    it('drains only after the messages that handlers send in turn are handled', async () => {
      const handled: number[] = [];
      queue.start(async (m) => {
        handled.push(m.n);
        if (m.n < 5) await queue.send([message(m.n + 1)]);
      });
      await queue.send([message(0)]);
      await queue.drain();
      expect(handled).toEqual([0, 1, 2, 3, 4, 5]);
    });
  });
}
