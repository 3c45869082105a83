/**
 * The gateway's apply-and-health figure (bench/gateway.bench.ts) measured against a real
 * kube-apiserver 1.20 beside the sandbox, in one run: the web-demo example applied to one cluster of
 * each and waited healthy (Deployments ready at once: delay 0 on both), then applied again
 * (nothing changes). Time and the gateway's requests by action. Also the real server's start time and
 * resident memory. Needs the binaries of `bash scripts/kube/build-apiserver.sh`; says so otherwise.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { startSandbox } from '#sandbox/index.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { clusterEntrySchema } from '#shared/delivery/model/clusters.ts';
import { objectRef, type KubeObject } from '#shared/delivery/model/kube.ts';
import { LABEL_APP_NAME, LABEL_APP_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY } from '#shared/delivery/model/ownership.ts';
import { clusterMemoryBytes, kubeSkipReason, startKubeApiServer, writeMergedKubeconfig } from '../test/helpers/envtest.ts';

const CLUSTER = 'bench-real';
const OWNERSHIP = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: 'demo', [LABEL_APP_NAME]: 'web-demo' };
const LAGGING_KINDS = new Set(['Deployment', 'Ingress']);

function exampleManifests(): KubeObject[] {
  const text = readFileSync(new URL('../examples/web-demo/app-meta.yaml', import.meta.url), 'utf8');
  return parseAllDocuments(text).map((doc) => {
    const object = doc.toJS() as KubeObject;
    return { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...OWNERSHIP } } };
  });
}

/** Apply, then health reads until healthy (25 ms apart, as the sandbox bench does). */
async function applyUntilHealthy(gateway: KubeGateway, manifests: KubeObject[]): Promise<Record<string, unknown>> {
  const refs = manifests.filter((m) => LAGGING_KINDS.has(m.kind)).map(objectRef);
  const started = performance.now();
  await gateway.apply(CLUSTER, manifests);
  const appliedMs = performance.now() - started;
  let healthRounds = 0;
  for (;;) {
    healthRounds += 1;
    if ((await gateway.health(CLUSTER, refs)).healthy) break;
    if (healthRounds >= 400) throw new Error('not healthy after 400 health reads');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const healthyMs = performance.now() - started;
  const firstRequests = { ...gateway.requestCounts(CLUSTER) };
  const againStarted = performance.now();
  const again = await gateway.apply(CLUSTER, manifests);
  const reapplyMs = performance.now() - againStarted;
  return {
    objects: manifests.length,
    applyMs: Math.round(appliedMs),
    applyAndHealthyMs: Math.round(healthyMs),
    healthRounds,
    gatewayRequests: firstRequests,
    reapplyMs: Math.round(reapplyMs),
    reapplyChanged: again.objects.filter((o) => o.changed).length,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const skip = kubeSkipReason();
  if (skip) return { skipped: skip };
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-gateway-real-bench-'));
  const clusters = [clusterEntrySchema.parse({ name: CLUSTER })];
  const manifests = exampleManifests();
  const results: Record<string, unknown> = {};
  try {
    const real = await startKubeApiServer({ contextName: CLUSTER, deploymentReadyDelayMs: 0 });
    try {
      writeMergedKubeconfig(join(dir, 'real.kubeconfig'), [real]);
      const gateway = createKubeGateway({
        connections: createClusterConnections({ clusters, defaultKubeconfigPath: join(dir, 'real.kubeconfig') }),
      });
      try {
        results.realKubeApiserver = {
          startMs: real.startMs,
          startPhasesMs: real.startPhasesMs,
          residentMB: Object.fromEntries(Object.entries(clusterMemoryBytes(real)).map(([k, v]) => [k, Math.round(v / 2 ** 20)])),
          ...(await applyUntilHealthy(gateway, manifests)),
        };
      } finally {
        gateway.close();
      }
    } finally {
      await real.stop();
    }

    const sandboxStarted = performance.now();
    const sandbox = await startSandbox({ clusters, dir: join(dir, 'sandbox'), readyDelayMs: 0, dataPlanePort: 0 });
    const sandboxStartMs = Math.round(performance.now() - sandboxStarted);
    const gateway = createKubeGateway({
      connections: createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath }),
    });
    try {
      results.sandbox = { startMs: sandboxStartMs, ...(await applyUntilHealthy(gateway, manifests)) };
    } finally {
      gateway.close();
      await sandbox.stop();
    }
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
