import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import { variantOfWebDemo } from '../e2e/bundles.ts';
import { waitFor, WEB_DEMO } from '../e2e/helpers.ts';
import { kubeBinariesAvailable } from '../helpers/envtest.ts';
import { rawRequest } from '../helpers/kube-raw.ts';
import { startRealTwin, type RealTwin } from './real-twin.ts';

/**
 * Drift and self-heal against three real kube-apiservers: `kubectl edit`-like strategic merge patches
 * and deletes behind tricenter's back, found and healed by the twin's own timer (the deploy-step
 * sweep), recorded in the run's drift history; apply-once paths kept; self-heal off reports only.
 * The real API server adds its defaults (imagePullPolicy, strategy, protocol...), canonicalises
 * quantities and keeps managedFields: none of that may count as drift.
 */
const DEPLOYMENT = '/apis/apps/v1/namespaces/demo/deployments/web-demo';
const CONFIGMAP = '/api/v1/namespaces/demo/configmaps/web-demo';
const EVIL = 'evil.example.com/miner:1';

describe.skipIf(!kubeBinariesAvailable())('drift on real kube-apiservers', () => {
  let real: RealTwin;
  let client: ApiClient;

  const kube = (cluster: string) => {
    const config = new KubeConfig();
    config.loadFromFile(real.kubeconfig);
    config.setCurrentContext(cluster);
    return config;
  };
  const get = async (cluster: string, path: string) => (await rawRequest(kube(cluster), { method: 'GET', path })).body as any;
  const kubectlPatch = async (cluster: string, body: unknown) => {
    const response = await rawRequest(kube(cluster), {
      method: 'PATCH',
      path: DEPLOYMENT,
      body,
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  };
  const status = () => client.status(WEB_DEMO);
  const driftOf = (s: AppStatus, cluster: string) => s.clusters.find((c) => c.cluster === cluster)?.drift;
  const deploy = async (dir: string, version: string) => {
    const packed = await packBundle(dir);
    await client.upload(packed.app, packed);
    await waitFor(status, (s) => s.publishVersion === version && s.phase === 'workflowSuspending', 90_000, `${version} at the gate`);
    await client.decide(WEB_DEMO, 'approve');
    await waitFor(status, (s) => s.publishVersion === version && s.phase === 'running', 120_000, `${version} running`);
  };

  beforeAll(async () => {
    real = await startRealTwin();
    client = real.client;
    await deploy('examples/web-demo', 'version8');
  }, 300_000);
  afterAll(async () => real?.stop());

  it('a running release is in sync on every real cluster (server defaults are no drift)', async () => {
    const s = await waitFor(status, (x) => x.clusters.every((c) => c.drift?.objects.length === 0), 30_000, 'every cluster in sync');
    expect(s.clusters.map((c) => c.drift?.inSync)).toEqual([4, 4, 4]);
  }, 60_000);

  it('kubectl edit and delete are healed by the sweep and recorded', async () => {
    await kubectlPatch('cluster1-beijing', {
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'web-demo', image: EVIL }] } } },
    });
    expect((await rawRequest(kube('cluster2-beijing'), { method: 'DELETE', path: CONFIGMAP })).status).toBe(200);
    const healed = await waitFor(
      status,
      (s) => (s.driftEvents ?? []).filter((e) => e.action === 'healed').length >= 2,
      60_000,
      'two heals recorded',
    );
    expect(healed.driftEvents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          cluster: 'cluster1-beijing',
          object: 'apps/v1 Deployment demo/web-demo',
          state: 'modified',
          action: 'healed',
        }),
        expect.objectContaining({ cluster: 'cluster2-beijing', object: 'v1 ConfigMap demo/web-demo', state: 'missing', action: 'healed' }),
      ]),
    );
    const live = await get('cluster1-beijing', DEPLOYMENT);
    expect(live.spec.replicas).toBe(5);
    expect(live.spec.template.spec.containers[0].image).not.toBe(EVIL);
    expect((await get('cluster2-beijing', CONFIGMAP)).data['config.json']).toContain('beijing-db');
  }, 90_000);

  it('apply-once spec.replicas: the replicas edit stays, the image is healed', async () => {
    const dir = variantOfWebDemo({
      'app.yaml': (t) =>
        `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: replicas-by-hpa, namespace: demo}
type: apply-once
properties:
  enable: true
  rules:
    - selector: {resourceTypes: [Deployment]}
      strategy: {path: ["spec.replicas"]}
---
${t.replace('app.oam.dev/publishVersion: version8', 'app.oam.dev/publishVersion: version9')}`,
    });
    await deploy(dir, 'version9');
    const before = (await status()).driftEvents?.length ?? 0;
    await kubectlPatch('cluster1-beijing', {
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'web-demo', image: EVIL }] } } },
    });
    await waitFor(
      status,
      (s) => (s.driftEvents ?? []).slice(before).some((e) => e.cluster === 'cluster1-beijing' && e.action === 'healed'),
      60_000,
      'the image healed',
    );
    const live = await get('cluster1-beijing', DEPLOYMENT);
    expect(live.spec.template.spec.containers[0].image).not.toBe(EVIL);
    expect(live.spec.replicas).toBe(3);
  }, 300_000);

  it('self-heal off: the edit is shown as DRIFT and reported, never reverted', async () => {
    const dir = variantOfWebDemo({
      'app.yaml': (t) =>
        t.replace(
          '    app.oam.dev/publishVersion: version8',
          '    tricenter.io/self-heal: "false"\n    app.oam.dev/publishVersion: version10',
        ),
    });
    await deploy(dir, 'version10');
    await kubectlPatch('cluster2-beijing', { spec: { replicas: 1 } });
    const reported = await waitFor(
      status,
      (s) => (s.driftEvents ?? []).some((e) => e.action === 'reported' && e.cluster === 'cluster2-beijing'),
      60_000,
      'the drift reported',
    );
    expect(driftOf(reported, 'cluster2-beijing')?.objects).toEqual([
      { object: 'apps/v1 Deployment demo/web-demo', state: 'modified', fields: ['spec.replicas'] },
    ]);
    expect((await get('cluster2-beijing', DEPLOYMENT)).spec.replicas).toBe(1);
  }, 300_000);
});
