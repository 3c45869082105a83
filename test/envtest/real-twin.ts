import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '#cli/client.ts';
import { startLocalTwinOnClusters, type LocalTwinOnClusters } from '#local/twin.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { startKubeApiServer, writeMergedKubeconfig, type RealCluster } from '../helpers/envtest.ts';

/** The seed's three clusters as real kube-apiservers, each Ingress with its own loopback address. */
export const REAL_CLUSTERS = [
  { name: 'cluster1-beijing', address: '127.0.0.2' },
  { name: 'cluster2-beijing', address: '127.0.0.3' },
  { name: 'cluster1-hangzhou', address: '127.0.0.4' },
];

export interface RealTwin {
  twin: LocalTwinOnClusters;
  client: ApiClient;
  kubeconfig: string;
  stop(): Promise<void>;
}

/**
 * Three real kube-apiservers (etcd + apiserver + controller manager each, with the helper playing
 * kubelet and ingress controller) and the local twin's services against them: the same handlers,
 * store, queue and gateway as on the sandbox.
 */
export async function startRealTwin(options: { gtmVersion?: '3.0' | '2.0' } = {}): Promise<RealTwin> {
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-real-'));
  let servers: RealCluster[] = [];
  let twin: LocalTwinOnClusters | undefined;
  const stop = async () => {
    await twin?.stop();
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    servers = await Promise.all(
      REAL_CLUSTERS.map((c) => startKubeApiServer({ contextName: c.name, ingressAddress: c.address, deploymentReadyDelayMs: 200 })),
    );
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
      ...(options.gtmVersion ? { gtmVersion: options.gtmVersion } : {}),
    });
    return { twin, client: new ApiClient({ endpoint: twin.endpoints.approvalUrl, token: twin.endpoints.token }), kubeconfig, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
