import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startSandbox } from '#sandbox/index.ts';
import { startKubeApiServer } from './test/helpers/envtest.ts';
import { rawRequest, type RawRequest } from './test/helpers/kube-raw.ts';

const real = await startKubeApiServer({ contextName: 'c', deploymentReadyDelayMs: 3_600_000, simulateWorkloads: false });
const sb = await startSandbox({ clusters: [{ name: 'c', aliases: [], labels: {} }], dir: mkdtempSync(join(tmpdir(), 'cmp-')), readyDelayMs: 3_600_000, dataPlanePort: 0 });
const skc = new KubeConfig(); skc.loadFromFile(sb.kubeconfigPath); skc.setCurrentContext('c');
const strip = (v: any): any => JSON.parse(JSON.stringify(v, (k, x) => (['uid', 'creationTimestamp', 'resourceVersion', 'time', 'clusterIP', 'lastUpdateTime', 'lastTransitionTime'].includes(k) ? '<x>' : x)));
const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] }], volumes: [{ name: 'v', configMap: { name: 'x' } }] } } } };
const steps: Array<[string, RawRequest]> = [
  ['ns', { method: 'POST', path: '/api/v1/namespaces', body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cmp' } } }],
  ['create-deploy', { method: 'POST', path: '/apis/apps/v1/namespaces/cmp/deployments?fieldManager=creator', body: dep }],
  ['list-deploy', { method: 'GET', path: '/apis/apps/v1/namespaces/cmp/deployments' }],
  ['svc', { method: 'POST', path: '/api/v1/namespaces/cmp/services', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } }],
  ['svc-ssa-noproto', { method: 'PATCH', path: '/api/v1/namespaces/cmp/services/s2?fieldManager=m', contentType: 'application/apply-patch+yaml', body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's2' }, spec: { ports: [{ port: 80 }] } } }],
  ['cm-badname', { method: 'POST', path: '/api/v1/namespaces/cmp/configmaps', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Bad_Name' } } }],
  ['deploy-mismatch', { method: 'POST', path: '/apis/apps/v1/namespaces/cmp/deployments', body: { ...dep, metadata: { name: 'mm' }, spec: { ...dep.spec, selector: { matchLabels: { app: 'other' } } } } }],
  ['cm-a', { method: 'PATCH', path: '/api/v1/namespaces/cmp/configmaps/cm?fieldManager=a', contentType: 'application/apply-patch+yaml', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { x: '1', y: '1' } } }],
  ['cm-b-conflict', { method: 'PATCH', path: '/api/v1/namespaces/cmp/configmaps/cm?fieldManager=b', contentType: 'application/apply-patch+yaml', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { x: '2', y: '2' } } }],
  ['cm-update-then-conflict', { method: 'PATCH', path: '/api/v1/namespaces/cmp/configmaps/cm?fieldManager=upd', contentType: 'application/merge-patch+json', body: { data: { z: '1' } } }],
  ['cm-c-conflict', { method: 'PATCH', path: '/api/v1/namespaces/cmp/configmaps/cm?fieldManager=c', contentType: 'application/apply-patch+yaml', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { z: '2' } } }],
  ['scale', { method: 'GET', path: '/apis/apps/v1/namespaces/cmp/deployments/web/scale' }],
  ['patch-415', { method: 'PATCH', path: '/api/v1/namespaces/cmp/configmaps/cm', contentType: 'text/plain', body: '{}' }],
  ['get-missing', { method: 'GET', path: '/api/v1/namespaces/cmp/configmaps/nope' }],
  ['bad-path', { method: 'GET', path: '/api/v1/namespaces/cmp/widgets' }],
  ['put-noversion-stale', { method: 'PUT', path: '/api/v1/namespaces/cmp/configmaps/cm', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', resourceVersion: '1' }, data: {} } }],
  ['del-cm', { method: 'DELETE', path: '/api/v1/namespaces/cmp/configmaps/cm' }],
  ['ing-nopathtype', { method: 'POST', path: '/apis/networking.k8s.io/v1/namespaces/cmp/ingresses', body: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' }, spec: { rules: [{ host: 'a.b', http: { paths: [{ path: '/', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } } }],
  ['ing', { method: 'POST', path: '/apis/networking.k8s.io/v1/namespaces/cmp/ingresses', body: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i' }, spec: { rules: [{ host: 'a.b', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } }] } } }],
  ['secret', { method: 'POST', path: '/api/v1/namespaces/cmp/secrets', body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { a: 'b' } } }],
  ['del-ns', { method: 'DELETE', path: '/api/v1/namespaces/cmp' }],
];
for (const [name, req] of steps) {
  const [r, s] = [await rawRequest(real.kubeConfig, req), await rawRequest(skc, req)];
  const a = JSON.stringify(strip(r.body), null, 1), b = JSON.stringify(strip(s.body), null, 1);
  console.log(`=== ${name}: real ${r.status} sandbox ${s.status} ${a === b ? 'SAME' : 'DIFF'}`);
  if (a !== b) { console.log('--- real\n' + a + '\n--- sandbox\n' + b); }
}
await sb.stop(); await real.stop();
