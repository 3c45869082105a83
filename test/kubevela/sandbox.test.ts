/**
 * What the built-in component types and traits render is accepted by a Kubernetes API: corpus
 * cases whose kinds the local sandbox serves (Deployment, Service, Ingress, ConfigMap, Secret) are
 * verified (server-side dry run) and applied through the real kube gateway, and read back. Jobs,
 * CronJobs and claims (task, cron-task, storage) are in sandbox-batch-storage.test.ts: the gateway
 * does not list them as owned kinds, so they are checked by health there, not by listOwned.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '#sandbox/index.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { parseBundle } from '#shared/delivery/model/bundle.ts';
import { clusterEntrySchema } from '#shared/delivery/model/clusters.ts';
import { appKey } from '#shared/delivery/model/ownership.ts';
import { render } from '#shared/delivery/render/render.ts';
import { manifestsByCluster } from '#shared/delivery/render/views.ts';
import { tarGzBytes } from '../bundle/archives.ts';
import { bundleFiles, loadCases } from './corpus.ts';

const SERVED = new Set(['Deployment', 'Service', 'Ingress', 'ConfigMap', 'Secret']);
const CASES = [
  'component-webservice-full.yaml',
  'trait-gateway-named-tls.yaml',
  'e2e-worker-env-storage.yaml',
  'trait-expose-docgen.yaml',
  'trait-sidecar-docgen.yaml',
  'trait-init-container-docgen.yaml',
];

describe('built-in components and traits on a Kubernetes API (the sandbox)', () => {
  let dir: string;
  let sandbox: Sandbox;
  let gateway: KubeGateway;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tricenter-kubevela-'));
    const clusters = [clusterEntrySchema.parse({ name: 'local' })];
    sandbox = await startSandbox({ clusters, dir, readyDelayMs: 0, dataPlanePort: 0 });
    gateway = createKubeGateway({
      connections: createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath }),
      requestTimeoutMs: 5_000,
    });
  });
  afterAll(async () => {
    gateway?.close();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES)('%s is applied as rendered', async (file) => {
    const c = (await loadCases()).find((k) => k.file === file);
    if (!c) throw new Error(`no case ${file}`);
    const bundle = parseBundle(await loadBundleBytes('bundle.tar.gz', tarGzBytes(bundleFiles(c))));
    if (!bundle.registry) throw new Error('no registry');
    const manifests = manifestsByCluster(render(bundle, bundle.registry.registry)).get('local') ?? [];
    expect(
      manifests.every((m) => SERVED.has(m.kind)),
      'the case uses only kinds the sandbox serves',
    ).toBe(true);
    await gateway.apply('local', [...manifests]);
    const app = { namespace: bundle.application.namespace, name: bundle.application.name };
    const owned = await gateway.listOwned('local', app);
    expect(owned.map((o) => `${o.kind} ${o.name}`).sort(), appKey(app)).toEqual(
      manifests.map((m) => `${m.kind} ${m.metadata.name}`).sort(),
    );
  });
});
