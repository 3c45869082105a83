import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy } from '#shared/delivery/model/approval-policy.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import type { DecisionEvent, RunEvent, StepPhase } from '#shared/delivery/workflow/run.ts';
import { deployStep, Driver, inGroup, plan, sentKeys, suspendStep } from './plans.ts';

/**
 * The step a decision is for. Two sub-steps of a step-group wait for approval at once (`east`
 * and `west`, each `auto: false` under a policy); a decision that does not name its step is
 * ignored (the use case answers 409) with both waiting steps listed, never applied to one picked
 * silently; a decision that names one decides exactly that one. The uploader (an OSS principal)
 * is refused on the step it names. Nothing ignored leaves a trace in the run.
 */
const T0 = 1_000_000;
const POLICY: ApprovalPolicy = { required: 1, onTimeout: 'fail' };
const UPLOADER = 'oss:2718';

function bothWaiting(): Driver {
  const gated = (name: string, cluster: string) =>
    inGroup('g', { ...deployStep(name, [cluster], { needsApproval: true }), approval: POLICY });
  const steps = [deployStep('canary', ['c0']), gated('east', 'c1'), gated('west', 'c2'), deployStep('after', ['c3'])];
  const driver = new Driver(createRun({ id: 'run-1', releaseId: 'rel-1', plan: plan(steps), uploadedBy: UPLOADER }, T0), T0);
  driver.apply({ type: 'started' });
  driver.report('canary', 'c0', 'done');
  return driver;
}

const phases = (d: Driver) => Object.fromEntries(d.run.steps.map((s) => [s.name, s.phase]));
const WAITING = { canary: 'succeeded', east: 'suspended', west: 'suspended', after: 'pending' } satisfies Record<string, StepPhase>;

type Decide = Omit<DecisionEvent, 'decisionId'>;
const approve = (extra: Partial<Decide> = {}): Decide => ({ type: 'approved', by: 'alice', ...extra });
const reject = (extra: Partial<Decide> = {}): Decide => ({ type: 'rejected', by: 'alice', comment: 'not now', ...extra });

describe('decider: a decision names the waiting step it is for', () => {
  it('starts with both sub-steps waiting for approval, each asked for', () => {
    const d = bothWaiting();
    expect(phases(d)).toEqual(WAITING);
    expect(d.run.phase).toBe('workflowSuspending');
    const asked = d.history.flatMap((t) => t.effects).filter((e) => e.type === 'request-approval');
    expect(asked.map((e) => (e.type === 'request-approval' ? e.step : ''))).toEqual(['east', 'west']);
  });

  const ignored: Array<{ title: string; event: Decide; reason: string }> = [
    {
      title: 'an approval without a step',
      event: approve(),
      reason: 'run run-1 is suspended at several steps ("east", "west"); name the step the decision is for',
    },
    {
      title: 'a reject without a step',
      event: reject(),
      reason: 'run run-1 is suspended at several steps ("east", "west"); name the step the decision is for',
    },
    {
      title: 'a resume without a step',
      event: { type: 'resumed', by: 'alice' },
      reason: 'run run-1 is suspended at several steps ("east", "west"); name the step the decision is for',
    },
    {
      title: 'a step that does not exist',
      event: approve({ step: 'north' }),
      reason: 'step "north" is not waiting for a decision in run run-1 (waiting: "east", "west")',
    },
    {
      title: 'a step that already succeeded',
      event: approve({ step: 'canary' }),
      reason: 'step "canary" is not waiting for a decision in run run-1 (waiting: "east", "west")',
    },
    {
      title: 'a step that has not started',
      event: reject({ step: 'after' }),
      reason: 'step "after" is not waiting for a decision in run run-1 (waiting: "east", "west")',
    },
    {
      title: 'the uploader without a step (no refusal recorded against a step it did not name)',
      event: approve({ by: 'mallory', identities: [UPLOADER] }),
      reason: 'run run-1 is suspended at several steps ("east", "west"); name the step the decision is for',
    },
  ];
  it.each(ignored)('ignores $title, listing the waiting steps, and records nothing', ({ event, reason }) => {
    const d = bothWaiting();
    const before = d.run;
    const result = d.apply({ ...event, decisionId: 'd-1' } as RunEvent, T0 + 5_000);
    expect(result).toMatchObject({ changed: false, ignoredReason: reason, effects: [] });
    expect(d.run).toBe(before);
    expect(d.run.decisions).toEqual([]);
    expect(phases(d)).toEqual(WAITING);
  });

  const decided: Array<{
    title: string;
    event: Decide;
    phases: Record<string, StepPhase>;
    runPhase: string;
    sent: string[];
    recorded: Record<string, unknown>;
  }> = [
    {
      title: 'an approval of east starts east only',
      event: approve({ step: 'east' }),
      phases: { ...WAITING, east: 'running' },
      runPhase: 'runningWorkflow',
      sent: ['run-1/east/c1/1'],
      recorded: { kind: 'approve', by: 'alice', step: 'east' },
    },
    {
      title: 'an approval of west starts west only',
      event: approve({ step: 'west' }),
      phases: { ...WAITING, west: 'running' },
      runPhase: 'runningWorkflow',
      sent: ['run-1/west/c2/1'],
      recorded: { kind: 'approve', by: 'alice', step: 'west' },
    },
    {
      title: 'a reject of west fails west, stops east beside it and fails the run',
      event: reject({ step: 'west' }),
      phases: { canary: 'succeeded', east: 'failed', west: 'failed', after: 'skipped' },
      runPhase: 'workflowFailed',
      sent: [],
      recorded: { kind: 'reject', by: 'alice', step: 'west', comment: 'not now' },
    },
    {
      title: "the uploader's approval of east (by an OSS identity) is refused on east and audited",
      event: approve({ by: 'mallory', identities: [UPLOADER], step: 'east' }),
      phases: WAITING,
      runPhase: 'workflowSuspending',
      sent: [],
      recorded: {
        kind: 'approve',
        by: 'mallory',
        step: 'east',
        outcome: 'refused',
        reason: 'mallory uploaded this release and may not approve it (no self-approval)',
      },
    },
  ];
  it.each(decided)('$title', (row) => {
    const d = bothWaiting();
    const result = d.apply({ ...row.event, decisionId: 'd-1' } as RunEvent, T0 + 5_000);
    expect(result.changed).toBe(true);
    expect(phases(d)).toEqual(row.phases);
    expect(d.run.phase).toBe(row.runPhase);
    expect(sentKeys(result.effects)).toEqual(row.sent);
    expect(d.run.decisions).toEqual([expect.objectContaining({ id: 'd-1', at: T0 + 5_000, ...row.recorded })]);
  });

  it('once one step is decided, the other is the only one waiting: a decision without a step is for it', () => {
    const d = bothWaiting();
    d.apply({ ...approve({ step: 'east' }), decisionId: 'd-1' } as RunEvent);
    // east now deploys: naming it again is not a second approval.
    expect(d.apply({ ...approve({ step: 'east' }), decisionId: 'd-2' } as RunEvent).ignoredReason).toBe(
      'step "east" is not waiting for a decision in run run-1 (waiting: "west")',
    );
    const last = d.apply({ ...approve({ by: 'bob' }), decisionId: 'd-3' } as RunEvent);
    expect(sentKeys(last.effects)).toEqual(['run-1/west/c2/1']);
    expect(d.run.decisions.map((x) => [x.id, x.step])).toEqual([
      ['d-1', 'east'],
      ['d-3', 'west'],
    ]);
  });

  it('the same decision id for the other step is the first decision again, not a second one', () => {
    const d = bothWaiting();
    d.apply({ ...approve({ step: 'east' }), decisionId: 'd-1' } as RunEvent);
    const again = d.apply({ ...approve({ step: 'west' }), decisionId: 'd-1' } as RunEvent);
    expect(again).toMatchObject({ changed: false, ignoredReason: 'decision d-1 was already applied' });
    expect(d.step('west').phase).toBe('suspended');
  });

  it('two suspend steps with a duration and a gate: the gate still needs naming while both are suspended', () => {
    const steps = [inGroup('g', suspendStep('soak', 60_000)), inGroup('g', { ...suspendStep('gate'), approval: POLICY })];
    const d = new Driver(createRun({ id: 'run-1', releaseId: 'rel-1', plan: plan(steps) }, T0), T0);
    d.apply({ type: 'started' });
    expect(d.apply({ ...approve(), decisionId: 'd-1' } as RunEvent).ignoredReason).toBe(
      'run run-1 is suspended at several steps ("soak", "gate"); name the step the decision is for',
    );
    d.apply({ ...approve({ step: 'gate' }), decisionId: 'd-2' } as RunEvent);
    expect(phases(d)).toEqual({ soak: 'suspended', gate: 'succeeded' });
  });
});
