/**
 * The cloud a cold-start measurement runs against, loaded with `node --import` before the clock
 * starts: Tablestore, OSS, FC and Alidns (GTM 3.0) answered by the msw fakes of the test suite (real wire
 * formats, `onUnhandledRequest: 'error'`), and a Kubernetes API for three clusters answering
 * discovery and the demo's Ingress. COLDSTART_SEED=ingested stores examples/web-demo as the
 * bundle-ingest function would (from source, through the same fakes), so a status read, a sweep
 * and a reconcile have an application to work on. Bundled by bench/coldstart.bench.ts.
 */
import { readFileSync } from 'node:fs';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { createOssBundleSource } from '#shared/delivery/adapters/aliyun/oss-bundle-source.ts';
import { createTablestoreRunStore } from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';
import { createTables, tablestoreClient } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { staticCredentials } from '#shared/platform/credentials.ts';
import { BucketReleaseObjectStore } from '#shared/delivery/adapters/bucket-release-objects.ts';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { systemClock } from '#shared/platform/clock.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { DEFAULT_HEALTH_WAIT } from '#shared/delivery/usecases/deps.ts';
import { ingestBundle } from '#shared/delivery/usecases/ingest-bundle.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { FakeFc } from '../test/aliyun/fc-msw.ts';
import { COLDSTART_ACCOUNT, COLDSTART_ENV, COLDSTART_KEYS } from './coldstart-config.ts';
import { FakeOss } from '../test/aliyun/oss-msw.ts';
import { FakeTablestore } from '../test/aliyun/tablestore-msw.ts';
import { FakeCloudGtm } from '../test/traffic/cloudgtm-msw.ts';

/** The demo's three centers in two places, labelled as examples/web-demo/clusters.yaml labels them (its TrafficPolicy selects by city). */
const CLUSTERS = ['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou'];
const cityOf = (cluster: string) => (cluster.endsWith('hangzhou') ? 'hangzhou' : 'beijing');
const kubeServer = (cluster: string) => `https://${cluster}.kube.bench.invalid:6443`;

function kubeconfig(cluster: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: kubeServer(cluster), 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'bench', user: { token: 'bench-kube-token' } }],
    contexts: [{ name: cluster, context: { cluster, user: 'bench', namespace: 'demo' } }],
    'current-context': cluster,
  });
}

/** What each cluster serves: the kinds tricenter deploys and looks for (discovery answers). */
const SERVED: Record<string, Array<{ name: string; kind: string }>> = {
  v1: [
    { name: 'configmaps', kind: 'ConfigMap' },
    { name: 'secrets', kind: 'Secret' },
    { name: 'serviceaccounts', kind: 'ServiceAccount' },
    { name: 'services', kind: 'Service' },
  ],
  'apps/v1': [
    { name: 'deployments', kind: 'Deployment' },
    { name: 'statefulsets', kind: 'StatefulSet' },
    { name: 'daemonsets', kind: 'DaemonSet' },
  ],
  'networking.k8s.io/v1': [{ name: 'ingresses', kind: 'Ingress' }],
};

/** A Kubernetes API per cluster: discovery, the demo's Ingress with an address, its Deployment ready, nothing else. */
function kubeHandlers() {
  return CLUSTERS.flatMap((cluster, i) => {
    const server = kubeServer(cluster);
    const discovery = (groupVersion: string) => () =>
      HttpResponse.json({
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: (SERVED[groupVersion] ?? []).map((r) => ({
          ...r,
          namespaced: true,
          singularName: '',
          verbs: ['get', 'list', 'patch', 'delete'],
        })),
      });
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web-demo',
        namespace: 'demo',
        generation: 1,
        labels: { 'app.kubernetes.io/managed-by': 'tricenter', 'app.oam.dev/name': 'web-demo', 'app.oam.dev/namespace': 'demo' },
      },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'web-demo', image: 'nginx' }] } } },
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
    };
    return [
      http.get(`${server}/api/v1`, discovery('v1')),
      http.get(`${server}/apis/:group/:version`, ({ params }) => discovery(`${params.group}/${params.version}`)()),
      http.get(`${server}/apis/networking.k8s.io/v1/namespaces/:namespace/ingresses/:name`, ({ params }) =>
        HttpResponse.json({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: params.name, namespace: params.namespace, resourceVersion: '7' },
          status: { loadBalancer: { ingress: [{ ip: `203.0.113.${i + 10}` }] } },
        }),
      ),
      // gtm-reconcile lists a namespace's Ingresses once per round (ingressAddressesIn).
      http.get(`${server}/apis/networking.k8s.io/v1/namespaces/:namespace/ingresses`, ({ params }) =>
        HttpResponse.json({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'IngressList',
          metadata: { resourceVersion: '7' },
          items: [
            {
              metadata: { name: 'web-demo', namespace: params.namespace, resourceVersion: '7' },
              status: { loadBalancer: { ingress: [{ ip: `203.0.113.${i + 10}` }] } },
            },
          ],
        }),
      ),
      http.get(`${server}/apis/apps/v1/deployments`, () =>
        HttpResponse.json({ kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: {}, items: [deployment] }),
      ),
    ];
  });
}

const registryYaml = [
  'clusters:',
  ...CLUSTERS.flatMap((cluster) => [
    `  - name: ${cluster}`,
    `    labels: {city: ${cityOf(cluster)}, region: cn-${cityOf(cluster)}}`,
    `    connection: {kubeconfigEnv: KUBECONFIG_${cluster.replace(/-/g, '_').toUpperCase()}}`,
  ]),
  'tenants:',
  '  - name: demo',
  '    gtm:',
  '      - instance: default',
  '        domains: [web-demo.example.com]',
  '',
].join('\n');

for (const cluster of CLUSTERS)
  process.env[`KUBECONFIG_${cluster.replace(/-/g, '_').toUpperCase()}`] = Buffer.from(kubeconfig(cluster)).toString('base64');
Object.assign(process.env, COLDSTART_ENV);

const keys = { [COLDSTART_KEYS.accessKeyId]: { secret: COLDSTART_KEYS.accessKeySecret, stsToken: COLDSTART_KEYS.securityToken } };
const oss = new FakeOss({ endpointHost: 'oss-cn-hangzhou-internal.aliyuncs.com', buckets: [COLDSTART_ENV.TRICENTER_BUCKET], keys });
const ots = new FakeTablestore({ endpoint: COLDSTART_ENV.TRICENTER_OTS_ENDPOINT, instance: COLDSTART_ENV.TRICENTER_OTS_INSTANCE, keys });
const fc = new FakeFc({
  endpoint: `https://${COLDSTART_ACCOUNT}.cn-hangzhou.fc.aliyuncs.com`,
  functions: ['tricenter-deploy-step', 'tricenter-gtm-reconcile'],
  keys,
});
// GTM 3.0, the registry's default version (the bench's registry names none).
const alidns = new FakeCloudGtm({
  endpoint: 'https://alidns.aliyuncs.com',
  keys: { [COLDSTART_KEYS.accessKeyId]: COLDSTART_KEYS.accessKeySecret },
  instances: [COLDSTART_ENV.TRICENTER_GTM_INSTANCE_ID],
});

const server = setupServer(...oss.handlers(), ...ots.handlers(), ...fc.handlers(), ...alidns.handlers(), ...kubeHandlers());
server.listen({ onUnhandledRequest: 'error' });

const credentials = staticCredentials(COLDSTART_KEYS);
const bundles = createOssBundleSource({ region: 'cn-hangzhou', internal: true, credentials });
const store = createTablestoreRunStore({
  region: 'cn-hangzhou',
  instance: COLDSTART_ENV.TRICENTER_OTS_INSTANCE,
  tablePrefix: 'tricenter_',
  endpoint: COLDSTART_ENV.TRICENTER_OTS_ENDPOINT,
  credentials,
});
await createTables(
  tablestoreClient({
    endpoint: COLDSTART_ENV.TRICENTER_OTS_ENDPOINT,
    instance: COLDSTART_ENV.TRICENTER_OTS_INSTANCE,
    credentials: COLDSTART_KEYS,
  }),
  'tricenter_',
);
await bundles.put(COLDSTART_ENV.TRICENTER_BUCKET, 'config/clusters.yaml', new TextEncoder().encode(registryYaml));
const demo = ['app.yaml', 'app-meta.yaml', 'traffic.yaml'].map((file) => readFileSync(`examples/web-demo/${file}`, 'utf8')).join('\n---\n');
const bundleKey = 'bundles/demo/web-demo.yaml';
const uploaded = await bundles.put(COLDSTART_ENV.TRICENTER_BUCKET, bundleKey, new TextEncoder().encode(demo));

if (process.env.COLDSTART_SEED === 'ingested') {
  const registry = parseClusterRegistry(await loadBundleBytes('clusters.yaml', new TextEncoder().encode(registryYaml)));
  let ids = 0;
  const result = await ingestBundle(
    {
      store,
      bundles,
      queue: { send: async () => {} },
      gateway: undefined as never,
      manifests: new ReleaseManifests(new BucketReleaseObjectStore(bundles, COLDSTART_ENV.TRICENTER_BUCKET)),
      registry: async () => registry,
      clock: systemClock,
      logger: silentLogger,
      newId: () => `run-bench-${++ids}`,
      healthWait: DEFAULT_HEALTH_WAIT,
      gtmDefaultInstanceId: COLDSTART_ENV.TRICENTER_GTM_INSTANCE_ID,
    },
    { bucket: COLDSTART_ENV.TRICENTER_BUCKET, key: bundleKey, etag: uploaded.etag },
  );
  if (result.outcome !== 'run-started') throw new Error(`seeding the bench's store failed: ${JSON.stringify(result)}`);
}

/** The OSS event of the upload above, for bundle-ingest: the sample's shape with this object's eTag. */
(globalThis as { coldstartUpload?: unknown }).coldstartUpload = {
  bucket: COLDSTART_ENV.TRICENTER_BUCKET,
  key: bundleKey,
  etag: uploaded.etag,
};
