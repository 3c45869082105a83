import { describe, expect, it } from 'vitest';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import { matchesComponentName } from '#shared/delivery/render/render.ts';
import { APP_YAML, baseFiles, baseWith, deploySteps, planOf } from './helpers.ts';

const app = (components: string, extra = '') => `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: prod}
spec:
  components:
${components}
${extra}---
apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: everywhere}
type: topology
properties: {clusters: [bj1]}
`;
const kinds = (manifests: KubeObject[] | undefined) => manifests?.map((m) => `${m.kind} ${m.metadata.namespace ?? '-'}/${m.metadata.name}`);
const firstTarget = async (files: Record<string, string>) => deploySteps(await planOf(files))[0]?.targets[0]?.manifests ?? [];

const EXPORTED = `apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: prod
  uid: 1234
  resourceVersion: "99"
  generation: 3
  creationTimestamp: "2024-01-01T00:00:00Z"
  managedFields: [{manager: kubectl}]
  ownerReferences: [{apiVersion: v1, kind: Foo, name: x, uid: u}]
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: "{}"
  labels: {app: api, tier: back}
spec:
  clusterIP: 10.0.0.5
  clusterIPs: [10.0.0.5]
  ports: [{port: 80}]
status:
  loadBalancer: {}
---
apiVersion: v1
kind: Service
metadata: {name: api-headless, namespace: prod, labels: {app: api}}
spec:
  clusterIP: None
  clusterIPs: [None]
  ports: [{port: 80}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader, labels: {app: api}}
rules: []
`;

describe('ref-objects', () => {
  it('finds objects by resource+group, short name and labelSelector', async () => {
    const components = `    - name: web
      type: ref-objects
      properties:
        objects:
          - {resource: deployments, group: apps, name: web}
          - {resource: cm, name: web}
    - name: api
      type: ref-objects
      properties:
        objects:
          - {resource: service, labelSelector: {app: api}}
          - {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, name: reader}
`;
    const manifests = await firstTarget(baseFiles({ 'app.yaml': app(components), 'exported.yaml': EXPORTED }));
    expect(kinds(manifests)).toEqual([
      'Deployment prod/web',
      'ConfigMap prod/web',
      'Service prod/api',
      'Service prod/api-headless',
      'ClusterRole -/reader',
    ]);
  });

  it('strips server-set fields and a Service clusterIP, unless headless', async () => {
    const components = `    - name: api
      type: ref-objects
      properties:
        objects:
          - {apiVersion: v1, kind: Service, labelSelector: {app: api}}
`;
    const [api, headless] = await firstTarget(baseFiles({ 'app.yaml': app(components), 'exported.yaml': EXPORTED }));
    expect(Object.keys(api?.metadata ?? {}).sort()).toEqual(['annotations', 'labels', 'name', 'namespace']);
    expect(Object.keys(api?.metadata.annotations ?? {}).sort()).toEqual(['app.oam.dev/publishVersion', 'tricenter.io/content-hash']);
    expect(api?.status).toBeUndefined();
    expect(api?.spec).toEqual({ ports: [{ port: 80 }] });
    expect(headless?.spec).toEqual({ clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] });
  });

  it('gives namespaced objects without one the Application namespace, and leaves cluster-scoped ones alone', async () => {
    const manifests = await firstTarget(
      baseFiles({
        'exported.yaml': EXPORTED,
        'app.yaml': app(`    - name: all
      type: ref-objects
      properties:
        objects:
          - {apiVersion: apps/v1, kind: Deployment, name: web}
          - {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, name: reader}
`),
      }),
    );
    expect(manifests.map((m) => m.metadata.namespace)).toEqual(['prod', undefined]);
  });

  it('is an error when the apiVersion differs, with a hint where the object is', async () => {
    const components = `    - name: web
      type: ref-objects
      properties:
        objects:
          - {apiVersion: apps/v1beta1, kind: Deployment, name: web}
`;
    await expect(planOf(baseFiles({ 'app.yaml': app(components) }))).rejects.toThrow(
      /app\.yaml \(document 1, Application prod\/shop\) field spec\.components\[0\]\.properties\.objects\[0\]: references apps\/v1beta1 Deployment prod\/web, which is not in the bundle \(the bundle has apps\/v1 Deployment web at objects\.yaml document 1\)/,
    );
  });
});

describe('k8s-objects', () => {
  it('deploys inline objects, which overrides may replace as a whole list', async () => {
    const components = `    - name: inline
      type: k8s-objects
      properties:
        objects:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: one}, data: {a: "1"}}
          - {apiVersion: v1, kind: Secret, metadata: {name: two}, stringData: {b: "2"}}
`;
    const override = `---
apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: swap}
type: override
properties:
  components:
    - type: k8s-objects
      properties:
        objects:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: three}, data: {c: "3"}}
`;
    const workflow = `---
apiVersion: core.oam.dev/v1alpha1
kind: Workflow
metadata: {name: wf}
steps:
  - {name: plain, type: deploy, properties: {policies: [everywhere]}}
  - {name: swapped, type: deploy, properties: {policies: [swap, everywhere]}}
`;
    const plan = await planOf(baseFiles({ 'app.yaml': `${app(components)}${override}${workflow}` }));
    const [plain, swapped] = deploySteps(plan);
    expect(kinds(plain?.targets[0]?.manifests)).toEqual(['ConfigMap prod/one', 'Secret prod/two']);
    expect(kinds(swapped?.targets[0]?.manifests)).toEqual(['ConfigMap prod/three']);
  });
});

describe('override policies', () => {
  const override = (name: string, entries: string) => `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: ${name}}
type: override
properties:
  components:
${entries}---
`;
  const workflow = (policies: string[]) => `apiVersion: core.oam.dev/v1alpha1
kind: Workflow
metadata: {name: wf}
steps:
  - {name: go, type: deploy, properties: {policies: ${JSON.stringify(['everywhere', ...policies])}}}
`;
  const replicasAndLabels = (manifests: KubeObject[]) =>
    manifests.map((m) => [m.metadata.name, m.kind, (m.spec as { replicas?: number } | undefined)?.replicas, m.metadata.labels?.team]);

  it('apply in the order the step lists them, each on the previous result', async () => {
    const docs = `${override('three', '    - {name: web, traits: [{type: scaler, properties: {replicas: 3}}]}\n')}${override('four', '    - {name: web, traits: [{type: scaler, properties: {replicas: 4}}]}\n')}`;
    expect(replicasAndLabels(await firstTarget(baseWith(`${docs}${workflow(['three', 'four'])}`)))[0]).toEqual([
      'web',
      'Deployment',
      4,
      undefined,
    ]);
    expect(replicasAndLabels(await firstTarget(baseWith(`${docs}${workflow(['four', 'three'])}`)))[0]).toEqual([
      'web',
      'Deployment',
      3,
      undefined,
    ]);
  });

  it('match components by anchored glob and by type', async () => {
    const docs = `${override('glob', '    - {name: "w*", traits: [{type: labels, properties: {team: w}}]}\n    - {name: "*fig", traits: [{type: labels, properties: {team: fig}}]}\n    - {name: "onfig*", traits: [{type: labels, properties: {team: never}}]}\n')}`;
    expect(replicasAndLabels(await firstTarget(baseWith(`${docs}${workflow(['glob'])}`)))).toEqual([
      ['web', 'Deployment', 2, 'w'],
      ['web', 'ConfigMap', undefined, 'fig'],
    ]);
    const byType = override('by-type', '    - {type: ref-objects, traits: [{type: labels, properties: {team: all}}]}\n');
    expect(replicasAndLabels(await firstTarget(baseWith(`${byType}${workflow(['by-type'])}`))).map((r) => r[3])).toEqual(['all', 'all']);
    expect([matchesComponentName('a*c', 'abc'), matchesComponentName('a*c', 'xabcx'), matchesComponentName('a.c', 'abc')]).toEqual([
      true,
      false,
      false,
    ]);
  });

  it('deep-merge properties: maps merge, lists are replaced, null deletes', async () => {
    const components = `    - name: inline
      type: k8s-objects
      properties:
        objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: "1"}}]
`;
    const docs = `${override('point-elsewhere', '    - name: web\n      properties: {objects: [{apiVersion: v1, kind: ConfigMap, name: web}]}\n')}`;
    const files = baseFiles({ 'app.yaml': `${APP_YAML}---\n${docs}${workflow(['point-elsewhere'])}` });
    // The web component's reference list is replaced: it now deploys the ConfigMap, which the config component also does.
    await expect(planOf(files)).rejects.toThrow(/field spec\.components\[1\]: ConfigMap web is already deployed by component "web"/);
    const dropped = override('drop', '    - name: inline\n      properties: {objects: null}\n');
    await expect(planOf(baseFiles({ 'app.yaml': `${app(components)}---\n${dropped}${workflow(['drop'])}` }))).rejects.toThrow(
      /Policy -?\/?drop\) field properties\.components\[0\]\.properties\.objects: Invalid input: expected array/,
    );
  });

  it('reject an exact component name that matches nothing', async () => {
    const typo = override('typo', '    - {name: wbe, traits: [{type: labels, properties: {a: b}}]}\n');
    await expect(planOf(baseWith(`${typo}${workflow(['typo'])}`))).rejects.toThrow(
      /field properties\.components\[0\]\.name: no component named "wbe" \(components: web, config\)/,
    );
  });
});

describe('steps', () => {
  it('without a Workflow: one deploy step per topology policy, each with every override policy', async () => {
    const docs = `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: hangzhou}
type: topology
properties: {clusters: [hz1]}
---
apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: one-replica}
type: override
properties:
  components: [{name: web, traits: [{type: scaler, properties: {replicas: 1}}]}]
`;
    const plan = await planOf(baseWith(docs));
    expect(deploySteps(plan).map((s) => [s.name, s.needsApproval, s.parallelism, s.timeoutMs, s.targets.map((t) => t.cluster)])).toEqual([
      ['deploy-everywhere', false, 5, 600_000, ['bj1', 'bj2', 'hz1']],
      ['deploy-hangzhou', false, 5, 600_000, ['hz1']],
    ]);
    expect(deploySteps(plan).map((s) => (s.targets[0]?.manifests[0]?.spec as { replicas: number }).replicas)).toEqual([1, 1]);
  });

  it('reads auto, parallelism, timeouts and suspend steps (inline workflow and policies)', async () => {
    const files = baseFiles({
      'app.yaml': `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: prod}
spec:
  components:
    - {name: web, type: ref-objects, properties: {objects: [{apiVersion: apps/v1, kind: Deployment, name: web}]}}
  policies:
    - {name: bj, type: topology, properties: {clusterLabelSelector: {city: beijing}}}
  workflow:
    steps:
      - {name: first, type: deploy, timeout: 1h30m, properties: {policies: [bj], parallelism: 1}}
      - {name: pause, type: suspend, properties: {duration: 30s}}
      - {name: hold, type: suspend}
      - {name: last, type: deploy, properties: {policies: [bj], auto: false, timeout: 500ms}}
`,
    });
    const plan = await planOf(files);
    expect(
      plan.steps.map((s) =>
        s.type === 'deploy' ? [s.name, s.needsApproval, s.parallelism, s.timeoutMs] : [s.name, s.durationMs, s.timeoutMs],
      ),
    ).toEqual([
      ['first', false, 1, 5_400_000],
      // A suspend step without a timeout waits as long as it takes (KubeVela): no default deadline.
      ['pause', 30_000, undefined],
      ['hold', undefined, undefined],
      ['last', true, 5, 500],
    ]);
    expect(plan.publishVersion).toBe(plan.contentHash);
  });

  it('lets one json-patch value be used by several steps and changed further by later traits', async () => {
    const docs = `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: sidecar}
type: override
properties:
  components:
    - name: web
      traits:
        - {type: json-patch, properties: {operations: [{op: add, path: /spec/template/spec/containers/-, value: {name: side, image: proxy}}]}}
        - {type: env, properties: {containerName: side, env: {MODE: on}}}
---
apiVersion: core.oam.dev/v1alpha1
kind: Workflow
metadata: {name: wf}
steps:
  - {name: one, type: deploy, properties: {policies: [sidecar, everywhere]}}
  - {name: two, type: deploy, properties: {policies: [sidecar, everywhere]}}
`;
    const plan = await planOf(baseWith(docs));
    const sidecars = deploySteps(plan).map(
      (s) => (s.targets[0]?.manifests[0]?.spec as { template: { spec: { containers: unknown[] } } }).template.spec.containers[1],
    );
    expect(sidecars).toEqual([
      { name: 'side', image: 'proxy', env: [{ name: 'MODE', value: 'on' }] },
      { name: 'side', image: 'proxy', env: [{ name: 'MODE', value: 'on' }] },
    ]);
  });
});
