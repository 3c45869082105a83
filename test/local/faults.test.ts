import { describe, expect, it } from 'vitest';
import { InProcessQueue } from '#shared/delivery/adapters/local/in-process-queue.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { transitionRun } from '#shared/delivery/usecases/transition-run.ts';
import { next, startRun } from '#shared/delivery/workflow/decider.ts';
import { FaultInjector, InjectedCrash } from '#local/faults.ts';
import { describeTaskQueueContract, type ContractMessage } from '../contract/task-queue.contract.ts';
import { deployStep, plan } from '../workflow/plans.ts';

/** The twin's fault injection wraps ports; the ports underneath stay as they are in production. */

describeTaskQueueContract('in-process behind injected delays', () =>
  new FaultInjector({ delayMs: [0, 3], seed: 9 }).queue(new InProcessQueue<ContractMessage>({ concurrency: 1, retryBaseMs: 1 })),
);

type Message = { key: string };
const messages = (count: number): Message[] => Array.from({ length: count }, (_, i) => ({ key: `m-${i}` }));

describe('FaultInjector', () => {
  it('duplicates, reorders and drops reproducibly for a seed, and drains the delayed copies', async () => {
    const runOnce = async () => {
      const faults = new FaultInjector({ duplicateRate: 0.3, dropRate: 0.1, delayMs: [0, 4], seed: 42 });
      const queue = faults.queue(new InProcessQueue<Message>({ concurrency: 2 }));
      const order: string[] = [];
      queue.start(async (m) => {
        order.push(m.key);
      });
      await queue.send(messages(200));
      await queue.drain();
      await queue.stop();
      return { order, stats: { ...faults.stats } };
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

  it('stop discards the delayed copies and drain still resolves', async () => {
    const queue = new FaultInjector({ delayMs: [50_000, 60_000] }).queue(new InProcessQueue<Message>());
    let handled = 0;
    queue.start(async () => {
      handled += 1;
    });
    await queue.send(messages(3));
    await queue.stop();
    await queue.drain();
    expect(handled).toBe(0);
  });

  it('crashes run writes only, before they are recorded; the store underneath is untouched', async () => {
    const store = new SqliteRunStore({ path: ':memory:' });
    const faults = new FaultInjector({ crashBeforeRecordRate: 0.5, seed: 7 });
    const crashing = faults.crashingRunWrites(store);
    const first = startRun({ id: 'run-1', releaseId: 'rel-1', plan: plan([deployStep('one', ['c1'])]) }, 1_000);
    await crashing.createRun(first.run);
    const report = { type: 'task-reported', step: 'one', cluster: 'c1', attempt: 1, outcome: { kind: 'done' } } as const;
    let crashes = 0;
    for (;;) {
      try {
        await transitionRun(crashing, 'run-1', (run) => next(run, report, 2_000));
        break;
      } catch (err) {
        expect(err).toBeInstanceOf(InjectedCrash);
        crashes += 1;
        expect((await store.getRun('run-1'))?.phase).toBe('runningWorkflow');
      }
    }
    expect(crashes).toBeGreaterThan(0);
    expect(crashes).toBe(faults.stats.crashed);
    expect((await store.getRun('run-1'))?.phase).toBe('running');
    await store.close();
  });
});
