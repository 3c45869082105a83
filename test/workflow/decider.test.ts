import { describe, expect, it } from 'vitest';
import { createRun, currentTask, next, startRun } from '#shared/delivery/workflow/decider.ts';
import { backoffDelay, DEFAULT_RETRY_POLICY, type Effect, type RunEvent } from '#shared/delivery/workflow/run.ts';
import { deepFreeze, deployStep, Driver, effectTypes, plan, seedPlan, sentKeys, suspendStep } from './plans.ts';

const T0 = 1_000_000;
const S1 = 'deploy-cluster1-beijing';
const S2 = 'deploy-cluster2-beijing';
const S3 = 'deploy-cluster1-hangzhou';

function started(p = seedPlan, policy = {}): Driver {
  const first = startRun({ id: 'run-1', releaseId: 'rel-1', plan: p, policy }, T0);
  const driver = new Driver(first.run, T0);
  driver.history.push(first);
  return driver;
}

describe('decider: the seed scenario', () => {
  it('deploys cluster1-beijing, suspends for approval, then deploys the rest and ends running', () => {
    const d = started();
    const first = d.history[0]!;
    expect(first.run.phase).toBe('runningWorkflow');
    expect(effectTypes(first.effects)).toEqual(['send-tasks', 'schedule-wakeup']);
    expect(sentKeys(first.effects)).toEqual([`run-1/${S1}/cluster1-beijing/1`]);
    expect(d.step(S1)).toMatchObject({ phase: 'running', startedAt: T0, deadline: T0 + 600_000 });

    const gate = d.report(S1, 'cluster1-beijing', 'done', T0 + 5_000);
    expect(gate.run.phase).toBe('workflowSuspending');
    expect(gate.effects).toEqual([
      { type: 'reconcile-traffic', runId: 'run-1', app: { namespace: 'demo', name: 'web-demo' }, step: S1 },
      { type: 'request-approval', runId: 'run-1', step: S2 },
    ]);
    expect(d.step(S1).phase).toBe('succeeded');
    expect(d.step(S2)).toMatchObject({ phase: 'suspended', awaiting: 'approval' });
    expect(d.run.wakeAt).toBeUndefined();

    const approved = d.apply({ type: 'approved', by: 'alice', comment: 'looks good', decisionId: 'd-1' }, T0 + 60_000);
    expect(approved.run.phase).toBe('runningWorkflow');
    expect(sentKeys(approved.effects)).toEqual([`run-1/${S2}/cluster2-beijing/1`]);
    expect(d.run.decisions).toEqual([{ id: 'd-1', kind: 'approve', by: 'alice', at: T0 + 60_000, comment: 'looks good', step: S2 }]);
    expect(d.step(S2).deadline).toBe(T0 + 60_000 + 600_000);

    const third = d.report(S2, 'cluster2-beijing', 'done', T0 + 65_000);
    expect(sentKeys(third.effects)).toEqual([`run-1/${S3}/cluster1-hangzhou/1`]);
    expect(effectTypes(third.effects)).toEqual(['send-tasks', 'reconcile-traffic', 'schedule-wakeup']);

    const last = d.report(S3, 'cluster1-hangzhou', 'done', T0 + 70_000);
    expect(last.run).toMatchObject({ phase: 'running', reason: 'all steps succeeded', endedAt: T0 + 70_000, currentStep: 3 });
    expect(last.effects).toEqual([
      { type: 'reconcile-traffic', runId: 'run-1', app: { namespace: 'demo', name: 'web-demo' }, step: S3 },
      { type: 'finish', runId: 'run-1', phase: 'running', reason: 'all steps succeeded' },
      { type: 'collect-garbage', runId: 'run-1', releaseId: 'rel-1' },
    ]);
    expect(d.run.steps.map((s) => s.phase)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('never mutates its input and leaves the version to the store', () => {
    const run = deepFreeze(createRun({ id: 'run-1', releaseId: 'rel-1', plan: seedPlan }, T0));
    const result = next(run, { type: 'started' }, T0);
    expect(run.phase).toBe('rendering');
    expect(result.run.version).toBe(run.version);
    expect(result.run).not.toBe(run);
  });

  it('refuses a plan whose step names repeat, naming the step', () => {
    expect(() => createRun({ id: 'r', releaseId: 'x', plan: plan([deployStep('a', ['c1']), deployStep('a', ['c2'])]) }, T0)).toThrow(
      /plan step 1 \("a"\)/,
    );
  });
});

describe('decider: events that change nothing', () => {
  const cases: Array<[string, (d: Driver) => RunEvent]> = [
    ['a duplicate report', () => ({ type: 'task-reported', step: S1, cluster: 'cluster1-beijing', attempt: 1, outcome: { kind: 'done' } })],
    [
      'a report for an older attempt',
      () => ({ type: 'task-reported', step: S1, cluster: 'cluster1-beijing', attempt: 0, outcome: { kind: 'done' } }),
    ],
    [
      'a report for a finished step',
      () => ({
        type: 'task-reported',
        step: S1,
        cluster: 'cluster1-beijing',
        attempt: 1,
        outcome: { kind: 'failed', message: 'x', retryable: false },
      }),
    ],
    [
      'a report for a step not started',
      () => ({ type: 'task-reported', step: S3, cluster: 'cluster1-hangzhou', attempt: 1, outcome: { kind: 'done' } }),
    ],
    [
      'a report for an unknown cluster',
      () => ({ type: 'task-reported', step: S2, cluster: 'nowhere', attempt: 1, outcome: { kind: 'done' } }),
    ],
    ['a second started', () => ({ type: 'started' })],
    ['an approval while running', () => ({ type: 'approved', by: 'bob', decisionId: 'd-9' })],
    ['a decision id already applied', () => ({ type: 'approved', by: 'alice', decisionId: 'd-1' })],
    ['a tick with nothing due', () => ({ type: 'tick' })],
  ];

  it.each(cases)('%s', (_label, makeEvent) => {
    const d = started();
    d.report(S1, 'cluster1-beijing', 'done');
    d.apply({ type: 'approved', by: 'alice', decisionId: 'd-1' });
    const before = d.run;
    const result = d.apply(makeEvent(d), d.now + 1_000);
    expect(result.changed).toBe(false);
    expect(result.effects).toEqual([]);
    expect(result.run).toBe(before);
    expect(result.ignoredReason).toEqual(expect.any(String));
  });

  it('ignores everything once the run has ended', () => {
    const d = started();
    d.apply({ type: 'terminate', by: 'ops', reason: 'superseded by version9' });
    for (const event of [
      { type: 'task-reported', step: S1, cluster: 'cluster1-beijing', attempt: 1, outcome: { kind: 'done' } },
      { type: 'tick' },
      { type: 'terminate', by: 'ops', reason: 'again' },
      { type: 'approved', by: 'alice', decisionId: 'x' },
    ] satisfies RunEvent[]) {
      const result = d.apply(event, d.now + 10 * 60_000);
      expect(result).toMatchObject({ changed: false, effects: [] });
      expect(result.ignoredReason).toMatch(/has ended \(workflowTerminated\)/);
    }
  });

  it('takes an approval aimed at another step as stale', () => {
    const d = started();
    d.report(S1, 'cluster1-beijing', 'done');
    const result = d.apply({ type: 'approved', by: 'alice', decisionId: 'd-1', step: S3 });
    expect(result.changed).toBe(false);
    expect(result.ignoredReason).toBe(`step "${S3}" is not waiting for a decision in run run-1 (waiting: "${S2}")`);
  });
});

describe('decider: which messages are still worth acting on', () => {
  it('accepts only the attempt the run waits for, in the running step of an active run', () => {
    const d = started();
    const message = { step: S1, cluster: 'cluster1-beijing', attempt: 1 };
    expect(currentTask(d.run, message)).toMatchObject({ cluster: 'cluster1-beijing', status: 'sent' });
    expect(currentTask(d.run, { ...message, attempt: 2 })).toBeUndefined();
    expect(currentTask(d.run, { ...message, cluster: 'cluster2-beijing' })).toBeUndefined();
    d.report(S1, 'cluster1-beijing', 'done');
    expect(currentTask(d.run, message)).toBeUndefined();
    d.apply({ type: 'approved', by: 'alice', decisionId: 'd-1' });
    const second = { step: S2, cluster: 'cluster2-beijing', attempt: 1 };
    expect(currentTask(d.run, second)).toBeDefined();
    d.apply({ type: 'terminate', by: 'ingest', reason: 'superseded' });
    expect(currentTask(d.run, second)).toBeUndefined();
  });
});

describe('decider: retries, backoff and deadlines', () => {
  it('re-sends a waiting task after a backoff that doubles up to the cap', () => {
    const d = started(plan([deployStep('only', ['c1'])]), { backoffBaseMs: 1_000, backoffMaxMs: 10_000 });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const waited = d.report('only', 'c1', 'waiting');
      const task = d.task('only', 'c1');
      expect(task).toMatchObject({ status: 'waiting', attempt, message: '3/5 replicas ready' });
      delays.push(task.nextAttemptAt! - d.now);
      expect(waited.effects).toEqual([{ type: 'schedule-wakeup', runId: 'run-1', at: task.nextAttemptAt }]);
      expect(d.apply({ type: 'tick' }, task.nextAttemptAt! - 1).changed).toBe(false);
      const resent = d.apply({ type: 'tick' }, task.nextAttemptAt!);
      expect(sentKeys(resent.effects)).toEqual([`run-1/only/c1/${attempt + 1}`]);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it('computes backoff without overflow for huge attempt numbers', () => {
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 1)).toBe(1_000);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 10_000)).toBe(DEFAULT_RETRY_POLICY.backoffMaxMs);
  });

  it('retries a retryable failure and fails the run at the deadline, naming step and clusters', () => {
    const d = started(plan([deployStep('web', ['c1', 'c2', 'c3'], { timeoutMs: 60_000 })]));
    d.report('web', 'c1', 'done');
    d.report('web', 'c2', 'retry');
    d.report('web', 'c3', 'waiting');
    expect(d.task('web', 'c2')).toMatchObject({ status: 'waiting', message: 'cluster unreachable' });
    expect(d.run.wakeAt).toBe(T0 + 1_000);
    const atDeadline = d.apply({ type: 'tick' }, T0 + 60_000);
    expect(atDeadline.run.phase).toBe('workflowFailed');
    expect(atDeadline.run.reason).toBe(
      'step "web" exceeded its deadline of 1m: not healthy: c2 (cluster unreachable), c3 (3/5 replicas ready)',
    );
    expect(atDeadline.effects).toEqual([{ type: 'finish', runId: 'run-1', phase: 'workflowFailed', reason: atDeadline.run.reason }]);
  });

  it('fails at once on a permanent failure and skips the remaining steps', () => {
    const d = started();
    const failed = d.report(S1, 'cluster1-beijing', 'failed');
    expect(failed.run).toMatchObject({
      phase: 'workflowFailed',
      reason: `step "${S1}" failed on cluster1-beijing: invalid Deployment spec`,
    });
    expect(d.run.steps.map((s) => s.phase)).toEqual(['failed', 'skipped', 'skipped']);
    expect(effectTypes(failed.effects)).toEqual(['finish']);
  });

  it('re-sends a task whose message seems lost (the sweep), as a new attempt', () => {
    const d = started(plan([deployStep('only', ['c1'])]), { resendAfterMs: 30_000 });
    expect(d.run.wakeAt).toBe(T0 + 30_000);
    expect(d.apply({ type: 'tick' }, T0 + 29_999).changed).toBe(false);
    const swept = d.apply({ type: 'tick' }, T0 + 30_000);
    expect(sentKeys(swept.effects)).toEqual(['run-1/only/c1/2']);
    expect(d.report('only', 'c1', 'done').run.phase).toBe('running');
  });

  it('takes the sweep threshold from the tick when given', () => {
    const d = started(plan([deployStep('only', ['c1'])]));
    expect(d.apply({ type: 'tick', resendAfterMs: 5_000 }, T0 + 4_999).changed).toBe(false);
    expect(sentKeys(d.apply({ type: 'tick', resendAfterMs: 5_000 }, T0 + 5_000).effects)).toEqual(['run-1/only/c1/2']);
    const late = d.apply({ type: 'task-reported', step: 'only', cluster: 'c1', attempt: 1, outcome: { kind: 'done' } });
    expect(late.changed).toBe(false);
  });
});

describe('decider: parallelism', () => {
  it('keeps at most `parallelism` tasks in flight, a waiting task holding its slot', () => {
    const clusters = ['c1', 'c2', 'c3', 'c4', 'c5'];
    const d = started(plan([deployStep('fan-out', clusters, { parallelism: 2 })]));
    expect(sentKeys(d.history[0]!.effects)).toEqual(['run-1/fan-out/c1/1', 'run-1/fan-out/c2/1']);
    // Verification, two at a time.
    expect(sentKeys(d.report('fan-out', 'c1', 'done').effects)).toEqual(['run-1/fan-out/c3/1']);
    expect(sentKeys(d.report('fan-out', 'c2', 'done').effects)).toEqual(['run-1/fan-out/c4/1']);
    expect(sentKeys(d.report('fan-out', 'c3', 'done').effects)).toEqual(['run-1/fan-out/c5/1']);
    d.report('fan-out', 'c4', 'done');
    // The last verification starts the real writes, two at a time again.
    expect(sentKeys(d.report('fan-out', 'c5', 'done').effects)).toEqual(['run-1/fan-out/c1/2', 'run-1/fan-out/c2/2']);
    expect(sentKeys(d.report('fan-out', 'c1', 'waiting').effects)).toEqual([]);
    expect(sentKeys(d.report('fan-out', 'c2', 'done').effects)).toEqual(['run-1/fan-out/c3/2']);
    expect(sentKeys(d.report('fan-out', 'c3', 'done').effects)).toEqual(['run-1/fan-out/c4/2']);
    const inFlight = () => d.step('fan-out').tasks.filter((t) => t.status === 'sent' || t.status === 'waiting').length;
    expect(inFlight()).toBe(2);
    d.apply({ type: 'tick' }, d.task('fan-out', 'c1').nextAttemptAt!);
    expect(sentKeys(d.report('fan-out', 'c1', 'done').effects)).toEqual(['run-1/fan-out/c5/2']);
    d.report('fan-out', 'c4', 'done');
    expect(d.report('fan-out', 'c5', 'done').run.phase).toBe('running');
  });

  it('verifies a step on every cluster before writing to any: a refusal on one fails the step with nothing applied', () => {
    const d = started(plan([deployStep('fan-out', ['c1', 'c2', 'c3'])]));
    expect(d.step('fan-out').verifying).toBe(true);
    expect(sentKeys(d.history[0]!.effects)).toEqual(['run-1/fan-out/c1/1', 'run-1/fan-out/c2/1', 'run-1/fan-out/c3/1']);
    d.report('fan-out', 'c1', 'done');
    const refused = d.apply({
      type: 'task-reported',
      step: 'fan-out',
      cluster: 'c2',
      attempt: 1,
      outcome: { kind: 'failed', message: 'ConfigMap demo/web is owned by application demo/other', retryable: false },
    });
    expect(sentKeys(refused.effects)).toEqual([]);
    expect(refused.run).toMatchObject({ phase: 'workflowFailed' });
    expect(refused.run.reason).toBe(
      'step "fan-out" failed on c2 (verification: nothing of this step was applied on any cluster): ConfigMap demo/web is owned by application demo/other',
    );
    // A verification report arriving after the step failed changes nothing.
    expect(d.report('fan-out', 'c3', 'done').changed).toBe(false);
  });

  it('does not verify a step with one cluster apart: its apply checks everything before its first write', () => {
    const d = started(plan([deployStep('single', ['c1'])]));
    expect(d.step('single').verifying).toBeUndefined();
    expect(d.report('single', 'c1', 'done').run.phase).toBe('running');
  });

  it('ignores a late verification report once the real writes went out', () => {
    const d = started(plan([deployStep('two', ['c1', 'c2'])]));
    d.report('two', 'c1', 'done');
    d.report('two', 'c2', 'done');
    expect(d.step('two').verifying).toBeUndefined();
    const late = d.apply({ type: 'task-reported', step: 'two', cluster: 'c1', attempt: 1, outcome: { kind: 'done' } });
    expect(late.changed).toBe(false);
    expect(late.ignoredReason).toContain('duplicate or stale');
  });

  it('passes through a deploy step without targets', () => {
    const d = started(plan([deployStep('empty', []), deployStep('next', ['c1'])]));
    expect(d.step('empty').phase).toBe('succeeded');
    expect(sentKeys(d.history[0]!.effects)).toEqual(['run-1/next/c1/1']);
  });
});

describe('decider: traffic follows a deploy step that succeeded', () => {
  type Case = {
    name: string;
    plan: ReturnType<typeof plan>;
    events: Array<[step: string, cluster: string, outcome: 'done' | 'waiting' | 'failed']>;
    reconciled: string[][];
  };
  const cases: Case[] = [
    {
      name: 'a one-cluster step, once its report is done',
      plan: plan([deployStep('one', ['c1'])]),
      events: [['one', 'c1', 'done']],
      reconciled: [['one']],
    },
    {
      name: 'not after the verifying pass of a step over several clusters, only after its real writes',
      plan: plan([deployStep('two', ['c1', 'c2'])]),
      events: [
        ['two', 'c1', 'done'],
        ['two', 'c2', 'done'],
        ['two', 'c1', 'done'],
        ['two', 'c2', 'done'],
      ],
      reconciled: [[], [], [], ['two']],
    },
    {
      name: 'not while a cluster is still waiting',
      plan: plan([deployStep('one', ['c1'])]),
      events: [['one', 'c1', 'waiting']],
      reconciled: [[]],
    },
    { name: 'not for a step that failed', plan: plan([deployStep('one', ['c1'])]), events: [['one', 'c1', 'failed']], reconciled: [[]] },
    {
      name: 'once per step, each in its turn',
      plan: plan([deployStep('a', ['c1']), deployStep('b', ['c2'])]),
      events: [
        ['a', 'c1', 'done'],
        ['a', 'c1', 'done'],
        ['b', 'c2', 'done'],
      ],
      reconciled: [['a'], [], ['b']],
    },
    {
      name: 'not for a step without clusters',
      plan: plan([deployStep('empty', []), deployStep('next', ['c1'])]),
      events: [],
      reconciled: [],
    },
  ];
  it.each(cases)('$name', ({ plan: p, events, reconciled }) => {
    const d = started(p);
    expect(reconciledSteps(d.history[0]!.effects)).toEqual([]);
    const seen = events.map(([step, cluster, outcome]) => reconciledSteps(d.report(step, cluster, outcome).effects));
    expect(seen).toEqual(reconciled);
  });

  it('not when a suspend step resumes', () => {
    const d = started(plan([suspendStep('gate'), deployStep('after', ['c1'])]));
    expect(reconciledSteps(d.apply({ type: 'resumed', by: 'carol', decisionId: 'r-1' }).effects)).toEqual([]);
  });
});

function reconciledSteps(effects: Effect[]): string[] {
  return effects.flatMap((e) => (e.type === 'reconcile-traffic' ? [e.step] : []));
}

describe('decider: suspensions and decisions', () => {
  it('resumes a suspend step with a duration by itself', () => {
    const d = started(plan([suspendStep('soak', 120_000), deployStep('after', ['c1'])]));
    expect(d.run).toMatchObject({ phase: 'workflowSuspending', wakeAt: T0 + 120_000 });
    expect(effectTypes(d.history[0]!.effects)).toEqual(['schedule-wakeup']);
    expect(d.apply({ type: 'tick' }, T0 + 119_999).changed).toBe(false);
    const resumed = d.apply({ type: 'tick' }, T0 + 120_000);
    expect(resumed.run.phase).toBe('runningWorkflow');
    expect(sentKeys(resumed.effects)).toEqual(['run-1/after/c1/1']);
  });

  it('waits for a person on a suspend step without duration; resume continues it', () => {
    const d = started(plan([suspendStep('gate'), deployStep('after', ['c1'])]));
    expect(d.history[0]!.effects).toEqual([{ type: 'request-approval', runId: 'run-1', step: 'gate' }]);
    expect(d.apply({ type: 'tick' }, T0 + 3_600_000).changed).toBe(false);
    const resumed = d.apply({ type: 'resumed', by: 'carol', decisionId: 'r-1' });
    expect(d.run.decisions[0]).toMatchObject({ kind: 'resume', by: 'carol', step: 'gate' });
    expect(sentKeys(resumed.effects)).toEqual(['run-1/after/c1/1']);
  });

  it('ends workflowFailed on reject, with who and the comment', () => {
    const d = started();
    d.report(S1, 'cluster1-beijing', 'done');
    const rejected = d.apply({ type: 'rejected', by: 'alice', comment: 'wrong image', decisionId: 'd-2' });
    expect(rejected.run).toMatchObject({ phase: 'workflowFailed', reason: 'rejected by alice', message: 'wrong image' });
    expect(d.run.steps.map((s) => s.phase)).toEqual(['succeeded', 'failed', 'skipped']);
    expect(d.run.decisions).toEqual([expect.objectContaining({ id: 'd-2', kind: 'reject', by: 'alice', comment: 'wrong image' })]);
    expect(effectTypes(rejected.effects)).toEqual(['approval-decided', 'finish']);
  });

  it('ends workflowTerminated on terminate, from running or suspended', () => {
    const running = started();
    const t1 = running.apply({ type: 'terminate', by: 'ingest', reason: 'superseded by version9', decisionId: 't-1' });
    expect(t1.run).toMatchObject({ phase: 'workflowTerminated', reason: 'terminated by ingest: superseded by version9' });
    expect(running.run.steps.map((s) => s.phase)).toEqual(['failed', 'skipped', 'skipped']);
    expect(running.run.wakeAt).toBeUndefined();

    const suspended = started();
    suspended.report(S1, 'cluster1-beijing', 'done');
    suspended.apply({ type: 'terminate', by: 'bob', reason: 'cancelled' });
    expect(suspended.run.phase).toBe('workflowTerminated');
    expect(suspended.run.decisions[0]).toMatchObject({ kind: 'terminate', by: 'bob', comment: 'cancelled', step: S2 });
  });
});
