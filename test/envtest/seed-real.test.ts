import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwinOnClusters } from '#local/twin.ts';
import { kubeBinariesAvailable } from '../helpers/envtest.ts';
import { REAL_CLUSTERS, startRealTwin, type RealTwin } from './real-twin.ts';
import { variantOfWebDemo } from '../e2e/bundles.ts';
import { waitFor, WEB_DEMO, workloadsOf } from '../e2e/helpers.ts';

/**
 * The seed scenario once against three real kube-apiservers (etcd + apiserver + controller manager
 * each, with the helper playing kubelet and ingress controller), through the same handlers, store,
 * queue and gateway as the local twin: upload -> approval gate -> running, then a release without
 * the Ingress prunes it everywhere.
 */
const CLUSTERS = REAL_CLUSTERS;

describe.skipIf(!kubeBinariesAvailable())('seed scenario on three real kube-apiservers', () => {
  let real: RealTwin;
  let twin: LocalTwinOnClusters;
  let client: ApiClient;

  beforeAll(async () => {
    real = await startRealTwin();
    ({ twin, client } = real);
  }, 240_000);

  afterAll(async () => {
    await real?.stop();
  });

  it('deploys cluster1-beijing, waits for approval, then runs everywhere', async () => {
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    const suspended = await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.phase === 'workflowSuspending',
      60_000,
      'the approval gate',
    );
    expect(workloadsOf(suspended, 'cluster1-beijing')[0]?.ready).toBe('5/5');
    expect(await twin.deps.gateway.listOwned('cluster2-beijing', WEB_DEMO)).toEqual([]);

    await client.decide(WEB_DEMO, 'approve');
    const running = await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.phase === 'running',
      60_000,
      'running',
    );
    expect(running.clusters.map((c) => [c.cluster, workloadsOf(running, c.cluster)[0]?.ready])).toEqual([
      ['cluster1-beijing', '5/5'],
      ['cluster2-beijing', '5/5'],
      ['cluster1-hangzhou', '1/1'],
    ]);
    const addresses = await Promise.all(
      CLUSTERS.map((c) => twin.deps.gateway.ingressAddresses(c.name, { namespace: 'demo', name: 'web-demo' })),
    );
    expect(addresses).toEqual(CLUSTERS.map((c) => [c.address]));
  }, 150_000);

  it('prunes the Ingress everywhere once a release without it succeeds', async () => {
    const withoutIngress = variantOfWebDemo({
      'app.yaml': (t) =>
        t
          .replace('app.oam.dev/publishVersion: version8', 'app.oam.dev/publishVersion: version9')
          .replace(/\n\s+- apiVersion: networking\.k8s\.io\/v1\n\s+kind: Ingress\n\s+name: web-demo/, ''),
    });
    const packed = await packBundle(withoutIngress);
    await client.upload(packed.app, packed);
    await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === 'version9' && s.phase === 'workflowSuspending',
      60_000,
      'version9 at the gate',
    );
    await client.decide(WEB_DEMO, 'approve');
    await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === 'version9' && s.phase === 'running',
      60_000,
      'version9 running',
    );
    const kinds = () =>
      Promise.all(CLUSTERS.map(async (c) => (await twin.deps.gateway.listOwned(c.name, WEB_DEMO)).map((r) => r.kind).sort()));
    await waitFor(kinds, (all) => all.every((k) => !k.includes('Ingress')), 30_000, 'the Ingress pruned');
    expect(await kinds()).toEqual(CLUSTERS.map(() => ['ConfigMap', 'Deployment', 'Service']));
  }, 150_000);
});
