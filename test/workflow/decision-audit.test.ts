import { describe, expect, it } from 'vitest';
import { startRun } from '#shared/delivery/workflow/decider.ts';
import type { DecisionAudit, RunEvent } from '#shared/delivery/workflow/run.ts';
import { Driver, seedPlan } from './plans.ts';

/** The decision audit: every decision keeps how it came in (channel, source, digest, policy version), appended, never rewritten. */
const T0 = 1_000_000;
const S1 = 'deploy-cluster1-beijing';

function atTheGate(): Driver {
  const first = startRun({ id: 'run-1', releaseId: 'rel-1', plan: seedPlan, policy: {} }, T0);
  const driver = new Driver(first.run, T0);
  driver.report(S1, 'cluster1-beijing', 'done', T0 + 1_000);
  return driver;
}

const PAGE: DecisionAudit = { channel: 'page', source: '10.0.0.7', digest: 'a'.repeat(64), policyVersion: 'any-approver/1' };

describe('decision audit', () => {
  it.each<[string, RunEvent, DecisionAudit | undefined]>([
    ['an approval on the page', { type: 'approved', by: 'alice', decisionId: 'd-1', audit: PAGE }, PAGE],
    [
      'a reject from the CLI',
      { type: 'rejected', by: 'bob', comment: 'no', decisionId: 'd-1', audit: { channel: 'cli', source: '::1' } },
      { channel: 'cli', source: '::1' },
    ],
    [
      'a terminate through the API',
      { type: 'terminate', by: 'ci', reason: 'stop', decisionId: 'd-1', audit: { channel: 'api' } },
      { channel: 'api' },
    ],
    ['a decision without audit (recorded before it existed)', { type: 'approved', by: 'alice', decisionId: 'd-1' }, undefined],
  ])('%s keeps its audit', (_what, event, expected) => {
    const d = atTheGate();
    d.apply(event, T0 + 5_000);
    const [decision] = d.run.decisions;
    expect(decision?.at).toBe(T0 + 5_000);
    if (expected) expect(decision?.audit).toEqual(expected);
    else expect(decision).not.toHaveProperty('audit');
  });

  it('is a copy: changing the event afterwards changes nothing recorded; a later decision appends', () => {
    const d = atTheGate();
    const audit: DecisionAudit = { ...PAGE };
    d.apply({ type: 'approved', by: 'alice', decisionId: 'd-1', audit }, T0 + 5_000);
    audit.source = 'forged';
    expect(d.run.decisions[0]?.audit?.source).toBe('10.0.0.7');
    d.apply({ type: 'terminate', by: 'bob', reason: 'enough', decisionId: 'd-2', audit: { channel: 'cli' } }, T0 + 6_000);
    expect(d.run.decisions.map((x) => [x.id, x.audit?.channel])).toEqual([
      ['d-1', 'page'],
      ['d-2', 'cli'],
    ]);
  });
});
