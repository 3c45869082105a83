/**
 * The `task`, `cron-task` and `storage` corpus cases on a Kubernetes API (the sandbox), through
 * the real kube gateway: verified (server-side dry run), applied, and healthy once the sandbox's
 * controllers have run the Job's pods and bound the claims (waited for on a watch, never by time).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '#sandbox/index.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { evaluateHealth } from '#shared/delivery/adapters/kube/health.ts';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { parseBundle } from '#shared/delivery/model/bundle.ts';
import { clusterEntrySchema } from '#shared/delivery/model/clusters.ts';
import { objectRef, type KubeObject } from '#shared/delivery/model/kube.ts';
import { LABEL_APP_NAME, LABEL_APP_NAMESPACE } from '#shared/delivery/model/ownership.ts';
import { render } from '#shared/delivery/render/render.ts';
import { manifestsByCluster } from '#shared/delivery/render/views.ts';
import { tarGzBytes } from '../bundle/archives.ts';
import { watchUntil } from '../sandbox/helpers.ts';
import { bundleFiles, loadCases } from './corpus.ts';

/** Kinds whose health a controller decides, and where to watch them. */
const WATCHED: Record<string, string> = {
  Job: 'apis/batch/v1/namespaces/%s/jobs',
  PersistentVolumeClaim: 'api/v1/namespaces/%s/persistentvolumeclaims',
  Deployment: 'apis/apps/v1/namespaces/%s/deployments',
};

describe('task, cron-task and storage on a Kubernetes API (the sandbox)', () => {
  let dir: string;
  let sandbox: Sandbox;
  let gateway: KubeGateway;
  let kc: KubeConfig;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tricenter-kubevela-batch-'));
    const clusters = [clusterEntrySchema.parse({ name: 'local' })];
    sandbox = await startSandbox({ clusters, dir, readyDelayMs: 0, dataPlanePort: 0 });
    gateway = createKubeGateway({
      connections: createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath }),
      requestTimeoutMs: 5_000,
    });
    kc = new KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    kc.setCurrentContext('local');
  });
  afterAll(async () => {
    gateway?.close();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function rendered(file: string): Promise<KubeObject[]> {
    const c = (await loadCases()).find((k) => k.file === file);
    if (!c) throw new Error(`no case ${file}`);
    const bundle = parseBundle(await loadBundleBytes('bundle.tar.gz', tarGzBytes(bundleFiles(c))));
    if (!bundle.registry) throw new Error('no registry');
    return [...(manifestsByCluster(render(bundle, bundle.registry.registry)).get('local') ?? [])];
  }

  /** Waits (on a watch) until every controller-judged object is healthy, or has settled unhealthy. */
  async function settled(
    manifests: KubeObject[],
    done = (o: Record<string, any>, m: KubeObject) => evaluateHealth(objectRef(m), o).healthy,
  ) {
    for (const m of manifests.filter((x) => WATCHED[x.kind])) {
      const path = `/${(WATCHED[m.kind] as string).replace('%s', m.metadata.namespace ?? 'default')}`;
      await watchUntil(kc, path, m.metadata.name, (o) => done(o, m), `${m.kind} ${m.metadata.name}`);
    }
  }

  it.each([
    ['component-task-docgen.yaml', ['Job']],
    ['component-cron-task-full.yaml', ['CronJob']],
    ['trait-storage-docgen.yaml', ['Deployment', 'PersistentVolumeClaim', 'ConfigMap', 'Secret']],
    ['e2e-webservice-labels-storage.yaml', ['Deployment', 'PersistentVolumeClaim']],
  ])('%s is applied as rendered and becomes healthy', async (file, kinds) => {
    const manifests = await rendered(file);
    expect(new Set(manifests.map((m) => m.kind))).toEqual(new Set(kinds));
    await gateway.apply('local', manifests);
    await settled(manifests);
    const report = await gateway.health('local', manifests.map(objectRef));
    expect(report.objects.filter((o) => !o.healthy)).toEqual([]);
    expect(report.healthy).toBe(true);
    // Deploying the same revision again is accepted: the Job's generated selector and labels are the server's, not a change.
    await gateway.apply('local', manifests);
  });

  it('a task whose pod fails is reported unhealthy with the reason; changing a finished Job is refused', async () => {
    const [job] = await rendered('component-task-docgen.yaml');
    if (!job) throw new Error('no Job rendered');
    const failing = structuredClone(job);
    failing.metadata.name = 'app-worker-failing';
    (failing.spec as any).template.spec.containers[0].image = 'perl:fail';
    await gateway.apply('local', [failing]);
    await settled([failing], (o) => (o.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Failed'));
    const report = await gateway.health('local', [objectRef(failing)]);
    expect(report.objects).toEqual([
      {
        ref: objectRef(failing),
        healthy: false,
        reason: 'failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
      },
    ]);
    const changed = structuredClone(job);
    (changed.spec as any).template.spec.containers[0].image = 'perl:5.38';
    await expect(gateway.apply('local', [changed])).rejects.toThrow(/field is immutable/);
  });

  it('a Job, a CronJob and a claim that leave the application are pruned like its other objects', async () => {
    for (const file of ['component-cron-task-full.yaml', 'trait-storage-docgen.yaml']) {
      const manifests = await rendered(file);
      await gateway.apply('local', manifests);
      const labels = manifests[0]?.metadata.labels ?? {};
      const app = { namespace: labels[LABEL_APP_NAMESPACE] as string, name: labels[LABEL_APP_NAME] as string };
      const keep = manifests.filter((m) => m.kind === 'Deployment').map(objectRef);
      const pruned = await gateway.prune('local', app, keep);
      const gone = manifests.filter((m) => m.kind !== 'Deployment');
      expect(pruned.map((r) => `${r.kind}/${r.name}`).sort()).toEqual(gone.map((m) => `${m.kind}/${m.metadata.name}`).sort());
      expect((await gateway.listOwned('local', app)).map((r) => r.kind)).toEqual(keep.map((r) => r.kind));
    }
  });
});
