/**
 * Structural sharing in the renderer (shared-objects.ts, render-memo.ts): what several clusters
 * and steps get alike is one frozen object, what a per-cluster override changes is the cluster's
 * own, and the plan is the same as rendering each step on its own, without anything to share.
 */
import { describe, expect, it } from 'vitest';
import { contentHash } from '#shared/delivery/model/canonical.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import { ANNOTATION_CONTENT_HASH } from '#shared/delivery/model/ownership.ts';
import type { Plan } from '#shared/delivery/model/plan.ts';
import { render } from '#shared/delivery/render/render.ts';
import { bundleOf, CLUSTERS_YAML, deploySteps } from './helpers.ts';

const COMPONENTS = 4;
const CLUSTERS = ['bj1', 'bj2', 'hz1'];

/** Each component a Deployment and a ConfigMap; a deploy step per cluster with its own env + scaler override. */
function files(steps: number[] = CLUSTERS.map((_, i) => i)): Record<string, string> {
  const objects: string[] = [];
  const components: string[] = [];
  for (let i = 0; i < COMPONENTS; i++) {
    objects.push(`apiVersion: apps/v1
kind: Deployment
metadata: {name: svc-${i}, labels: {app: svc-${i}}}
spec:
  replicas: 2
  selector: {matchLabels: {app: svc-${i}}}
  template:
    metadata: {labels: {app: svc-${i}}}
    spec:
      containers:
        - name: svc-${i}
          image: example/svc:${i}
          env: [{name: MODE, value: base}]
          ports: [{containerPort: 8080}]
`);
    objects.push(`apiVersion: v1
kind: ConfigMap
metadata: {name: svc-${i}}
data: {id: "${i}"}
`);
    components.push(`    - name: svc-${i}
      type: ref-objects
      properties:
        objects: [{resource: deployment, name: svc-${i}}, {resource: configmap, name: svc-${i}}]`);
  }
  const policies = CLUSTERS.map(
    (cluster, c) => `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: at-${cluster}}
type: topology
properties: {clusters: [${cluster}]}
---
apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: tune-${cluster}}
type: override
properties:
  components:
    - name: "svc-*"
      traits:
        - {type: env, properties: {env: {CLUSTER: ${cluster}}}}
        - {type: scaler, properties: {replicas: ${c + 3}}}
`,
  );
  const workflow = steps
    .map((c) => `  - {name: deploy-${CLUSTERS[c]}, type: deploy, properties: {policies: [tune-${CLUSTERS[c]}, at-${CLUSTERS[c]}]}}`)
    .join('\n');
  return {
    'clusters.yaml': CLUSTERS_YAML,
    'objects.yaml': objects.join('---\n'),
    'app.yaml': `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: prod, annotations: {app.oam.dev/publishVersion: v1}}
spec:
  components:
${components.join('\n')}
  workflow: {ref: rollout}
---
${policies.join('---\n')}---
apiVersion: core.oam.dev/v1alpha1
kind: Workflow
metadata: {name: rollout}
steps:
${workflow}
`,
  };
}

async function planOf(steps?: number[]): Promise<Plan> {
  const bundle = await bundleOf(files(steps));
  if (!bundle.registry) throw new Error('no registry');
  return render(bundle, bundle.registry.registry);
}

const manifestsOf = (plan: Plan) => deploySteps(plan).map((step) => step.targets[0]?.manifests ?? []);

/** Every object and array inside `value`, the value included. */
function nodes(value: unknown, out: object[] = []): object[] {
  if (typeof value === 'object' && value !== null) {
    out.push(value);
    for (const child of Object.values(value)) nodes(child, out);
  }
  return out;
}

describe('a distinct override per cluster', () => {
  it('renders what rendering each step on its own renders, byte for byte', async () => {
    const whole = manifestsOf(await planOf());
    expect(whole).toHaveLength(CLUSTERS.length);
    for (const [c, manifests] of whole.entries()) {
      const alone = manifestsOf(await planOf([c]));
      expect(JSON.stringify(manifests)).toBe(JSON.stringify(alone[0]));
    }
  });

  it('still refuses two components deploying one object when a later step renames one onto the other', async () => {
    const base = files([0]);
    const rename = `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: rename}
type: override
properties:
  components:
    - name: svc-1
      traits: [{type: json-patch, target: {kind: Deployment}, properties: {operations: [{op: replace, path: /metadata/name, value: svc-0}]}}]
---
`;
    // The renaming step comes after a step that rendered svc-1 as it is (its identity then known).
    const app = `${base['app.yaml'] ?? ''}  - {name: renamed, type: deploy, properties: {policies: [tune-bj1, at-bj2]}}\n`;
    const withRename = {
      ...base,
      'app.yaml': app.replace(
        'apiVersion: core.oam.dev/v1alpha1\nkind: Workflow',
        `${rename}apiVersion: core.oam.dev/v1alpha1\nkind: Workflow`,
      ),
    };
    const bundle = await bundleOf(withRename);
    if (!bundle.registry) throw new Error('no registry');
    expect(render(bundle, bundle.registry.registry).steps).toHaveLength(2);
    const clash = {
      ...withRename,
      'app.yaml': withRename['app.yaml'].replace('policies: [tune-bj1, at-bj2]', 'policies: [tune-bj1, rename, at-bj2]'),
    };
    const refused = await bundleOf(clash);
    if (!refused.registry) throw new Error('no registry');
    expect(() => render(refused, refused.registry?.registry ?? { clusters: [] })).toThrow(
      /Deployment svc-0 is already deployed by component "svc-0"/,
    );
  });

  it('gives each cluster its own Deployment and every cluster the same ConfigMap object', async () => {
    const [first, second] = manifestsOf(await planOf());
    for (let i = 0; i < COMPONENTS; i++) {
      const [deployA, configA] = [first?.[2 * i], first?.[2 * i + 1]];
      const [deployB, configB] = [second?.[2 * i], second?.[2 * i + 1]];
      expect(configB).toBe(configA);
      expect(deployB).not.toBe(deployA);
      const specA = deployA?.spec as {
        replicas: number;
        selector: unknown;
        template: { spec: { containers: Array<{ env: unknown[]; ports: unknown }> } };
      };
      const specB = deployB?.spec as typeof specA;
      expect([specA.replicas, specB.replicas]).toEqual([3, 4]);
      expect(specA.template.spec.containers[0]?.env).toEqual([
        { name: 'MODE', value: 'base' },
        { name: 'CLUSTER', value: 'bj1' },
      ]);
      // The parts the override left alone are shared, not copied per cluster.
      expect(specB.selector).toBe(specA.selector);
      expect(specB.template.spec.containers[0]?.ports).toBe(specA.template.spec.containers[0]?.ports);
      expect(specB.template.spec.containers[0]?.env[0]).toBe(specA.template.spec.containers[0]?.env[0]);
    }
  });

  it('stamps each manifest with the hash of its own content', async () => {
    for (const manifests of manifestsOf(await planOf())) {
      for (const m of manifests) {
        const annotations = { ...m.metadata.annotations };
        delete annotations[ANNOTATION_CONTENT_HASH];
        expect(m.metadata.annotations?.[ANNOTATION_CONTENT_HASH]).toBe(contentHash({ ...m, metadata: { ...m.metadata, annotations } }));
      }
    }
  });
});

describe('shared structure cannot be changed through one cluster', () => {
  it('freezes every part of every manifest, so a write to one cluster throws instead of reaching the others', async () => {
    const plan = await planOf();
    const [first, second] = manifestsOf(plan);
    const all = manifestsOf(plan).flat();
    expect(nodes(all).filter((node) => node !== all && !Object.isFrozen(node))).toEqual([]);
    const before = JSON.stringify(second);
    const deployment = first?.[0] as KubeObject;
    const spec = deployment.spec as { selector: { matchLabels: Record<string, string> } };
    expect(() => {
      spec.selector.matchLabels.app = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      (first?.[1] as KubeObject).metadata.name = 'changed';
    }).toThrow(TypeError);
    expect(JSON.stringify(second)).toBe(before);
  });

  it('leaves a copy free to change: a change to one cluster copy shows in no other cluster', async () => {
    const plan = await planOf();
    const [first, second] = manifestsOf(plan);
    const before = JSON.stringify(second);
    const copy = structuredClone(first ?? []);
    (copy[1] as KubeObject).metadata.name = 'changed';
    ((copy[0] as KubeObject).spec as { replicas: number }).replicas = 99;
    expect(JSON.stringify(second)).toBe(before);
    expect(JSON.stringify(manifestsOf(plan)[0])).not.toContain('changed');
  });

  it('neither freezes nor changes the bundle it renders, and renders it again the same', async () => {
    const bundle = await bundleOf(files());
    const registry = bundle.registry?.registry;
    if (!registry) throw new Error('no registry');
    const objects = JSON.stringify(bundle.objects);
    const first = render(bundle, registry);
    const second = render(bundle, registry);
    expect(JSON.stringify(bundle.objects)).toBe(objects);
    expect(nodes(bundle.objects).some((node) => Object.isFrozen(node))).toBe(false);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    // Each render() has its own memo: nothing of one plan is another's.
    const firstNodes = new Set(nodes(manifestsOf(first)));
    expect(nodes(manifestsOf(second)).some((node) => firstNodes.has(node))).toBe(false);
  });
});
