import { describe, expect, it } from 'vitest';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import type { SourcePlace } from '#shared/delivery/model/source.ts';
import { parseTrait } from '#shared/delivery/model/traits.ts';
import { applyTrait } from '#shared/delivery/render/traits.ts';

const place: SourcePlace = {
  file: 'app.yaml',
  document: 0,
  line: 1,
  object: 'Application prod/shop',
  path: 'spec.components[0].traits[0]',
};

type Json = Record<string, unknown>;
const deployment = (containers: Json[] = [{ name: 'web', image: 'nginx', args: ['a', 'b'] }], pod: Json = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'prod', labels: { keep: 'me' } },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web', gone: 'soon' } }, spec: { containers, ...pod } },
  },
});
const cronJob = (): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'job', namespace: 'prod' },
  spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', image: 'x' }] } } } } },
});

function apply(objects: KubeObject[], trait: unknown, component = 'web'): KubeObject[] {
  applyTrait(objects, parseTrait(trait, place), component);
  return objects;
}
const podOf = (o: KubeObject | undefined): Json => {
  const spec = o?.spec as { template?: { spec: Json }; jobTemplate?: { spec: { template: { spec: Json } } } };
  return spec.template?.spec ?? spec.jobTemplate?.spec.template.spec ?? {};
};
const containers = (o: KubeObject | undefined) => podOf(o).containers as Json[];

describe('labels and annotations reach the pods (labels.cue, annotations.cue)', () => {
  it('labels: set on the object and the pod template, null removes the key from both', () => {
    const [out] = apply([deployment()], { type: 'labels', properties: { keep: null, gone: null, added: 'yes' } });
    expect(out?.metadata.labels).toEqual({ added: 'yes' });
    expect((out?.spec as { template: { metadata: Json } }).template.metadata.labels).toEqual({ app: 'web', added: 'yes' });
  });

  it('annotations on a CronJob reach the job template and its pods; labels stay on the CronJob', () => {
    const [annotated] = apply([cronJob()], { type: 'annotations', properties: { a: '1' } });
    const spec = annotated?.spec as { jobTemplate: { metadata: Json; spec: { template: { metadata: Json } } } };
    expect([
      annotated?.metadata.annotations,
      spec.jobTemplate.metadata.annotations,
      spec.jobTemplate.spec.template.metadata.annotations,
    ]).toEqual([{ a: '1' }, { a: '1' }, { a: '1' }]);
    const [labelled] = apply([cronJob()], { type: 'labels', properties: { l: '1' } });
    expect((labelled?.spec as { jobTemplate: Json }).jobTemplate.metadata).toBeUndefined();
  });
});

describe('scaler', () => {
  it.each([
    [{}, 1],
    [{ replicas: 0 }, 0],
    [{ replicas: 4 }, 4],
  ])('%j -> replicas %i', (properties, replicas) => {
    const [out] = apply([deployment()], { type: 'scaler', properties });
    expect((out?.spec as { replicas: number }).replicas).toBe(replicas);
  });
  it('refuses a negative count at its field', () => {
    expect(() => parseTrait({ type: 'scaler', properties: { replicas: -1 } }, place)).toThrow(
      /field spec\.components\[0\]\.traits\[0\]\.properties\.replicas/,
    );
  });
});

describe('command args (command.cue)', () => {
  it.each([
    [{ args: ['x'] }, ['x']],
    [{ addArgs: ['b', 'c'] }, ['a', 'b', 'c']],
    [{ delArgs: ['a'] }, ['b']],
    [{ delArgs: ['a', 'b'] }, undefined],
    [{ addArgs: ['c'], delArgs: ['c'] }, ['a', 'b']],
    [{ command: ['run'] }, ['a', 'b']],
  ])('%j -> args %j', (properties, args) => {
    const [out] = apply([deployment()], { type: 'command', properties });
    expect(containers(out)[0]?.args).toEqual(args);
  });
});

describe('env (env.cue)', () => {
  it('the containers form patches each named container; replace and unset per container', () => {
    const two = deployment([
      {
        name: 'web',
        image: 'a',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
      },
      { name: 'side', image: 'b', env: [{ name: 'S', value: 's' }] },
    ]);
    const [out] = apply([two], {
      type: 'env',
      properties: {
        containers: [
          { containerName: 'web', unset: ['A'], env: { C: '3' } },
          { containerName: 'side', replace: true, env: { T: 't' } },
        ],
      },
    });
    expect(containers(out).map((c) => c.env)).toEqual([
      [
        { name: 'B', value: '2' },
        { name: 'C', value: '3' },
      ],
      [{ name: 'T', value: 't' }],
    ]);
  });
  it('a containers entry naming a missing container is refused at that entry', () => {
    expect(() =>
      apply([deployment()], {
        type: 'env',
        properties: {
          containers: [
            { containerName: 'web', env: {} },
            { containerName: 'nope', env: {} },
          ],
        },
      }),
    ).toThrow(
      /field spec\.components\[0\]\.traits\[0\]\.properties\.containers\[1\]\.containerName: container "nope" not found in Deployment prod\/web \(containers: web\)/,
    );
  });
});

describe("pod patches merge by name, as KubeVela's patchKey does", () => {
  it('sidecar: a container of the same name is merged, a new one appended', () => {
    const [same] = apply([deployment()], { type: 'sidecar', properties: { name: 'web', image: 'nginx:2' } });
    expect(containers(same)).toEqual([{ name: 'web', image: 'nginx:2', args: ['a', 'b'] }]);
    const [added] = apply([deployment()], {
      type: 'sidecar',
      properties: { name: 'proxy', image: 'envoy', volumes: [{ name: 'v', path: '/v' }] },
    });
    expect(containers(added)?.[1]).toEqual({ name: 'proxy', image: 'envoy', volumeMounts: [{ mountPath: '/v', name: 'v' }] });
  });

  it('hostalias merges by ip', () => {
    const [out] = apply([deployment(undefined, { hostAliases: [{ ip: '1.1.1.1', hostnames: ['old'] }] })], {
      type: 'hostalias',
      properties: {
        hostAliases: [
          { ip: '1.1.1.1', hostnames: ['new'] },
          { ip: '2.2.2.2', hostnames: ['two'] },
        ],
      },
    });
    expect(podOf(out).hostAliases).toEqual([
      { ip: '1.1.1.1', hostnames: ['new'] },
      { ip: '2.2.2.2', hostnames: ['two'] },
    ]);
  });

  it('init-container needs the component container, named after the component', () => {
    expect(() =>
      apply([deployment([{ name: 'main', image: 'x' }])], {
        type: 'init-container',
        properties: { name: 'init', image: 'busybox', appMountPath: '/a', initMountPath: '/b' },
      }),
    ).toThrow(/container "web" not found in Deployment prod\/web \(containers: main\)/);
  });

  it('resource lands on the first container, also through a CronJob job template; requests/limits replace their maps', () => {
    const [cron] = apply([cronJob()], { type: 'resource', properties: { cpu: '500m', memory: '1Gi' } });
    expect(containers(cron)[0]?.resources).toEqual({ requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '500m', memory: '1Gi' } });
    const withLimits = deployment([
      { name: 'web', image: 'x', resources: { requests: { cpu: '1', ephemeral: '1Gi' }, limits: { cpu: '1' } } },
    ]);
    const [out] = apply([withLimits], { type: 'resource', properties: { requests: { cpu: '2' } } });
    expect(containers(out)[0]?.resources).toEqual({ requests: { cpu: '2', memory: '2048Mi' }, limits: { cpu: '1' } });
  });

  it('affinity keeps the parts it is not given', () => {
    const existing = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } };
    const [out] = apply([deployment(undefined, { affinity: existing })], {
      type: 'affinity',
      properties: { podAntiAffinity: { required: [{ topologyKey: 'zone' }] }, tolerations: [{ key: 'k', operator: 'Exists' }] },
    });
    expect(podOf(out).affinity).toEqual({
      ...existing,
      podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone' }] },
    });
    expect(podOf(out).tolerations).toEqual([{ key: 'k', operator: 'Exists' }]);
  });
});

describe('output traits add objects in the workload namespace', () => {
  it('expose with matchLabels, NodePort and named UDP ports', () => {
    const objects = apply([deployment()], {
      type: 'expose',
      properties: {
        type: 'NodePort',
        matchLabels: { app: 'web' },
        ports: [
          { port: 53, protocol: 'UDP', nodePort: 30053 },
          { port: 80, name: 'http' },
        ],
      },
    });
    expect(objects[1]).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'web',
        namespace: 'prod',
        annotations: {},
        labels: { 'trait.oam.dev/type': 'expose', 'trait.oam.dev/resource': 'service', 'app.oam.dev/resourceType': 'TRAIT' },
      },
      spec: {
        selector: { app: 'web' },
        ports: [
          { port: 53, targetPort: 53, name: 'port-53-udp', nodePort: 30053, protocol: 'UDP' },
          { port: 80, targetPort: 80, name: 'http', protocol: 'TCP' },
        ],
        type: 'NodePort',
      },
    });
  });

  it('storage: readOnly is written on the mount (KubeVela takes it and drops it), mountOnly creates nothing', () => {
    const objects = apply([deployment()], {
      type: 'storage',
      properties: { secret: [{ name: 's', mountPath: '/s', readOnly: true, mountOnly: true }] },
    });
    expect(objects).toHaveLength(1);
    expect(containers(objects[0])[0]?.volumeMounts).toEqual([{ name: 'secret-s', mountPath: '/s', readOnly: true }]);
  });

  it.each([
    [{ type: 'gateway', properties: { http: {} } }, /properties\.http: http maps at least one path to a port/],
    [{ type: 'gateway', properties: { http: { api: 80 } } }, /an http path starts with \//],
    [
      { type: 'storage', properties: { pvc: [{ name: 'p', mountPath: '/p', resources: { requests: { storage: '10 GB' } } }] } },
      /must be a quantity/,
    ],
    [{ type: 'expose', properties: {} }, /expose needs ports/],
    [{ type: 'resource', properties: {} }, /resource needs cpu, memory, requests or limits/],
    [{ type: 'hpa', properties: {} }, /unknown trait type "hpa".*ship a HorizontalPodAutoscaler in a k8s-objects component/],
  ])('refuses %j', (trait, message) => {
    expect(() => parseTrait(trait, place)).toThrow(message);
  });
});
