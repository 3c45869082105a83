/**
 * Cluster gateway benchmark (issue 3): the example's manifests applied to three sandbox clusters and
 * waited healthy (ready delay 0): time and API requests per object, discovery reported apart (goal:
 * one apply per object plus one health read per workload); then 200 generated objects (ConfigMaps
 * and Deployments) to each of 20 clusters: time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startSandbox } from '#sandbox/index.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { objectRef, type KubeObject } from '#shared/delivery/model/kube.ts';
import { clusterEntrySchema, type ClusterEntry } from '#shared/delivery/model/clusters.ts';
import { LABEL_APP_NAME, LABEL_APP_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY } from '#shared/delivery/model/ownership.ts';

const APP = { namespace: 'demo', name: 'web-demo' };
const OWNERSHIP = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: APP.namespace, [LABEL_APP_NAME]: APP.name };

function withOwnership(object: KubeObject): KubeObject {
  return { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...OWNERSHIP } } };
}

function exampleManifests(): KubeObject[] {
  const text = readFileSync(new URL('../examples/web-demo/app-meta.yaml', import.meta.url), 'utf8');
  return parseAllDocuments(text).map((doc) => withOwnership(doc.toJS() as KubeObject));
}

function generatedManifests(count: number): KubeObject[] {
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? withOwnership({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cfg-${i}`, namespace: 'bench' },
          data: { index: String(i) },
        })
      : withOwnership({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `web-${i}`, namespace: 'bench' },
          spec: {
            replicas: 1,
            selector: { matchLabels: { app: `web-${i}` } },
            template: {
              metadata: { labels: { app: `web-${i}` } },
              spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1.0.0' }] },
            },
          },
        }),
  );
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** Kinds whose health can lag behind the apply; the others exist once applied. */
const LAGGING_KINDS = new Set([...WORKLOAD_KINDS, 'Ingress']);

/** Applies, then reads health until healthy: what a deploy step does for one cluster. */
async function deploy(gateway: KubeGateway, cluster: string, manifests: KubeObject[]): Promise<{ healthReads: number }> {
  await gateway.apply(cluster, manifests);
  const refs = manifests.filter((m) => LAGGING_KINDS.has(m.kind)).map(objectRef);
  let healthReads = 0;
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const report = await gateway.health(cluster, refs);
    healthReads += 1;
    if (report.healthy) return { healthReads };
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`cluster ${cluster} did not become healthy`);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

async function exampleToThreeClusters(dir: string): Promise<Record<string, unknown>> {
  const clusters: ClusterEntry[] = ['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou'].map((name) =>
    clusterEntrySchema.parse({ name }),
  );
  const sandbox = await startSandbox({ clusters, dir: join(dir, 'three'), readyDelayMs: 0, dataPlanePort: 0 });
  const gateway = createKubeGateway({ connections: createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath }) });
  try {
    const manifests = exampleManifests();
    const workloads = manifests.filter((m) => WORKLOAD_KINDS.has(m.kind)).length;
    const healthRefs = manifests.filter((m) => LAGGING_KINDS.has(m.kind)).length;
    sandbox.resetStats();
    const started = performance.now();
    const rounds = await Promise.all(clusters.map((c) => deploy(gateway, c.name, manifests)));
    const firstMs = performance.now() - started;
    const firstCounts = clusters.map((c) => gateway.requestCounts(c.name)!);
    const firstServer = clusters.map((c) => sandbox.stats(c.name));

    sandbox.resetStats();
    const againStarted = performance.now();
    await Promise.all(clusters.map((c) => gateway.apply(c.name, manifests)));
    const againMs = performance.now() - againStarted;
    const againServer = clusters.map((c) => sandbox.stats(c.name));

    const objects = manifests.length * clusters.length;
    const total = (key: keyof NonNullable<ReturnType<KubeGateway['requestCounts']>>) => sum(firstCounts.map((c) => c[key]));
    return {
      clusters: clusters.length,
      objectsPerCluster: manifests.length,
      workloadsPerCluster: workloads,
      firstDeployMs: Math.round(firstMs),
      healthRoundsPerCluster: rounds.map((r) => r.healthReads),
      healthReadKinds: [...LAGGING_KINDS],
      serverRequestsPerCluster: firstServer.map((s) => s.requests),
      serverRequestsByVerb: firstServer.map((s) => s.byVerb),
      gatewayRequests: {
        discovery: total('discovery'),
        create: total('create'),
        get: total('get'),
        apply: total('apply'),
        list: total('list'),
      },
      appliesPerObject: total('apply') / objects,
      healthReadsPerCluster: rounds.map((r) => r.healthReads * healthRefs),
      readsBeforeApplyPerObject: (total('get') - sum(rounds.map((r) => r.healthReads * healthRefs))) / objects,
      discoveryPerCluster: total('discovery') / clusters.length,
      goalPerCluster: `${manifests.length} applies + ${workloads} health read(s) of workloads (plus discovery; Ingress address reads counted in health reads)`,
      reapplyMs: Math.round(againMs),
      reapplyServerRequestsPerObject: sum(againServer.map((s) => s.requests)) / objects,
    };
  } finally {
    gateway.close();
    await sandbox.stop();
  }
}

async function manyObjectsToManyClusters(dir: string, clusterCount: number, objectCount: number): Promise<Record<string, unknown>> {
  const clusters = Array.from({ length: clusterCount }, (_, i) => clusterEntrySchema.parse({ name: `bench-${i + 1}` }));
  const sandbox = await startSandbox({ clusters, dir: join(dir, 'many'), readyDelayMs: 0, dataPlanePort: 0 });
  const gateway = createKubeGateway({ connections: createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath }) });
  try {
    const manifests = generatedManifests(objectCount);
    sandbox.resetStats();
    const started = performance.now();
    await Promise.all(clusters.map((c) => deploy(gateway, c.name, manifests)));
    const ms = performance.now() - started;
    const requests = sum(clusters.map((c) => sandbox.stats(c.name).requests));
    const byVerb: Record<string, number> = {};
    for (const c of clusters) for (const [verb, n] of Object.entries(sandbox.stats(c.name).byVerb)) byVerb[verb] = (byVerb[verb] ?? 0) + n;
    return {
      clusters: clusterCount,
      objectsPerCluster: objectCount,
      applyAndHealthyMs: Math.round(ms),
      serverRequests: requests,
      serverRequestsByVerb: byVerb,
      serverRequestsPerObject: requests / (clusterCount * objectCount),
    };
  } finally {
    gateway.close();
    await sandbox.stop();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-gateway-bench-'));
  try {
    return {
      // The sandbox runs in this process and the machine is shared: read times against the load.
      loadAverageAtStart: Number(loadavg()[0]?.toFixed(2)),
      exampleToThreeClusters: await exampleToThreeClusters(dir),
      twoHundredObjectsToTwentyClusters: await manyObjectsToManyClusters(dir, 20, 200),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
