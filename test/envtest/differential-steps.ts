/**
 * The request sequence the differential suite sends, in order, to the sandbox and to a real
 * kube-apiserver. Steps build on each other (one namespace, `diff`), like a client session would.
 */
import type { RawRequest } from '../helpers/kube-raw.ts';

export interface DifferentialStep extends RawRequest {
  name: string;
}

export const NAMESPACE = 'diff';
const ns = `/api/v1/namespaces/${NAMESPACE}`;
const configMaps = `${ns}/configmaps`;
const deployments = `/apis/apps/v1/namespaces/${NAMESPACE}/deployments`;
const services = `${ns}/services`;
const ingresses = `/apis/networking.k8s.io/v1/namespaces/${NAMESPACE}/ingresses`;

const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const APPLY = 'application/apply-patch+yaml';

function configMap(
  name: string,
  labels: Record<string, string>,
  data: Record<string, string>,
  extra: Record<string, unknown> = {},
): unknown {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels, ...extra }, data };
}

interface DeploymentOptions {
  name?: string;
  replicas?: number;
  image?: string;
  containers?: unknown[];
  templateLabels?: Record<string, string>;
  /** The container port's protocol; `null` leaves it out. */
  portProtocol?: string | null;
}

function deployment(options: DeploymentOptions = {}): Record<string, unknown> {
  const protocol = options.portProtocol === undefined ? 'TCP' : options.portProtocol;
  const port = protocol === null ? { containerPort: 8080 } : { containerPort: 8080, protocol };
  const spec: Record<string, unknown> = {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: options.templateLabels ?? { app: 'web' } },
      spec: { containers: options.containers ?? [{ name: 'web', image: options.image ?? 'registry.example/web:1.0', ports: [port] }] },
    },
  };
  if (options.replicas !== undefined) spec.replicas = options.replicas;
  const name = options.name ?? 'web';
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: NAMESPACE, labels: { app: 'web' } }, spec };
}

function service(port: Record<string, unknown>): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: NAMESPACE, labels: { app: 'web' } },
    spec: { selector: { app: 'web' }, ports: [port] },
  };
}

function ingress(pathType: string): unknown {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: NAMESPACE },
    spec: {
      rules: [
        {
          host: 'web.example.com',
          http: { paths: [{ path: '/', pathType, backend: { service: { name: 'web', port: { number: 80 } } } }] },
        },
      ],
    },
  };
}

const selector = (s: string): string => `${configMaps}?labelSelector=${encodeURIComponent(s)}`;

export const STEPS: DifferentialStep[] = [
  {
    name: 'namespace: create',
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
  },
  { name: 'namespace: get', method: 'GET', path: ns },
  {
    name: 'namespace: create again (409 AlreadyExists)',
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { metadata: { name: NAMESPACE } },
  },

  { name: 'configmap: create cm1', method: 'POST', path: configMaps, body: configMap('cm1', { app: 'web', tier: 'a' }, { a: '1' }) },
  { name: 'configmap: create cm2', method: 'POST', path: configMaps, body: configMap('cm2', { app: 'web', tier: 'b' }, { a: '1' }) },
  { name: 'configmap: create cm3', method: 'POST', path: configMaps, body: configMap('cm3', { app: 'api' }, { a: '1' }) },
  { name: 'configmap: create dry run', method: 'POST', path: `${configMaps}?dryRun=All`, body: configMap('dry', { app: 'web' }, {}) },
  { name: 'configmap: dry run left nothing (404)', method: 'GET', path: `${configMaps}/dry` },
  { name: 'configmap: create duplicate (409 AlreadyExists)', method: 'POST', path: configMaps, body: configMap('cm1', {}, {}) },
  { name: 'configmap: get missing (404)', method: 'GET', path: `${configMaps}/missing` },
  {
    name: 'configmap: create in missing namespace (404)',
    method: 'POST',
    path: '/api/v1/namespaces/nowhere/configmaps',
    body: configMap('x', {}, {}),
  },
  { name: 'configmap: invalid name (422)', method: 'POST', path: configMaps, body: configMap('Bad_Name', {}, {}) },
  { name: 'configmap: invalid data key (422)', method: 'POST', path: configMaps, body: configMap('badkey', {}, { 'no/slash': 'x' }) },
  {
    name: 'configmap: no name (422)',
    method: 'POST',
    path: configMaps,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: {}, data: {} },
  },
  {
    name: 'configmap: namespace mismatch (400)',
    method: 'POST',
    path: configMaps,
    body: configMap('other-ns', {}, {}, { namespace: 'elsewhere' }),
  },
  {
    name: 'configmap: generateName',
    method: 'POST',
    path: configMaps,
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-', labels: { app: 'gen' } } },
  },
  {
    name: 'configmap: not JSON (400)',
    method: 'POST',
    path: configMaps,
    body: '{"apiVersion": "v1", "kind": ',
    contentType: 'application/json',
  },

  {
    name: 'configmap: update with stale resourceVersion (409 Conflict)',
    method: 'PUT',
    path: `${configMaps}/cm1`,
    body: configMap('cm1', { app: 'web', tier: 'a' }, { a: '2' }, { resourceVersion: '1' }),
  },
  {
    name: 'configmap: update without resourceVersion',
    method: 'PUT',
    path: `${configMaps}/cm1`,
    body: configMap('cm1', { app: 'web', tier: 'a' }, { a: '2' }),
  },
  { name: 'configmap: update with name mismatch (400)', method: 'PUT', path: `${configMaps}/cm1`, body: configMap('cm9', {}, {}) },
  { name: 'configmap: update missing (404)', method: 'PUT', path: `${configMaps}/nothere`, body: configMap('nothere', {}, {}) },
  {
    name: 'configmap: merge patch',
    method: 'PATCH',
    path: `${configMaps}/cm1`,
    contentType: MERGE,
    body: { metadata: { labels: { tier: null, extra: 'yes' } }, data: { b: '2' } },
  },
  {
    name: 'configmap: JSON patch add',
    method: 'PATCH',
    path: `${configMaps}/cm1`,
    contentType: JSON_PATCH,
    body: [{ op: 'add', path: '/data/c', value: '3' }],
  },
  {
    name: 'configmap: JSON patch failing test op',
    method: 'PATCH',
    path: `${configMaps}/cm1`,
    contentType: JSON_PATCH,
    body: [{ op: 'test', path: '/data/a', value: 'nope' }],
  },
  {
    name: 'configmap: JSON patch removing a missing path',
    method: 'PATCH',
    path: `${configMaps}/cm1`,
    contentType: JSON_PATCH,
    body: [{ op: 'remove', path: '/data/zzz' }],
  },
  {
    name: 'configmap: JSON patch that makes it invalid (422)',
    method: 'PATCH',
    path: `${configMaps}/cm1`,
    contentType: JSON_PATCH,
    body: [{ op: 'add', path: '/data/bad~1key', value: 'x' }],
  },
  {
    name: 'configmap: strategic merge patch',
    method: 'PATCH',
    path: `${configMaps}/cm1`,
    contentType: STRATEGIC,
    body: { data: { d: '4' } },
  },
  {
    name: 'configmap: patch missing (404)',
    method: 'PATCH',
    path: `${configMaps}/missing`,
    contentType: MERGE,
    body: { data: { a: '1' } },
  },
  {
    name: 'configmap: patch with unsupported content type (415)',
    method: 'PATCH',
    path: `${configMaps}/cm1`,
    contentType: 'text/plain',
    body: 'data',
  },
  { name: 'configmap: get after patches', method: 'GET', path: `${configMaps}/cm1` },

  { name: 'list: app=web', method: 'GET', path: selector('app=web') },
  { name: 'list: app in (web,api)', method: 'GET', path: selector('app in (web,api)') },
  { name: 'list: app notin (web)', method: 'GET', path: selector('app notin (web)') },
  { name: 'list: app!=web', method: 'GET', path: selector('app!=web') },
  { name: 'list: tier (exists)', method: 'GET', path: selector('tier') },
  { name: 'list: !tier', method: 'GET', path: selector('!tier') },
  { name: 'list: app=web,tier=b', method: 'GET', path: selector('app=web,tier=b') },
  { name: 'list: invalid selector (400)', method: 'GET', path: selector('app in (web') },
  {
    name: 'list: field selector metadata.name',
    method: 'GET',
    path: `${configMaps}?fieldSelector=${encodeURIComponent('metadata.name=cm2')}`,
  },
  { name: 'list: unsupported field selector (400)', method: 'GET', path: `${configMaps}?fieldSelector=${encodeURIComponent('data.a=1')}` },
  {
    name: 'list: all namespaces with selector',
    method: 'GET',
    path: `/api/v1/configmaps?labelSelector=${encodeURIComponent('app in (web,api)')}`,
  },

  {
    name: 'apply: create by alpha',
    method: 'PATCH',
    path: `${deployments}/web?fieldManager=alpha`,
    contentType: APPLY,
    body: deployment({ replicas: 2 }),
  },
  {
    name: 'apply: same again by alpha (no change)',
    method: 'PATCH',
    path: `${deployments}/web?fieldManager=alpha`,
    contentType: APPLY,
    body: deployment({ replicas: 2 }),
  },
  {
    name: 'apply: beta sets replicas (409 Conflict)',
    method: 'PATCH',
    path: `${deployments}/web?fieldManager=beta`,
    contentType: APPLY,
    body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } },
  },
  {
    name: 'apply: beta forces replicas',
    method: 'PATCH',
    path: `${deployments}/web?fieldManager=beta&force=true`,
    contentType: APPLY,
    body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } },
  },
  {
    name: 'apply: alpha applies without replicas (gives it up)',
    method: 'PATCH',
    path: `${deployments}/web?fieldManager=alpha`,
    contentType: APPLY,
    body: deployment({ image: 'registry.example/web:1.1' }),
  },
  {
    name: 'apply: beta sets the same image as alpha (shared, no conflict)',
    method: 'PATCH',
    path: `${deployments}/web?fieldManager=beta`,
    contentType: APPLY,
    body: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'web', image: 'registry.example/web:1.1' }] } } },
    },
  },
  {
    name: 'apply: container port without protocol',
    method: 'PATCH',
    path: `${deployments}/noproto?fieldManager=alpha`,
    contentType: APPLY,
    body: deployment({ name: 'noproto', portProtocol: null }),
  },
  {
    name: 'apply: without fieldManager (422)',
    method: 'PATCH',
    path: `${deployments}/web`,
    contentType: APPLY,
    body: deployment({ replicas: 2 }),
  },
  {
    name: 'apply: force on a non-apply patch (422)',
    method: 'PATCH',
    path: `${deployments}/web?force=true`,
    contentType: MERGE,
    body: { metadata: { labels: { app: 'web' } } },
  },
  {
    name: 'apply: name mismatch (400)',
    method: 'PATCH',
    path: `${deployments}/other?fieldManager=alpha`,
    contentType: APPLY,
    body: deployment(),
  },
  {
    name: 'apply: invalid object (422)',
    method: 'PATCH',
    path: `${deployments}/broken?fieldManager=alpha`,
    contentType: APPLY,
    body: deployment({ name: 'broken', containers: [] }),
  },
  {
    name: 'create: selector does not match template (422)',
    method: 'POST',
    path: deployments,
    body: deployment({ name: 'mismatch', templateLabels: { app: 'other' } }),
  },
  { name: 'deployment: get', method: 'GET', path: `${deployments}/web` },
  {
    name: 'deployment: merge patch spec (generation moves)',
    method: 'PATCH',
    path: `${deployments}/web`,
    contentType: MERGE,
    body: { spec: { replicas: 4 } },
  },
  {
    name: 'deployment: status in a main-resource patch is ignored',
    method: 'PATCH',
    path: `${deployments}/web`,
    contentType: MERGE,
    body: { status: { replicas: 99 } },
  },
  {
    name: 'deployment: merge patch of status',
    method: 'PATCH',
    path: `${deployments}/web/status`,
    contentType: MERGE,
    body: { status: { observedGeneration: 2, replicas: 4, updatedReplicas: 4 } },
  },
  {
    name: 'deployment: spec in a status patch is ignored',
    method: 'PATCH',
    path: `${deployments}/web/status`,
    contentType: MERGE,
    body: { spec: { replicas: 7 }, status: { readyReplicas: 4 } },
  },
  {
    name: 'deployment: PUT status with stale resourceVersion (409)',
    method: 'PUT',
    path: `${deployments}/web/status`,
    body: {
      ...deployment({ replicas: 4 }),
      metadata: { name: 'web', namespace: NAMESPACE, resourceVersion: '1' },
      status: { replicas: 1 },
    },
  },
  { name: 'deployment: get after status writes', method: 'GET', path: `${deployments}/web` },

  {
    name: 'service: apply without port protocol',
    method: 'PATCH',
    path: `${services}/web?fieldManager=alpha`,
    contentType: APPLY,
    body: service({ port: 80, targetPort: 8080 }),
  },
  {
    name: 'service: apply with protocol TCP',
    method: 'PATCH',
    path: `${services}/web?fieldManager=alpha`,
    contentType: APPLY,
    body: service({ protocol: 'TCP', port: 80, targetPort: 8080 }),
  },
  {
    name: 'service: apply changing targetPort',
    method: 'PATCH',
    path: `${services}/web?fieldManager=alpha`,
    contentType: APPLY,
    body: service({ protocol: 'TCP', port: 80, targetPort: 9090 }),
  },
  { name: 'ingress: invalid pathType (422)', method: 'POST', path: ingresses, body: ingress('Bogus') },

  { name: 'delete: configmap cm2', method: 'DELETE', path: `${configMaps}/cm2` },
  { name: 'delete: cm2 again (404)', method: 'DELETE', path: `${configMaps}/cm2` },
  {
    name: 'delete: uid precondition fails (409)',
    method: 'DELETE',
    path: `${configMaps}/cm3`,
    body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: '00000000-0000-0000-0000-000000000000' } },
  },
  { name: 'delete: dry run', method: 'DELETE', path: `${configMaps}/cm3?dryRun=All` },
  { name: 'delete: collection by selector', method: 'DELETE', path: `${configMaps}?labelSelector=${encodeURIComponent('app=web')}` },
  { name: 'list: after deletes', method: 'GET', path: configMaps },
  { name: 'delete: deployment, background propagation', method: 'DELETE', path: `${deployments}/web?propagationPolicy=Background` },
  { name: 'delete: deployment again (404)', method: 'DELETE', path: `${deployments}/web` },
  { name: 'delete: namespace', method: 'DELETE', path: ns },
];
