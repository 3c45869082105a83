import { describe, expect, it } from 'vitest';
import { ManualClock } from '#shared/platform/clock.ts';
import { InProcessQueue } from '#shared/delivery/adapters/local/in-process-queue.ts';
import { FaultInjector, type TwinFaults } from '#local/faults.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { transitionRun } from '#shared/delivery/usecases/transition-run.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import type { ConsumingTaskQueue } from '#shared/delivery/ports/task-queue.port.ts';
import { currentTask, next, startRun } from '#shared/delivery/workflow/decider.ts';
import type { DeployTask, Effect, Run, RunEvent, TaskOutcome } from '#shared/delivery/workflow/run.ts';
import { deployStep, plan } from '../workflow/plans.ts';

/**
 * The decider, the SQLite store and the in-process queue behind the twin's fault injector, with a
 * stand-in for the deploy-step function (no clusters): 50 runs under 30% duplicates, reordering
 * and 10% crashes between apply and record end exactly like one clean run, and every step
 * completes once (the decider's reconcile-traffic effect counts completions).
 */

const chaosPlan = plan([
  deployStep('beijing-1', ['c1', 'c2', 'c3'], { parallelism: 2 }),
  deployStep('beijing-2', ['c4'], { needsApproval: true }),
  deployStep('hangzhou', ['c5'], {}),
]);

function outcomeFor(task: DeployTask): TaskOutcome {
  return task.cluster === 'c2' && task.attempt === 1 ? { kind: 'waiting', message: '0/5 ready' } : { kind: 'done' };
}

interface Harness {
  store: RunStore;
  /** The store as the task worker sees it: its run writes may crash. */
  workerStore: RunStore;
  queue: ConsumingTaskQueue<DeployTask>;
  faults: FaultInjector;
  deadLetters: InProcessQueue['deadLetters'];
  clock: ManualClock;
  stepCompletions: Map<string, number>;
  applies: Map<string, number>;
}

async function decideAndAct(h: Harness, runId: string, event: RunEvent, store = h.store): Promise<void> {
  const transition = await transitionRun(store, runId, (run) => next(run, event, h.clock.now()));
  if (transition.changed) await perform(h, transition.effects);
}

async function perform(h: Harness, effects: Effect[]): Promise<void> {
  for (const effect of effects) {
    if (effect.type === 'send-tasks') await h.queue.send(effect.tasks);
    if (effect.type === 'reconcile-traffic') {
      const key = `${effect.runId}/${effect.step}`;
      h.stepCompletions.set(key, (h.stepCompletions.get(key) ?? 0) + 1);
    }
    // Approves at once: the approval path is someone else's; here it only has to be idempotent.
    if (effect.type === 'request-approval')
      await decideAndAct(h, effect.runId, { type: 'approved', by: 'robot', decisionId: `${effect.runId}/${effect.step}` });
  }
}

async function runMany(runs: number, injected: TwinFaults): Promise<{ finals: Run[]; h: Harness }> {
  const store = new SqliteRunStore({ path: ':memory:' });
  const faults = new FaultInjector(injected);
  const queue = new InProcessQueue<DeployTask>({ concurrency: 4, retryBaseMs: 1, maxDeliveries: 20 });
  const h: Harness = {
    store,
    workerStore: faults.crashingRunWrites(store),
    queue: faults.queue(queue),
    faults,
    deadLetters: queue.deadLetters,
    clock: new ManualClock(1_000_000),
    stepCompletions: new Map(),
    applies: new Map(),
  };
  h.queue.start(async (task) => {
    const run = await h.store.getRun(task.runId);
    if (!run || !currentTask(run, task)) return;
    h.applies.set(task.key, (h.applies.get(task.key) ?? 0) + 1);
    const outcome = outcomeFor(task);
    await decideAndAct(
      h,
      task.runId,
      { type: 'task-reported', step: task.step, cluster: task.cluster, attempt: task.attempt, outcome },
      h.workerStore,
    );
  });
  const ids = Array.from({ length: runs }, (_, i) => `run-${i}`);
  for (const id of ids) {
    const first = startRun({ id, releaseId: `rel-${id}`, plan: chaosPlan }, h.clock.now());
    await h.store.createRun(first.run);
    await perform(h, first.effects);
  }
  // The timer: whenever the queue is idle, move time to the earliest wake-up and tick.
  for (let round = 0; round < 50; round++) {
    await h.queue.drain();
    const active = (await Promise.all(ids.map((id) => h.store.getRun(id)))).filter((r): r is Run => r?.wakeAt !== undefined);
    if (active.length === 0) break;
    h.clock.set(Math.max(h.clock.now(), Math.min(...active.map((r) => r.wakeAt!))));
    for (const run of active) await decideAndAct(h, run.id, { type: 'tick' });
  }
  const finals = (await Promise.all(ids.map((id) => h.store.getRun(id)))) as Run[];
  await h.queue.stop();
  await h.store.close();
  return { finals, h };
}

function shape(run: Run) {
  return {
    phase: run.phase,
    steps: run.steps.map((s) => [s.name, s.phase, ...s.tasks.map((t) => `${t.cluster}:${t.status}:${t.attempt}`)]),
    decisions: run.decisions.map((d) => `${d.kind}:${d.by}:${d.step}`),
  };
}

describe('workflow on the local store and queue under chaos', () => {
  it('50 runs with duplicates, reordering and crashes end like a clean run, each step completing once', async () => {
    const clean = await runMany(1, {});
    expect(shape(clean.finals[0]!)).toMatchObject({ phase: 'running' });
    const chaos = await runMany(50, { duplicateRate: 0.3, delayMs: [0, 3], crashBeforeRecordRate: 0.1, seed: 2026 });
    expect(chaos.h.faults.stats.duplicated).toBeGreaterThan(0);
    expect(chaos.h.faults.stats.crashed).toBeGreaterThan(0);
    expect(chaos.h.deadLetters).toEqual([]);
    for (const run of chaos.finals) expect(shape(run)).toEqual(shape(clean.finals[0]!));
    expect(chaos.h.stepCompletions.size).toBe(50 * 3);
    expect([...chaos.h.stepCompletions.values()].every((n) => n === 1)).toBe(true);
    const reApplied = [...chaos.h.applies.values()].filter((n) => n > 1).length;
    expect(reApplied).toBeGreaterThan(0);
  });

  it('lost messages are found by the sweep: every run still ends running, each step once', async () => {
    const lossy = await runMany(20, { dropRate: 0.2, duplicateRate: 0.2, seed: 77 });
    expect(lossy.h.faults.stats.dropped).toBeGreaterThan(0);
    expect(lossy.finals.map((r) => r.phase)).toEqual(Array(20).fill('running'));
    expect([...lossy.h.stepCompletions.values()]).toEqual(Array(20 * 3).fill(1));
    const resent = lossy.finals.flatMap((r) => r.steps.flatMap((s) => s.tasks)).filter((t) => t.attempt > (t.cluster === 'c2' ? 2 : 1));
    expect(resent.length).toBeGreaterThan(0);
  });
});
