import { describe, expect, it } from 'vitest';
import { createRun, startRun } from '#shared/delivery/workflow/decider.ts';
import type { PlanStep } from '#shared/delivery/model/plan.ts';
import type { StepPhase } from '#shared/delivery/workflow/run.ts';
import { deployStep, Driver, inGroup, plan, sentKeys, suspendStep } from './plans.ts';

/**
 * KubeVela's step-group (sub-steps side by side), dependsOn (order inside a group), and a suspend
 * step's duration and timeout, driven through the pure decider with explicit clock values.
 */

const T0 = 1_000_000;

function started(steps: PlanStep[]): Driver {
  const first = startRun({ id: 'run-1', releaseId: 'rel-1', plan: plan(steps) }, T0);
  const driver = new Driver(first.run, T0);
  driver.history.push(first);
  return driver;
}

function phases(d: Driver): Record<string, StepPhase> {
  return Object.fromEntries(d.run.steps.map((s) => [s.name, s.phase]));
}

/** A group `g` of two deploy sub-steps (a on c1, b on c2), then `after` on c3. */
const group = [inGroup('g', deployStep('a', ['c1'])), inGroup('g', deployStep('b', ['c2'])), deployStep('after', ['c3'])];

describe('decider: step-group', () => {
  const rows: Array<{
    name: string;
    steps: PlanStep[];
    sentAtStart: string[];
    events: Array<[step: string, cluster: string, outcome: 'done' | 'failed']>;
    phases: Record<string, StepPhase>;
    runPhase: string;
  }> = [
    {
      name: 'starts every sub-step at once',
      steps: group,
      sentAtStart: ['run-1/a/c1/1', 'run-1/b/c2/1'],
      events: [],
      phases: { a: 'running', b: 'running', after: 'pending' },
      runPhase: 'runningWorkflow',
    },
    {
      name: 'is not done while one sub-step still runs',
      steps: group,
      sentAtStart: ['run-1/a/c1/1', 'run-1/b/c2/1'],
      events: [['a', 'c1', 'done']],
      phases: { a: 'succeeded', b: 'running', after: 'pending' },
      runPhase: 'runningWorkflow',
    },
    {
      name: 'is done when all sub-steps are, and the next step starts',
      steps: group,
      sentAtStart: ['run-1/a/c1/1', 'run-1/b/c2/1'],
      events: [
        ['b', 'c2', 'done'],
        ['a', 'c1', 'done'],
      ],
      phases: { a: 'succeeded', b: 'succeeded', after: 'running' },
      runPhase: 'runningWorkflow',
    },
    {
      name: 'fails with a sub-step: the sibling stops, the rest is skipped',
      steps: group,
      sentAtStart: ['run-1/a/c1/1', 'run-1/b/c2/1'],
      events: [['a', 'c1', 'failed']],
      phases: { a: 'failed', b: 'failed', after: 'skipped' },
      runPhase: 'workflowFailed',
    },
    {
      name: 'runs a dependsOn sub-step only after the one it names',
      steps: [inGroup('g', deployStep('a', ['c1'])), inGroup('g', deployStep('b', ['c2']), ['a']), inGroup('g', deployStep('c', ['c3']))],
      sentAtStart: ['run-1/a/c1/1', 'run-1/c/c3/1'],
      events: [],
      phases: { a: 'running', b: 'pending', c: 'running' },
      runPhase: 'runningWorkflow',
    },
    {
      name: 'starts the dependent sub-step when its dependency succeeded',
      steps: [inGroup('g', deployStep('a', ['c1'])), inGroup('g', deployStep('b', ['c2']), ['a']), inGroup('g', deployStep('c', ['c3']))],
      sentAtStart: ['run-1/a/c1/1', 'run-1/c/c3/1'],
      events: [['a', 'c1', 'done']],
      phases: { a: 'succeeded', b: 'running', c: 'running' },
      runPhase: 'runningWorkflow',
    },
    {
      name: 'waits for the whole group before a later top-level step, dependsOn the group or not',
      steps: [
        inGroup('g', deployStep('a', ['c1'])),
        inGroup('g', deployStep('b', ['c2'])),
        { ...deployStep('after', ['c3']), dependsOn: ['g'] },
      ],
      sentAtStart: ['run-1/a/c1/1', 'run-1/b/c2/1'],
      events: [['a', 'c1', 'done']],
      phases: { a: 'succeeded', b: 'running', after: 'pending' },
      runPhase: 'runningWorkflow',
    },
    {
      name: 'is suspending when only a timed suspension of the group is left',
      steps: [deployStep('first', ['c1']), inGroup('g', deployStep('a', ['c2'])), inGroup('g', suspendStep('soak', 1_000))],
      sentAtStart: ['run-1/first/c1/1'],
      events: [
        ['first', 'c1', 'done'],
        ['a', 'c2', 'done'],
      ],
      phases: { first: 'succeeded', a: 'succeeded', soak: 'suspended' },
      runPhase: 'workflowSuspending',
    },
  ];

  it.each(rows)('$name', (row) => {
    const d = started(row.steps);
    expect(sentKeys(d.history[0]!.effects)).toEqual(row.sentAtStart);
    for (const [step, cluster, outcome] of row.events) expect(d.report(step, cluster, outcome).changed).toBe(true);
    expect(phases(d)).toEqual(row.phases);
    expect(d.run.phase).toBe(row.runPhase);
  });

  it('ends running once the last sub-step (a timed suspension) resumes by itself', () => {
    const d = started([inGroup('g', deployStep('a', ['c1'])), inGroup('g', suspendStep('soak', 1_000))]);
    d.report('a', 'c1', 'done', T0 + 10);
    expect(d.run.wakeAt).toBe(T0 + 1_000);
    expect(d.apply({ type: 'tick' }, T0 + 1_000).run).toMatchObject({ phase: 'running', reason: 'all steps succeeded', currentStep: 2 });
  });

  it('takes a decision for one of two suspended sub-steps only when it names the step', () => {
    const d = started([inGroup('g', suspendStep('qa')), inGroup('g', suspendStep('security')), deployStep('after', ['c1'])]);
    const unnamed = d.apply({ type: 'approved', by: 'alice', decisionId: 'd-1' });
    expect(unnamed.changed).toBe(false);
    expect(unnamed.ignoredReason).toBe('run run-1 is suspended at several steps ("qa", "security"); name the step the decision is for');
    d.apply({ type: 'approved', by: 'alice', decisionId: 'd-2', step: 'security' });
    expect(phases(d)).toEqual({ qa: 'suspended', security: 'succeeded', after: 'pending' });
    // One suspended step left: a decision without a step is for it.
    const last = d.apply({ type: 'resumed', by: 'bob', decisionId: 'd-3' });
    expect(sentKeys(last.effects)).toEqual(['run-1/after/c1/1']);
  });

  it('accepts a decision for a suspended sub-step while its sibling deploys', () => {
    const d = started([inGroup('g', deployStep('a', ['c1'])), inGroup('g', suspendStep('gate')), deployStep('after', ['c2'])]);
    expect(d.run.phase).toBe('runningWorkflow');
    expect(d.apply({ type: 'approved', by: 'alice', decisionId: 'd-1' }).changed).toBe(true);
    expect(phases(d)).toEqual({ a: 'running', gate: 'succeeded', after: 'pending' });
  });

  it('refuses a plan whose dependsOn names no step, naming it', () => {
    const bad = plan([deployStep('a', ['c1']), { ...deployStep('b', ['c2']), dependsOn: ['nope'] }]);
    expect(() => createRun({ id: 'r', releaseId: 'x', plan: bad }, T0)).toThrow('plan step 1 ("b"): dependsOn names no step: nope');
  });

  it('fails a plan whose sub-steps wait for each other instead of hanging (ingest refuses such a plan first)', () => {
    const d = started([inGroup('g', deployStep('a', ['c1']), ['b']), inGroup('g', deployStep('b', ['c2']), ['a'])]);
    expect(d.run).toMatchObject({ phase: 'workflowFailed', reason: 'steps a, b wait for each other' });
  });
});

describe('decider: suspend duration and timeout', () => {
  const rows: Array<{ name: string; durationMs?: number; timeoutMs?: number; tickAt: number; phase: StepPhase; runPhase: string }> = [
    { name: 'a timeout fails the step once it passes', timeoutMs: 5_000, tickAt: T0 + 5_000, phase: 'failed', runPhase: 'workflowFailed' },
    {
      name: 'a timeout does nothing before it passes',
      timeoutMs: 5_000,
      tickAt: T0 + 4_999,
      phase: 'suspended',
      runPhase: 'workflowSuspending',
    },
    {
      name: 'a timeout is still suspended-then-failed at 60 s (never approved by time)',
      timeoutMs: 5_000,
      tickAt: T0 + 60_000,
      phase: 'failed',
      runPhase: 'workflowFailed',
    },
    { name: 'a duration resumes by itself', durationMs: 2_000, tickAt: T0 + 2_000, phase: 'succeeded', runPhase: 'runningWorkflow' },
    {
      name: 'a duration shorter than the timeout resumes before the timeout',
      durationMs: 2_000,
      timeoutMs: 5_000,
      tickAt: T0 + 2_000,
      phase: 'succeeded',
      runPhase: 'runningWorkflow',
    },
    { name: 'no timeout waits forever', tickAt: T0 + 30 * 86_400_000, phase: 'suspended', runPhase: 'workflowSuspending' },
  ];

  it.each(rows)('$name', (row) => {
    const d = started([suspendStep('hold', row.durationMs, row.timeoutMs), deployStep('after', ['c1'])]);
    d.apply({ type: 'tick' }, row.tickAt);
    expect(d.step('hold').phase).toBe(row.phase);
    expect(d.run.phase).toBe(row.runPhase);
  });

  it('wakes the sweep at the timeout, says why it failed, and refuses a late approval', () => {
    const d = started([suspendStep('hold', undefined, 5_000), deployStep('after', ['c1'])]);
    expect(d.run.wakeAt).toBe(T0 + 5_000);
    expect(d.step('hold')).toMatchObject({ deadline: T0 + 5_000, awaiting: 'approval' });
    const failed = d.apply({ type: 'tick' }, T0 + 5_000);
    expect(failed.run.reason).toBe('step "hold" was suspended longer than its timeout of 5s without a decision');
    expect(failed.effects.map((e) => e.type)).toEqual(['finish']);
    expect(d.step('after').phase).toBe('skipped');
    const late = d.apply({ type: 'approved', by: 'alice', decisionId: 'late' }, T0 + 6_000);
    expect(late.changed).toBe(false);
  });

  it('a decision before the timeout clears it: the run goes on and nothing fails later', () => {
    const d = started([suspendStep('hold', undefined, 5_000), deployStep('after', ['c1'])]);
    d.apply({ type: 'resumed', by: 'carol', decisionId: 'r-1' }, T0 + 1_000);
    expect(d.step('hold').deadline).toBeUndefined();
    expect(d.apply({ type: 'tick' }, T0 + 5_000).changed).toBe(false);
    expect(d.step('hold').phase).toBe('succeeded');
  });
});
