import { describe, expect, it } from 'vitest';
import { next, startRun } from '#shared/delivery/workflow/decider.ts';
import type { Run, TaskOutcome, TaskReport } from '#shared/delivery/workflow/run.ts';
import { aggregateChange, nextWithReports, stepsAwaitingReports, withReports } from '#shared/delivery/workflow/task-reports.ts';
import { deepFreeze, deployStep, plan, sentKeys } from './plans.ts';

const T0 = 1_000_000;
const STEP = 'everywhere';
const CLUSTERS = ['c1', 'c2', 'c3'];

function started(parallelism = 3): Run {
  return deepFreeze(startRun({ id: 'run-1', releaseId: 'rel-1', plan: plan([deployStep(STEP, CLUSTERS, { parallelism })]) }, T0).run);
}

function row(cluster: string, attempt: number, outcome: TaskOutcome = { kind: 'done' }, at = T0 + 10): TaskReport {
  return { runId: 'run-1', step: STEP, cluster, attempt, outcome, at };
}

function apply(run: Run, rows: TaskReport[]): Run {
  const change = aggregateChange(run, STEP, rows);
  if (!change) throw new Error('expected an aggregate change');
  const result = next(run, change.event, T0 + 20);
  expect(result.changed).toBe(true);
  return deepFreeze(result.run);
}

describe('task rows: when the run record must change', () => {
  it('leaves the run alone while a pass waits for other tasks, and takes every row in with the last one', () => {
    const run = started();
    expect(aggregateChange(run, STEP, [row('c1', 1)])).toBeUndefined();
    expect(aggregateChange(run, STEP, [row('c1', 1), row('c3', 1)])).toBeUndefined();
    const change = aggregateChange(run, STEP, [row('c1', 1), row('c3', 1), row('c2', 1)]);
    // Only the pass completes: its reporters claim it (attempts 1 + 1 + 1) before one writes the run.
    expect(change?.completesPass).toBe(3);
    const event = change?.event;
    expect(event).toEqual({
      type: 'tasks-reported',
      step: STEP,
      reports: [
        { cluster: 'c1', attempt: 1, outcome: { kind: 'done' } },
        { cluster: 'c3', attempt: 1, outcome: { kind: 'done' } },
        { cluster: 'c2', attempt: 1, outcome: { kind: 'done' } },
      ],
    });
    // The verification pass is over: every cluster goes again, for real, as attempt 2.
    const result = next(run, event!, T0 + 20);
    expect(sentKeys(result.effects)).toEqual(CLUSTERS.map((c) => `run-1/${STEP}/${c}/2`));
    expect(result.run.steps[0]?.verifying).toBeUndefined();
  });

  it('changes the run at once for a report that is not done: a retry to schedule, a step to fail', () => {
    const run = started();
    const waiting = row('c2', 1, { kind: 'waiting', message: '1/2 ready' });
    expect(aggregateChange(run, STEP, [waiting])).toEqual({ event: expect.objectContaining({ type: 'tasks-reported' }) });
    const failed = row('c2', 1, { kind: 'failed', message: 'refused', retryable: false });
    const after = apply(run, [row('c1', 1), failed]);
    expect(after.phase).toBe('workflowFailed');
    expect(after.steps[0]?.tasks.map((t) => t.status)).toEqual(['done', 'failed', 'sent']);
  });

  it('changes the run for a done that frees a parallelism slot a pending task waits for', () => {
    const run = started(1);
    const after = apply(run, [row('c1', 1)]);
    expect(after.steps[0]?.tasks.map((t) => t.status)).toEqual(['done', 'sent', 'pending']);
  });

  it('ignores rows that answer nothing: an earlier attempt, another step, a cluster the step does not have, an ended run', () => {
    const run = started();
    const second = apply(
      run,
      CLUSTERS.map((c) => row(c, 1)),
    );
    // Attempt 1's rows are still in the store while attempt 2 is out.
    expect(
      aggregateChange(
        second,
        STEP,
        CLUSTERS.map((c) => row(c, 1)),
      ),
    ).toBeUndefined();
    expect(aggregateChange(second, STEP, [{ ...row('c1', 2), step: 'other' }])).toBeUndefined();
    expect(aggregateChange(second, STEP, [row('c9', 2)])).toBeUndefined();
    expect(aggregateChange(second, 'no-such-step', [row('c1', 2)])).toBeUndefined();
    const terminated = next(second, { type: 'terminate', by: 'alice', reason: 'stop' }, T0 + 30).run;
    expect(
      aggregateChange(
        terminated,
        STEP,
        CLUSTERS.map((c) => row(c, 2)),
      ),
    ).toBeUndefined();
  });

  it('takes the same rows in once: applying them to the run they produced changes nothing', () => {
    const run = started();
    const rows = CLUSTERS.map((c) => row(c, 1));
    const after = apply(run, rows);
    expect(aggregateChange(after, STEP, rows)).toBeUndefined();
    const again = next(after, { type: 'tasks-reported', step: STEP, reports: rows }, T0 + 30);
    expect(again.changed).toBe(false);
    expect(again.ignoredReason).toMatch(/duplicate or stale/);
  });
});

describe('task rows: a tick takes them in first', () => {
  it('re-sends only the task that never reported, not those whose rows say done', () => {
    const run = started();
    const late = T0 + run.policy.resendAfterMs + 1;
    const result = nextWithReports(run, [row('c1', 1), row('c3', 1)], { type: 'tick' }, late);
    expect(result.changed).toBe(true);
    expect(sentKeys(result.effects)).toEqual([`run-1/${STEP}/c2/2`]);
    expect(result.run.steps[0]?.tasks.map((t) => [t.cluster, t.status, t.attempt])).toEqual([
      ['c1', 'done', 1],
      ['c2', 'sent', 2],
      ['c3', 'done', 1],
    ]);
  });

  it('writes the rows in even when nothing is due, and changes nothing without rows or anything due', () => {
    const run = started();
    const taken = nextWithReports(run, [row('c1', 1)], { type: 'tick' }, T0 + 30);
    expect(taken.changed).toBe(true);
    expect(taken.run.steps[0]?.tasks[0]?.status).toBe('done');
    const nothing = nextWithReports(run, [], { type: 'tick' }, T0 + 30);
    expect(nothing).toMatchObject({ changed: false, ignoredReason: 'nothing is due' });
    expect(stepsAwaitingReports(run)).toEqual([STEP]);
    expect(stepsAwaitingReports(taken.run)).toEqual([STEP]);
  });
});

describe('task rows: what readers show', () => {
  it('shows each reported task as its row says, without completing the step or touching other tasks', () => {
    const run = started();
    const shown = withReports(run, [
      row('c1', 1, { kind: 'done', message: '4 objects verified' }),
      row('c2', 1, { kind: 'waiting', message: '1/2 ready' }),
      row('c3', 0),
      { ...row('c3', 1), step: 'other' },
    ]);
    expect(shown.steps[0]?.phase).toBe('running');
    expect(shown.steps[0]?.tasks).toEqual([
      expect.objectContaining({ cluster: 'c1', status: 'done', message: '4 objects verified', finishedAt: T0 + 10 }),
      expect.objectContaining({ cluster: 'c2', status: 'waiting', message: '1/2 ready' }),
      expect.objectContaining({ cluster: 'c3', status: 'sent', attempt: 1 }),
    ]);
    expect(run.steps[0]?.tasks.map((t) => t.status)).toEqual(['sent', 'sent', 'sent']);
    expect(withReports(run, [])).toBe(run);
  });
});
