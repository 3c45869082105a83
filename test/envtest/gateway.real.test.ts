// The ClusterGateway contract against real kube-apiservers (1.20), two clusters in one merged kubeconfig.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { describeClusterGatewayContract } from '../contract/cluster-gateway.contract.ts';
import { kubeBinariesAvailable, type RealCluster, startKubeApiServer, writeMergedKubeconfig } from '../helpers/envtest.ts';

const READY_DELAY_MS = 300;
const CLUSTERS = [
  { name: 'cluster1-beijing', ingressAddress: '127.0.0.2' },
  { name: 'cluster2-shanghai', ingressAddress: '127.0.0.3' },
];

describe.skipIf(!kubeBinariesAvailable())('real kube-apiserver', () => {
  describeClusterGatewayContract('real kube-apiserver 1.20 (envtest)', async () => {
    const started: RealCluster[] = [];
    const gateways: KubeGateway[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'tricenter-gateway-real-'));
    const teardown = async (): Promise<void> => {
      for (const gateway of gateways) gateway.close();
      await Promise.all(started.map((cluster) => cluster.stop()));
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      // One after the other: two servers starting at once on 2 cores only slow each other down.
      for (const { name, ingressAddress } of CLUSTERS) {
        started.push(
          await startKubeApiServer({ contextName: name, ingressAddress, deploymentReadyDelayMs: READY_DELAY_MS, reachabilityProxy: true }),
        );
      }
    } catch (error) {
      await teardown();
      throw error;
    }
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeMergedKubeconfig(kubeconfigPath, started);
    const byName = new Map(started.map((cluster) => [cluster.contextName, cluster]));
    const cluster = (name: string): RealCluster => {
      const found = byName.get(name);
      if (!found) throw new Error(`no real cluster named ${name}`);
      return found;
    };

    return {
      clusters: CLUSTERS.map((c) => c.name),
      readyDelayMs: READY_DELAY_MS,
      makeGateway() {
        const connections = createClusterConnections({
          clusters: CLUSTERS.map((c) => ({ name: c.name, aliases: [], labels: {} })),
          defaultKubeconfigPath: kubeconfigPath,
          env: {},
        });
        const gateway = createKubeGateway({ connections, requestTimeoutMs: 3_000 });
        gateways.push(gateway);
        return gateway;
      },
      kubeConfig: (name) => cluster(name).kubeConfig,
      setApiReachable: (name, reachable) => cluster(name).setApiReachable(reachable),
      ingressAddress: (name) => CLUSTERS.find((c) => c.name === name)?.ingressAddress,
      teardown,
    };
  });
});
