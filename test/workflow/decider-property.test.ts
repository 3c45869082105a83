import { describe, expect, it } from 'vitest';
import { seededRandom, type Random } from '#shared/delivery/adapters/local/seeded-random.ts';
import { next, startRun } from '#shared/delivery/workflow/decider.ts';
import type { DeployTask, Run, RunEvent, TaskOutcome } from '#shared/delivery/workflow/run.ts';
import { deployStep, plan } from './plans.ts';

/**
 * Property: however the queue reorders and duplicates messages (and so the reports they cause),
 * the run ends in the same state. A simulated world delivers sent tasks in random order, delivers
 * some twice, replays old reports, approves when asked, and ticks only when nothing is in flight.
 */

const chaosPlan = plan([
  deployStep('beijing-1', ['c1', 'c2', 'c3'], { parallelism: 2 }),
  deployStep('beijing-2', ['c4'], { needsApproval: true }),
  deployStep('hangzhou', ['c5', 'c6'], { parallelism: 1 }),
]);

/** What a cluster answers for an attempt: some need a retry before they are healthy. */
function outcomeFor(task: DeployTask): TaskOutcome {
  if (task.cluster === 'c2' && task.attempt < 3) return { kind: 'waiting', message: `${task.attempt}/3 ready` };
  if (task.cluster === 'c5' && task.attempt === 1) return { kind: 'failed', message: 'cluster unreachable', retryable: true };
  return { kind: 'done' };
}

interface WorldOptions {
  duplicateRate: number;
  replayRate: number;
  dropRate: number;
}

function simulate(random: Random, options: WorldOptions): { run: Run; stepCompletions: Map<string, number> } {
  let now = 1_000;
  const first = startRun({ id: 'run-p', releaseId: 'rel-p', plan: chaosPlan }, now);
  let run = first.run;
  const inFlight: DeployTask[] = [];
  const delivered: RunEvent[] = [];
  const stepCompletions = new Map<string, number>();

  const absorb = (result: ReturnType<typeof next>): void => {
    if (!result.changed) return;
    const before = run;
    run = result.run;
    for (const [index, step] of run.steps.entries()) {
      if (step.phase === 'succeeded' && before.steps[index]?.phase !== 'succeeded') {
        stepCompletions.set(step.name, (stepCompletions.get(step.name) ?? 0) + 1);
      }
    }
    for (const effect of result.effects) {
      if (effect.type !== 'send-tasks') continue;
      for (const task of effect.tasks) {
        if (random.chance(options.dropRate)) continue;
        inFlight.push(task);
        if (random.chance(options.duplicateRate)) inFlight.push(task);
      }
    }
  };
  absorb(first);

  for (let guard = 0; guard < 10_000 && !['running', 'workflowFailed', 'workflowTerminated'].includes(run.phase); guard++) {
    now += 10;
    if (delivered.length > 0 && random.chance(options.replayRate)) {
      absorb(next(run, random.pick(delivered), now));
      continue;
    }
    if (inFlight.length > 0) {
      const [task] = inFlight.splice(random.integer(0, inFlight.length - 1), 1);
      const report: RunEvent = {
        type: 'task-reported',
        step: task!.step,
        cluster: task!.cluster,
        attempt: task!.attempt,
        outcome: outcomeFor(task!),
      };
      delivered.push(report);
      absorb(next(run, report, now));
      continue;
    }
    if (run.phase === 'workflowSuspending') {
      absorb(next(run, { type: 'approved', by: 'sim', decisionId: `approve-${guard}` }, now));
      continue;
    }
    now = Math.max(now, run.wakeAt ?? now);
    absorb(next(run, { type: 'tick' }, now));
  }
  return { run, stepCompletions };
}

/** The state that must not depend on delivery order: phases, outcomes and attempts, not timestamps. */
function finalState(run: Run) {
  return {
    phase: run.phase,
    reason: run.reason,
    steps: run.steps.map((s) => ({ name: s.name, phase: s.phase, tasks: s.tasks.map((t) => `${t.cluster}:${t.status}:${t.attempt}`) })),
    decisions: run.decisions.map((d) => `${d.kind}:${d.step}`),
  };
}

describe('decider property: order and duplicates do not matter', () => {
  const clean = simulate(seededRandom(1), { duplicateRate: 0, replayRate: 0, dropRate: 0 });

  it('the clean run ends running after the expected retries', () => {
    expect(finalState(clean.run)).toEqual({
      phase: 'running',
      reason: 'all steps succeeded',
      steps: [
        // Steps over several clusters verify first (one more attempt each): c2 needs three attempts to pass verification, c5 two.
        { name: 'beijing-1', phase: 'succeeded', tasks: ['c1:done:2', 'c2:done:4', 'c3:done:2'] },
        { name: 'beijing-2', phase: 'succeeded', tasks: ['c4:done:1'] },
        { name: 'hangzhou', phase: 'succeeded', tasks: ['c5:done:3', 'c6:done:2'] },
      ],
      decisions: ['approve:beijing-2'],
    });
  });

  it.each(Array.from({ length: 200 }, (_, i) => i + 100))('seed %i: permuted and duplicated reports end in the clean state', (seed) => {
    const chaotic = simulate(seededRandom(seed), { duplicateRate: 0.3, replayRate: 0.2, dropRate: 0 });
    expect(finalState(chaotic.run)).toEqual(finalState(clean.run));
    expect([...chaotic.stepCompletions.values()]).toEqual([1, 1, 1]);
  });

  it.each(Array.from({ length: 50 }, (_, i) => i + 1_000))(
    'seed %i: lost messages are re-sent by the sweep and the run still succeeds',
    (seed) => {
      const lossy = simulate(seededRandom(seed), { duplicateRate: 0.3, replayRate: 0.1, dropRate: 0.2 });
      expect(lossy.run.phase).toBe('running');
      expect(lossy.run.steps.every((s) => s.phase === 'succeeded' && s.tasks.every((t) => t.status === 'done'))).toBe(true);
      expect([...lossy.stepCompletions.values()]).toEqual([1, 1, 1]);
    },
  );
});
