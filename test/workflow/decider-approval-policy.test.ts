import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy } from '#shared/delivery/model/approval-policy.ts';
import { createRun, next } from '#shared/delivery/workflow/decider.ts';
import type { DecisionEvent, Effect, Run } from '#shared/delivery/workflow/run.ts';
import { deepFreeze, deployStep, Driver, plan, suspendStep } from './plans.ts';

/** Approval policies enforced by the decider: N of M, groups, no self-approval, timeout, reminders. */

const MINUTE = 60_000;

function gatedRun(policy: ApprovalPolicy, options: { uploadedBy?: string; suspend?: boolean } = {}): Driver {
  const gate = options.suspend
    ? { ...suspendStep('hold'), approval: policy }
    : { ...deployStep('prod', ['cluster2-beijing'], { needsApproval: true }), approval: policy };
  const input = {
    id: 'run-1',
    releaseId: 'rel-1',
    plan: plan([deployStep('canary', ['cluster1-beijing']), gate]),
    ...(options.uploadedBy ? { uploadedBy: options.uploadedBy } : {}),
  };
  const driver = new Driver(createRun(input, 1_000_000));
  driver.apply({ type: 'started' });
  driver.report('canary', 'cluster1-beijing', 'done');
  return driver;
}

const approve = (by: string, extra: Partial<DecisionEvent> = {}): DecisionEvent => ({
  type: 'approved',
  by,
  decisionId: `d-${by}-${extra.decisionId ?? '1'}`,
  ...extra,
});

describe('decider: approval policy, who may approve', () => {
  const cases: Array<{
    title: string;
    policy: ApprovalPolicy;
    uploadedBy?: string;
    events: DecisionEvent[];
    /** per event: refused (403), counted (waits for more), continued (the step went on), ignored (409) */
    expect: Array<'refused' | 'counted' | 'continued' | 'ignored'>;
  }> = [
    { title: 'one approver by default', policy: { required: 1, onTimeout: 'fail' }, events: [approve('alice')], expect: ['continued'] },
    {
      title: 'a listed name passes, an unlisted one is refused',
      policy: { approvers: ['alice', 'bob'], required: 1, onTimeout: 'fail' },
      events: [approve('mallory'), approve('bob')],
      expect: ['refused', 'continued'],
    },
    {
      title: 'a group member passes, a non-member is refused',
      policy: { approvers: ['group:ops'], required: 1, onTimeout: 'fail' },
      events: [approve('dev1', { groups: ['dev'] }), approve('op1', { groups: ['ops'] })],
      expect: ['refused', 'continued'],
    },
    {
      title: '2 of 3: the first counts, a repeat by the same approver is ignored, a second approver passes',
      policy: { approvers: ['alice', 'bob', 'carol'], required: 2, onTimeout: 'fail' },
      events: [approve('alice'), approve('alice', { decisionId: '2' }), approve('carol')],
      expect: ['counted', 'ignored', 'continued'],
    },
    {
      title: 'per group: two approvals without ops still wait for ops',
      policy: { required: 2, perGroup: { ops: 1 }, onTimeout: 'fail' },
      events: [approve('dev1', { groups: ['dev'] }), approve('dev2', { groups: ['dev'] }), approve('op1', { groups: ['ops'] })],
      expect: ['counted', 'counted', 'continued'],
    },
    {
      title: 'the uploader (API token) may not approve their own release, even when listed',
      policy: { approvers: ['alice', 'bob'], required: 1, onTimeout: 'fail' },
      uploadedBy: 'token:alice',
      events: [approve('alice'), approve('bob')],
      expect: ['refused', 'continued'],
    },
    {
      title: 'the uploader (OSS principal) is refused through the identity their token maps to',
      policy: { required: 1, onTimeout: 'fail' },
      uploadedBy: 'oss:2718281828',
      events: [approve('alice', { identities: ['oss:2718281828'] }), approve('bob', { identities: ['oss:314159'] })],
      expect: ['refused', 'continued'],
    },
    {
      title: 'a refused approval never counts towards N',
      policy: { approvers: ['alice', 'bob'], required: 2, onTimeout: 'fail' },
      events: [approve('mallory'), approve('alice'), approve('bob')],
      expect: ['refused', 'counted', 'continued'],
    },
  ];

  for (const suspend of [false, true]) {
    for (const c of cases) {
      it(`${suspend ? 'suspend step' : 'deploy gate'}: ${c.title}`, () => {
        const driver = gatedRun(c.policy, { ...(c.uploadedBy ? { uploadedBy: c.uploadedBy } : {}), suspend });
        const outcomes = c.events.map((event) => {
          const t = driver.apply(event);
          if (!t.changed) return 'ignored';
          if (t.refused !== undefined) return 'refused';
          return driver.run.steps[1]?.phase === 'suspended' ? 'counted' : 'continued';
        });
        expect(outcomes).toEqual(c.expect);
        // Every refusal is in the run's decisions (the audit), with its reason.
        const refused = driver.run.decisions.filter((d) => d.outcome === 'refused');
        expect(refused).toHaveLength(c.expect.filter((e) => e === 'refused').length);
        for (const d of refused) expect(d.reason).toMatch(/not an approver|may not approve/);
        expect(driver.run.phase).toBe(suspend ? 'running' : 'runningWorkflow');
      });
    }
  }

  it('answers a refusal with the reason and records who, when and which step', () => {
    const driver = gatedRun({ approvers: ['alice'], required: 1, onTimeout: 'fail' }, { uploadedBy: 'token:alice' });
    const t = driver.apply(approve('alice'), 1_000_500);
    expect(t.refused).toBe('alice uploaded this release and may not approve it (no self-approval)');
    expect(t.run.decisions).toEqual([
      { id: 'd-alice-1', kind: 'approve', by: 'alice', at: 1_000_500, step: 'prod', outcome: 'refused', reason: t.refused },
    ]);
    expect(t.run.steps[1]?.phase).toBe('suspended');
    expect(t.effects.filter((e) => e.type === 'send-tasks')).toEqual([]);
  });

  it('a refused decision sent again with the same id is not recorded twice', () => {
    const driver = gatedRun({ approvers: ['alice'], required: 1, onTimeout: 'fail' });
    driver.apply(approve('mallory'));
    const again = driver.apply(approve('mallory'));
    expect(again.changed).toBe(false);
    expect(driver.run.decisions).toHaveLength(1);
  });

  it('resume is held to the same policy as approve', () => {
    const driver = gatedRun({ approvers: ['alice'], required: 1, onTimeout: 'fail' }, { suspend: true });
    const t = driver.apply({ type: 'resumed', by: 'mallory', decisionId: 'r1' });
    expect(t.refused).toMatch(/mallory is not an approver of step "hold"/);
    expect(driver.run.steps[1]?.phase).toBe('suspended');
  });

  it('without a policy, any approver continues (and the uploader too): the old behaviour', () => {
    const driver = new Driver(
      createRun(
        {
          id: 'run-1',
          releaseId: 'rel-1',
          plan: plan([deployStep('prod', ['c1'], { needsApproval: true })]),
          uploadedBy: 'token:alice',
        },
        0,
      ),
    );
    driver.apply({ type: 'started' });
    expect(driver.apply(approve('alice')).refused).toBeUndefined();
    expect(driver.run.steps[0]?.phase).toBe('running');
  });
});

describe('decider: approval policy, rejects', () => {
  it('one reject by an approver fails the step, even after approvals counted', () => {
    const driver = gatedRun({ approvers: ['alice', 'bob', 'carol'], required: 2, onTimeout: 'fail' });
    driver.apply(approve('alice'));
    const t = driver.apply({ type: 'rejected', by: 'bob', comment: 'the canary error rate is up', decisionId: 'x' });
    expect(t.run.phase).toBe('workflowFailed');
    expect(t.run.reason).toBe('rejected by bob');
    expect(t.run.message).toBe('the canary error rate is up');
  });

  it('a reject without a comment changes nothing', () => {
    const driver = gatedRun({ required: 1, onTimeout: 'fail' });
    const t = driver.apply({ type: 'rejected', by: 'bob', comment: '  ', decisionId: 'x' });
    expect(t.changed).toBe(false);
    expect(t.ignoredReason).toBe('a reject of step "prod" needs a comment saying why');
  });

  it('a reject by someone not allowed is refused and recorded; the uploader may withdraw their release', () => {
    const driver = gatedRun({ approvers: ['alice'], required: 1, onTimeout: 'fail' }, { uploadedBy: 'token:uploader' });
    const refused = driver.apply({ type: 'rejected', by: 'mallory', comment: 'no', decisionId: 'x' });
    expect(refused.refused).toMatch(/mallory is not an approver/);
    expect(driver.run.phase).toBe('workflowSuspending');
    const withdrawn = driver.apply({ type: 'rejected', by: 'uploader', comment: 'wrong bundle', decisionId: 'y' });
    expect(withdrawn.run.phase).toBe('workflowFailed');
  });
});

describe('decider: approval policy, timeout and reminders (injected clock)', () => {
  const start = 1_000_000;

  it('fails the run when nobody approved within the timeout, naming what was missing; never approves', () => {
    const driver = gatedRun({ required: 2, timeoutMs: 30 * MINUTE, onTimeout: 'fail' });
    driver.apply(approve('alice'));
    expect(driver.run.wakeAt).toBe(start + 30 * MINUTE);
    expect(driver.apply({ type: 'tick' }, start + 30 * MINUTE - 1).changed).toBe(false);
    const t = driver.apply({ type: 'tick' }, start + 30 * MINUTE);
    expect(t.run.phase).toBe('workflowFailed');
    expect(t.run.reason).toBe('step "prod" was not approved within its approval timeout of 30m (waiting for 1 more approval)');
    expect(t.effects.some((e) => e.type === 'send-tasks')).toBe(false);
    expect(t.run.steps[1]?.tasks[0]?.attempt).toBe(0);
  });

  it('terminates the run instead when the policy says so', () => {
    const driver = gatedRun({ required: 1, timeoutMs: 10 * MINUTE, onTimeout: 'terminate' }, { suspend: true });
    const t = driver.apply({ type: 'tick' }, start + 10 * MINUTE);
    expect(t.run.phase).toBe('workflowTerminated');
    expect(t.run.steps.map((s) => s.phase)).toEqual(['succeeded', 'failed']);
  });

  it('an approval after the timeout has fired is refused as the run has ended', () => {
    const driver = gatedRun({ required: 1, timeoutMs: MINUTE, onTimeout: 'fail' });
    driver.apply({ type: 'tick' }, start + MINUTE);
    const late = driver.apply(approve('alice'), start + MINUTE + 1);
    expect(late.changed).toBe(false);
    expect(driver.run.phase).toBe('workflowFailed');
  });

  it('a tick late by hours still only fails (the timeout never turns into an approval)', () => {
    const driver = gatedRun({ required: 1, timeoutMs: MINUTE, onTimeout: 'fail' });
    const t = driver.apply({ type: 'tick' }, start + 100 * MINUTE);
    expect(t.run.phase).toBe('workflowFailed');
    expect(t.run.decisions).toEqual([]);
  });

  it('reminds at each interval while waiting, one reminder per due time however late the tick, and stops once approved', () => {
    const driver = gatedRun({ required: 2, remindEveryMs: 15 * MINUTE, onTimeout: 'fail' });
    expect(driver.run.wakeAt).toBe(start + 15 * MINUTE);
    const reminders = (effects: Effect[]) => effects.filter((e) => e.type === 'remind-approval');
    expect(driver.apply({ type: 'tick' }, start + 14 * MINUTE).changed).toBe(false);
    const first = driver.apply({ type: 'tick' }, start + 15 * MINUTE);
    expect(reminders(first.effects)).toEqual([{ type: 'remind-approval', runId: 'run-1', step: 'prod', missing: '2 more approvals' }]);
    expect(driver.run.wakeAt).toBe(start + 30 * MINUTE);
    driver.apply(approve('alice'), start + 20 * MINUTE);
    const late = driver.apply({ type: 'tick' }, start + 95 * MINUTE);
    expect(reminders(late.effects)).toEqual([{ type: 'remind-approval', runId: 'run-1', step: 'prod', missing: '1 more approval' }]);
    expect(driver.run.wakeAt).toBe(start + 110 * MINUTE);
    driver.apply(approve('bob'), start + 96 * MINUTE);
    expect(driver.run.steps[1]?.remindAt).toBeUndefined();
    expect(driver.apply({ type: 'tick' }, start + 200 * MINUTE).effects.some((e) => e.type === 'remind-approval')).toBe(false);
  });

  it('is pure: the frozen input run is never mutated by a refusal', () => {
    const driver = gatedRun({ approvers: ['alice'], required: 1, onTimeout: 'fail' });
    const frozen: Run = deepFreeze(structuredClone(driver.run));
    const t = next(frozen, approve('mallory'), 2_000_000);
    expect(frozen.decisions).toEqual([]);
    expect(t.run.decisions).toHaveLength(1);
  });
});
