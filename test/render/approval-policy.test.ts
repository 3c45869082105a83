import { describe, expect, it } from 'vitest';
import { isTricenterError } from '#shared/platform/errors.ts';
import type { PlanStep } from '#shared/delivery/model/plan.ts';
import { baseWith, CLUSTERS_YAML, planOf } from './helpers.ts';

/** The approval policy of a step: `properties.approval` in the Workflow over the registry's `approval:` defaults. */

const workflow = (steps: string) => `apiVersion: core.oam.dev/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\nsteps:\n${steps}---\n`;
const gate = (properties: string) => `  - {name: prod, type: deploy, properties: {policies: [everywhere], ${properties}}}\n`;
const hold = (properties: string) => `  - {name: hold, type: suspend, properties: {${properties}}}\n`;

async function stepsOf(steps: string, registryDefaults?: string): Promise<PlanStep[]> {
  const clusters = registryDefaults === undefined ? CLUSTERS_YAML : `${CLUSTERS_YAML}approval: ${registryDefaults}\n`;
  return (await planOf(baseWith(workflow(steps), { 'clusters.yaml': clusters }))).steps;
}

async function failure(steps: string, registryDefaults?: string): Promise<string> {
  try {
    await stepsOf(steps, registryDefaults);
  } catch (err) {
    if (isTricenterError(err)) return err.message;
    throw err;
  }
  throw new Error('expected the bundle to be refused');
}

describe('render: approval policies', () => {
  it('reads the step policy, durations in milliseconds', async () => {
    const [step] = await stepsOf(
      gate(
        'auto: false, approval: {approvers: [alice, "group:ops"], required: 2, perGroup: {ops: 1}, timeout: 1h, onTimeout: terminate, remindEvery: 15m}',
      ),
    );
    expect(step?.type === 'deploy' && step.approval).toEqual({
      approvers: ['alice', 'group:ops'],
      required: 2,
      perGroup: { ops: 1 },
      timeoutMs: 3_600_000,
      onTimeout: 'terminate',
      remindEveryMs: 900_000,
    });
  });

  it('takes the registry defaults field by field, the step winning', async () => {
    const steps = await stepsOf(
      `${gate('auto: false, approval: {required: 2}')}${hold('')}${gate('auto: true').replace('prod', 'after')}`,
      '{approvers: ["group:release"], required: 1, timeout: 2h}',
    );
    expect(steps.map((s) => s.approval)).toEqual([
      { approvers: ['group:release'], required: 2, timeoutMs: 7_200_000, onTimeout: 'fail' },
      { approvers: ['group:release'], required: 1, timeoutMs: 7_200_000, onTimeout: 'fail' },
      // An auto step waits for nobody: no policy.
      undefined,
    ]);
  });

  it('leaves approval steps without a policy when neither the step nor the registry gives one (any one approver)', async () => {
    const steps = await stepsOf(`${gate('auto: false')}${hold('')}`);
    expect(steps.map((s) => s.approval)).toEqual([undefined, undefined]);
  });

  const refusals: Array<{ title: string; steps: string; defaults?: string; says: RegExp }> = [
    {
      title: 'a policy on a step that does not wait (auto: true)',
      steps: gate('approval: {required: 1}'),
      says: /field steps\[0\]\.properties\.approval.*needs `auto: false`/,
    },
    {
      title: 'a policy on a suspend step with a duration',
      steps: hold('duration: 5m, approval: {required: 1}'),
      says: /resumes by itself, nobody approves it/,
    },
    {
      title: 'more required than listed approvers (it could never pass)',
      steps: gate('auto: false, approval: {approvers: [alice], required: 2}'),
      says: /field steps\[0\]\.properties\.approval\.required.*2 approvals required but only 1 approver listed/,
    },
    {
      title: 'per-group minimums above required',
      steps: gate('auto: false, approval: {required: 1, perGroup: {ops: 1, dev: 1}}'),
      says: /approval\.perGroup: asks for 2 approvals in groups, more than required \(1\)/,
    },
    {
      title: 'a malformed timeout',
      steps: gate('auto: false, approval: {timeout: soon}'),
      says: /field steps\[0\]\.properties\.approval\.timeout.*must be a duration/,
    },
    { title: 'an unknown field', steps: gate('auto: false, approval: {quorum: 2}'), says: /approval.*quorum/ },
    { title: 'required 0', steps: gate('auto: false, approval: {required: 0}'), says: /approval\.required/ },
    {
      title: 'registry defaults that no step can meet, named as the registry',
      steps: gate('auto: false'),
      defaults: '{approvers: [alice], required: 3}',
      says: /approval\.required \(the cluster registry's approval defaults\): 3 approvals required/,
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.title}, naming the field`, async () => {
      expect(await failure(c.steps, c.defaults)).toMatch(c.says);
    });
  }

  it('refuses a malformed registry approval block at the registry', async () => {
    expect(await failure(gate('auto: false'), '{onTimeout: approve}')).toMatch(/clusters\.yaml.*approval\.onTimeout/);
  });
});
