import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { ApiClient } from '#cli/client.ts';
import { startLocalTwinOnClusters, type LocalTwinOnClusters } from '#local/twin.ts';
import { silentLogger } from '#shared/core/log.ts';
import { kubeBinariesAvailable, startKubeApiServer, writeMergedKubeconfig, type RealCluster } from '../helpers/envtest.ts';
import { deploySeedToRunning } from '../e2e/helpers.ts';
import { createOutsideObject, describeOwnershipAttacks } from '../hostile/ownership-cases.ts';
import { World } from '../hostile/world.ts';

/**
 * The hostile suite's ownership attacks against real kube-apiservers: what the API server itself
 * says (dry runs, conflicts, validation) must refuse them as the sandbox does, with nothing written.
 */
const CLUSTERS = [
  { name: 'cluster1-beijing', address: '127.0.0.2' },
  { name: 'cluster2-beijing', address: '127.0.0.3' },
  { name: 'cluster1-hangzhou', address: '127.0.0.4' },
];

describe.skipIf(!kubeBinariesAvailable())('hostile bundles on three real kube-apiservers', () => {
  let servers: RealCluster[] = [];
  let twin: LocalTwinOnClusters;
  let client: ApiClient;
  let world: World;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tricenter-real-hostile-'));
    servers = await Promise.all(CLUSTERS.map((c) => startKubeApiServer({ contextName: c.name, ingressAddress: c.address, deploymentReadyDelayMs: 200 })));
    const kubeconfig = join(dir, 'kubeconfig');
    writeMergedKubeconfig(kubeconfig, servers);
    twin = await startLocalTwinOnClusters({
      dir,
      clustersFile: 'examples/web-demo/clusters.yaml',
      kubeconfig,
      approvalPort: 0,
      timerIntervalMs: 500,
      healthWait: { totalMs: 10_000, pollMs: 100 },
      logger: silentLogger,
    });
    client = new ApiClient({ endpoint: twin.endpoints.approvalUrl, token: twin.endpoints.token });
    world = new World(kubeconfig, CLUSTERS.map((c) => c.name), twin.gtm);
    await deploySeedToRunning(client);
    await createOutsideObject(world);
  }, 240_000);

  afterAll(async () => {
    await twin?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describeOwnershipAttacks(() => ({ client, world }));
});
