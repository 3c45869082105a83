/**
 * KubeVela's workflow steps and policies beyond the corpus: what is refused (one line, file,
 * document, field) and the plan shapes the decider relies on (group, dependsOn, apply-component
 * targets, placement, lifecycle annotations).
 */
import { describe, expect, it } from 'vitest';
import { BundleError } from '#shared/platform/errors.ts';
import type { DeployStep } from '#shared/delivery/model/plan.ts';
import { CLUSTERS_YAML, planOf } from './helpers.ts';

function app(spec: string): Record<string, string> {
  return {
    'clusters.yaml': CLUSTERS_YAML,
    'app.yaml': `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: shop}
spec:
  components:
    - name: web
      type: k8s-objects
      properties:
        objects:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: web}, data: {a: "1"}}
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: pinned, labels: {app.oam.dev/cluster: c3}}}
    - name: db
      type: k8s-objects
      properties:
        objects:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: db}}
  policies:
    - {name: bj, type: topology, properties: {clusters: [bj1, bj2]}}
${spec}`,
  };
}

async function refusal(files: Record<string, string>): Promise<BundleError> {
  const err = await planOf(files).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  return err as BundleError;
}

describe('workflow steps and policies: refusals', () => {
  const cases: Array<{ name: string; spec: string; field: string; says: string }> = [
    {
      name: 'a top-level dependsOn on a later step',
      spec: `  workflow:
    steps:
      - {name: a, type: apply-component, dependsOn: [b], properties: {component: web}}
      - {name: b, type: apply-component, properties: {component: db}}`,
      field: 'spec.workflow.steps[0].dependsOn[0]',
      says: 'depends on "b", which is not a step before this one (top-level steps run one after the other; earlier steps: none)',
    },
    {
      name: 'a sub-step dependsOn naming no sibling',
      spec: `  workflow:
    steps:
      - name: g
        type: step-group
        subSteps:
          - {name: a, type: apply-component, dependsOn: [nope], properties: {component: web}}`,
      field: 'spec.workflow.steps[0].subSteps[0].dependsOn[0]',
      says: 'depends on "nope", which is neither a sub-step of "g" (a) nor a step before the group',
    },
    {
      name: 'a step-group inside a step-group',
      spec: `  workflow:
    steps:
      - name: g
        type: step-group
        subSteps:
          - {name: inner, type: step-group, subSteps: [{name: a, type: apply-component, properties: {component: web}}]}`,
      field: 'spec.workflow.steps[0].subSteps[0].type',
      says: 'a step-group cannot hold another step-group',
    },
    {
      name: 'a step-group with properties',
      spec: `  workflow:
    steps:
      - {name: g, type: step-group, properties: {x: 1}, subSteps: [{name: a, type: apply-component, properties: {component: web}}]}`,
      field: 'spec.workflow.steps[0].properties',
      says: 'a step-group takes no properties',
    },
    {
      name: 'a step-group without sub-steps',
      spec: `  workflow:
    steps:
      - {name: g, type: step-group}`,
      field: 'spec.workflow.steps[0].subSteps',
      says: 'a step-group needs at least one sub-step',
    },
    {
      name: 'subSteps on a step that is no group',
      spec: `  workflow:
    steps:
      - {name: a, type: suspend, subSteps: []}`,
      field: 'spec.workflow.steps[0].subSteps',
      says: 'only a step-group has subSteps',
    },
    {
      name: 'a sub-step name already used at the top level',
      spec: `  workflow:
    steps:
      - {name: a, type: suspend}
      - {name: g, type: step-group, subSteps: [{name: a, type: apply-component, properties: {component: web}}]}`,
      field: 'spec.workflow.steps[1].subSteps[0].name',
      says: 'step name "a" is already used at spec.workflow.steps[0]',
    },
    {
      name: 'apply-component of no component',
      spec: `  workflow:
    steps:
      - {name: a, type: apply-component, properties: {component: api}}`,
      field: 'spec.workflow.steps[0].properties.component',
      says: 'no component named "api" (components: web, db)',
    },
    {
      name: 'apply-component to the hub',
      spec: `  workflow:
    steps:
      - {name: a, type: apply-component, properties: {component: db, cluster: local}}`,
      field: 'spec.workflow.steps[0].properties.cluster',
      says: 'unknown cluster "local"; the registry has bj1, bj2, hz1 (there is no hub cluster "local")',
    },
    {
      name: 'a suspend timeout not longer than its duration',
      spec: `  workflow:
    steps:
      - {name: a, type: suspend, timeout: 10s, properties: {duration: 10s}}`,
      field: 'spec.workflow.steps[0].timeout',
      says: "a suspend step's timeout must be longer than its duration",
    },
    {
      name: 'a read-only rule selecting by trait type',
      spec: '    - {name: ro, type: read-only, properties: {rules: [{selector: {traitTypes: [expose]}}]}}',
      field: 'spec.policies[1].properties.rules[0].selector.traitTypes',
      says: 'traitTypes is not supported',
    },
    {
      name: 'a read-only rule with an empty selector',
      spec: '    - {name: ro, type: read-only, properties: {rules: [{selector: {}}]}}',
      field: 'spec.policies[1].properties.rules[0].selector',
      says: 'an empty selector would match every object',
    },
    {
      name: 'garbage-collect continueOnFailure',
      spec: '    - {name: gc, type: garbage-collect, properties: {continueOnFailure: true}}',
      field: 'spec.policies[1].properties.continueOnFailure',
      says: 'continueOnFailure: true is not supported: tricenter prunes only after a run succeeds',
    },
    {
      name: 'garbage-collect applicationRevisionLimit',
      spec: '    - {name: gc, type: garbage-collect, properties: {applicationRevisionLimit: 3}}',
      field: 'spec.policies[1].properties.applicationRevisionLimit',
      says: 'applicationRevisionLimit is not supported',
    },
    {
      name: 'garbage-collect with an unknown strategy',
      spec: '    - {name: gc, type: garbage-collect, properties: {rules: [{selector: {resourceTypes: [ConfigMap]}, strategy: sometimes}]}}',
      field: 'spec.policies[1].properties.rules[0].strategy',
      says: 'Invalid option',
    },
    {
      name: 'two inline policies of one name',
      spec: '    - {name: "bj", type: topology, properties: {clusters: [hz1]}}',
      field: '',
      says: 'duplicate: a policy named bj',
    },
  ];

  it.each(cases)('$name', async ({ spec, field, says }) => {
    const err = await refusal(app(spec));
    expect(err.message).toContain(says);
    expect(err.location?.file).toBe('app.yaml');
    if (field) expect(err.location?.field).toBe(field);
  });
});

describe('workflow steps and policies: plans', () => {
  it('flattens a step-group into sub-steps carrying the group and their dependsOn', async () => {
    const plan = await planOf(
      app(`  workflow:
    steps:
      - name: g
        type: step-group
        subSteps:
          - {name: a, type: apply-component, properties: {component: db, cluster: c3}}
          - {name: b, type: apply-component, dependsOn: [a], properties: {component: web}}
      - {name: after, type: suspend, dependsOn: [g], timeout: 5m}`),
    );
    expect(plan.steps.map((s) => [s.name, s.group, s.dependsOn, s.type === 'suspend' ? s.timeoutMs : undefined])).toEqual([
      ['a', 'g', undefined, undefined],
      ['b', 'g', ['a'], undefined],
      ['after', undefined, ['g'], 300_000],
    ]);
    const [a, b] = plan.steps as DeployStep[];
    expect(a?.targets.map((t) => [t.cluster, t.manifests.map((m) => m.metadata.name)])).toEqual([['hz1', ['db']]]);
    // Without a cluster: where the topology policies say; the pinned object goes to its own cluster (c3 = hz1) only.
    expect(b?.targets.map((t) => [t.cluster, t.manifests.map((m) => m.metadata.name)])).toEqual([
      ['bj1', ['web']],
      ['bj2', ['web']],
      ['hz1', ['pinned']],
    ]);
  });

  it('stamps read-only and garbage-collect annotations on the objects their rules select, first rule first', async () => {
    const plan = await planOf(
      app(`    - name: ro
      type: read-only
      properties: {rules: [{selector: {resourceNames: [db]}}]}
    - name: gc
      type: garbage-collect
      properties:
        keepLegacyResource: true
        rules:
          - {selector: {componentNames: [web]}, strategy: never, propagation: orphan}
          - {selector: {resourceTypes: [ConfigMap]}, strategy: onAppDelete}`),
    );
    expect(plan.keepLegacyResources).toBe(true);
    const step = plan.steps[0] as DeployStep;
    const annotations = Object.fromEntries(
      (step.targets[0]?.manifests ?? []).map((m) => [
        m.metadata.name,
        Object.fromEntries(Object.entries(m.metadata.annotations ?? {}).filter(([k]) => /read-only|gc-/.test(k))),
      ]),
    );
    expect(annotations).toEqual({
      web: { 'tricenter.io/gc-strategy': 'never', 'tricenter.io/gc-propagation': 'orphan' },
      db: { 'tricenter.io/read-only': 'ro', 'tricenter.io/gc-strategy': 'onAppDelete' },
    });
  });

  it('drops lifecycle annotations a bundle writes itself: only policies grant them', async () => {
    const files = app('');
    files['app.yaml'] = (files['app.yaml'] ?? '').replace(
      '{name: db}',
      '{name: db, annotations: {tricenter.io/read-only: forged, tricenter.io/gc-strategy: never}}',
    );
    const plan = await planOf(files);
    const db = (plan.steps[0] as DeployStep).targets[0]?.manifests.find((m) => m.metadata.name === 'db');
    expect(Object.keys(db?.metadata.annotations ?? {}).filter((k) => /read-only|gc-/.test(k))).toEqual([]);
  });

  it('keeps the annotations a bundle writes in their order, before the stamped ones, without a forged reserved one between them', async () => {
    const files = app('');
    files['app.yaml'] = (files['app.yaml'] ?? '').replace(
      '{name: db}',
      '{name: db, annotations: {team: a, tricenter.io/read-only: forged, app.oam.dev/publishVersion: forged, owner: b}}',
    );
    const plan = await planOf(files);
    const db = (plan.steps[0] as DeployStep).targets[0]?.manifests.find((m) => m.metadata.name === 'db');
    const annotations = db?.metadata.annotations ?? {};
    // The bundle's publishVersion annotation keeps its place and gets the application's value.
    expect(Object.keys(annotations).slice(0, 3)).toEqual(['team', 'app.oam.dev/publishVersion', 'owner']);
    expect(annotations['app.oam.dev/publishVersion']).toBe(plan.publishVersion);
    expect(Object.keys(annotations)).not.toContain('tricenter.io/read-only');
    expect(Object.isFrozen(annotations)).toBe(true);
  });
});

describe('workflow mode', () => {
  it('chains sub-steps under subSteps: StepByStep (inline workflow)', async () => {
    const plan = await planOf(
      app(`  workflow:
    mode: {subSteps: StepByStep}
    steps:
      - name: g
        type: step-group
        subSteps:
          - {name: a, type: apply-component, properties: {component: db}}
          - {name: b, type: apply-component, properties: {component: web}}`),
    );
    expect(plan.steps.map((s) => [s.name, s.dependsOn])).toEqual([
      ['a', undefined],
      ['b', ['a']],
    ]);
  });

  it.each([
    ['{steps: DAG}', 'spec.workflow.mode.steps', 'mode.steps: DAG is not supported'],
    ['{steps: Parallel}', 'spec.workflow.mode.steps', 'Invalid option'],
    ['{dag: true}', 'spec.workflow.mode', 'unknown field "dag"'],
  ])('refuses mode %s', async (mode, field, says) => {
    const err = await refusal(app(`  workflow:\n    mode: ${mode}\n    steps:\n      - {name: a, type: suspend}`));
    expect(err.message).toContain(says);
    expect(err.location?.field).toBe(field);
  });
});
