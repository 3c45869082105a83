import { describe, expect, it } from 'vitest';
import { parseWorkloadProperties, type WorkloadComponentType } from '#shared/delivery/model/components/workloads.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import type { SourcePlace } from '#shared/delivery/model/source.ts';
import { renderWorkloadComponent } from '#shared/delivery/render/components/workloads.ts';
import { BundleError } from '#shared/platform/errors.ts';
import { baseFiles, deploySteps, planOf } from './helpers.ts';

const place: SourcePlace = {
  file: 'app.yaml',
  document: 0,
  line: 1,
  object: 'Application prod/shop',
  path: 'spec.components[0].properties',
};
const ctx = { appName: 'shop', componentName: 'api' };

function renderOf(type: WorkloadComponentType, properties: unknown): KubeObject[] {
  return renderWorkloadComponent(parseWorkloadProperties(type, properties, place), ctx);
}
type Container = Record<string, unknown>;
const containerOf = (object: KubeObject | undefined): Container => {
  const spec = object?.spec as {
    template?: { spec: { containers: Container[] } };
    jobTemplate?: { spec: { template: { spec: { containers: Container[] } } } };
  };
  const pod = spec.template?.spec ?? spec.jobTemplate?.spec.template.spec;
  return pod?.containers[0] ?? {};
};
function refusal(type: WorkloadComponentType, properties: unknown): BundleError {
  try {
    parseWorkloadProperties(type, properties, place);
  } catch (err) {
    if (err instanceof BundleError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('webservice ports (webservice.cue)', () => {
  it.each([
    [{ port: 80 }, { containerPort: 80, protocol: 'TCP', name: 'port-80' }],
    [
      { port: 80, containerPort: 8080 },
      { containerPort: 8080, protocol: 'TCP', name: 'port-8080' },
    ],
    [
      { port: 53, protocol: 'UDP' },
      { containerPort: 53, protocol: 'UDP', name: 'port-53-udp' },
    ],
    [
      { port: 7000, protocol: 'SCTP' },
      { containerPort: 7000, protocol: 'SCTP', name: 'port-7000-sctp' },
    ],
    [
      { port: 9090, name: 'metrics', protocol: 'UDP' },
      { containerPort: 9090, protocol: 'UDP', name: 'metrics' },
    ],
  ])('%j becomes the container port %j', (port, expected) => {
    expect(containerOf(renderOf('webservice', { image: 'x', ports: [port] })[0]).ports).toEqual([expected]);
  });

  it('makes a Service only for exposed ports, with nodePort only for NodePort', () => {
    const clusterIp = renderOf('webservice', { image: 'x', ports: [{ port: 80, expose: true, nodePort: 30080 }, { port: 81 }] });
    expect(clusterIp.map((o) => o.kind)).toEqual(['Deployment', 'Service']);
    expect((clusterIp[1]?.spec as { ports: unknown[] }).ports).toEqual([{ port: 80, targetPort: 80, name: 'port-80', protocol: 'TCP' }]);
    const nodePort = renderOf('webservice', { image: 'x', exposeType: 'NodePort', ports: [{ port: 80, expose: true, nodePort: 30080 }] });
    expect((nodePort[1]?.spec as { ports: Array<{ nodePort?: number }> }).ports[0]?.nodePort).toBe(30080);
    expect(renderOf('webservice', { image: 'x', ports: [{ port: 80 }] }).map((o) => o.kind)).toEqual(['Deployment']);
  });
});

describe('resources', () => {
  it.each([
    ['webservice', { cpu: '1' }, { requests: { cpu: '1' }, limits: { cpu: '1' } }],
    ['webservice', { cpu: '1', limit: { cpu: '2' } }, { requests: { cpu: '1' }, limits: { cpu: '2' } }],
    ['webservice', { memory: '1Gi', limit: { memory: '2Gi' } }, { requests: { memory: '1Gi' }, limits: { memory: '2Gi' } }],
    ['worker', { cpu: '250m', memory: '64Mi' }, { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '250m', memory: '64Mi' } }],
    ['task', {}, undefined],
    ['cron-task', { schedule: '@hourly', memory: '1Gi' }, { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } }],
  ] as const)('%s %j -> %j', (type, props, expected) => {
    expect(containerOf(renderOf(type, { image: 'x', ...props })[0]).resources).toEqual(expected);
  });
});

describe('names and kinds', () => {
  it.each([
    ['webservice', {}, 'apps/v1 Deployment api'],
    ['worker', {}, 'apps/v1 Deployment api'],
    ['task', {}, 'batch/v1 Job shop-api'],
    ['cron-task', { schedule: '@daily' }, 'batch/v1 CronJob api'],
  ] as const)('%s renders %s', (type, props, expected) => {
    const [workload] = renderOf(type, { image: 'x', ...props });
    expect(`${workload?.apiVersion} ${workload?.kind} ${workload?.metadata.name}`).toBe(expected);
    expect(workload?.metadata.labels).toEqual({ 'workload.oam.dev/type': type, 'app.oam.dev/resourceType': 'WORKLOAD' });
  });
});

describe('what the definitions refuse, or take and never render, is refused with its field', () => {
  it.each([
    ['webservice', { image: 'x', replicas: 3 }, 'spec.components[0].properties', /unknown field "replicas"/],
    ['webservice', { image: 'x', cpu: 0.5 }, 'spec.components[0].properties.cpu', /expected string/],
    ['webservice', { image: 'x', imagePullPolicy: 'Sometimes' }, 'spec.components[0].properties.imagePullPolicy', /Invalid option/],
    ['webservice', { image: 'x', ports: [{ port: 70000 }] }, 'spec.components[0].properties.ports[0].port', /65535/],
    [
      'webservice',
      { image: 'x', livenessProbe: {} },
      'spec.components[0].properties.livenessProbe',
      /exactly one of exec, httpGet or tcpSocket/,
    ],
    [
      'webservice',
      { image: 'x', livenessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 1 } } },
      'spec.components[0].properties.livenessProbe',
      /exactly one/,
    ],
    ['webservice', { image: 'x', addRevisionLabel: true }, 'spec.components[0].properties.addRevisionLabel', /component revisions/],
    [
      'webservice',
      { image: 'x', labels: { 'app.oam.dev/component': 'other' } },
      'spec.components[0].properties.labels',
      /set from the application/,
    ],
    ['worker', { image: 'x', ports: [{ port: 80 }] }, 'spec.components[0].properties', /unknown field "ports"/],
    [
      'task',
      { image: 'x', readinessProbe: { tcpSocket: { port: 1 } } },
      'spec.components[0].properties.readinessProbe',
      /never renders it/,
    ],
    ['cron-task', { image: 'x' }, 'spec.components[0].properties.schedule', /expected string/],
    [
      'cron-task',
      { image: 'x', schedule: '@daily', concurrencyPolicy: 'Sometimes' },
      'spec.components[0].properties.concurrencyPolicy',
      /Invalid option/,
    ],
    [
      'task',
      { image: 'x', env: [{ name: 'A', value: 'v', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
      'spec.components[0].properties.env[0]',
      /not both/,
    ],
  ] as const)('%s %j', (type, props, field, message) => {
    const err = refusal(type, props);
    expect(err.location?.field).toBe(field);
    expect(err.message).toMatch(message);
  });
});

const webApp = (traits = '', props = '{image: nginx}') => `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: prod}
spec:
  components:
    - name: web
      type: webservice
      properties: ${props}
      traits: [${traits}]
---
apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: everywhere}
type: topology
properties: {clusters: [bj1]}
`;

describe('rendered through the whole pipeline', () => {
  it('ownership is stamped last: a labels trait, gateway labels or pod labels cannot claim another application', async () => {
    const traits = [
      '{type: labels, properties: {app.oam.dev/name: other, app.kubernetes.io/managed-by: someone}}',
      '{type: annotations, properties: {app.oam.dev/shared-by: "other/app", tricenter.io/resource-policy: take-over}}',
      '{type: gateway, properties: {http: {/: 80}, labels: {app.oam.dev/namespace: kube-system}}}',
    ].join(', ');
    const plan = await planOf(baseFiles({ 'app.yaml': webApp(traits) }));
    const manifests = deploySteps(plan)[0]?.targets[0]?.manifests ?? [];
    expect(manifests.map((m) => `${m.kind} ${m.metadata.namespace}/${m.metadata.name}`)).toEqual([
      'Deployment prod/web',
      'Service prod/web',
      'Ingress prod/web',
    ]);
    for (const m of manifests) {
      expect(m.metadata.labels).toMatchObject({
        'app.oam.dev/name': 'shop',
        'app.oam.dev/namespace': 'prod',
        'app.oam.dev/component': 'web',
        'app.kubernetes.io/managed-by': 'tricenter',
      });
      expect(m.metadata.annotations?.['app.oam.dev/shared-by']).toBeUndefined();
      expect(m.metadata.annotations?.['tricenter.io/resource-policy']).toBeUndefined();
    }
  });

  it('a pod trait on a component without a pod template says so at the trait', async () => {
    const app = `apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: prod}
spec:
  components:
    - name: config
      type: ref-objects
      properties:
        objects: [{apiVersion: v1, kind: ConfigMap, name: web}]
      traits: [{type: sidecar, properties: {name: proxy, image: envoy}}]
---
apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: everywhere}
type: topology
properties: {clusters: [bj1]}
`;
    await expect(planOf(baseFiles({ 'app.yaml': app }))).rejects.toThrow(
      /app\.yaml \(document 1, Application prod\/shop\) field spec\.components\[0\]\.traits\[0\]: sidecar needs a workload with a pod template; ConfigMap prod\/web has none/,
    );
  });

  it('two objects of one name from one component are refused, not merged (webservice expose port plus expose trait)', async () => {
    const files = baseFiles({
      'app.yaml': webApp('{type: expose, properties: {port: [80]}}', '{image: nginx, ports: [{port: 80, expose: true}]}'),
    });
    await expect(planOf(files)).rejects.toThrow(/Service web is already deployed by component "web"/);
  });
});
