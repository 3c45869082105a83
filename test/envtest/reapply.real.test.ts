// Re-applying an unchanged step against a real kube-apiserver (1.20), its requests counted by an HTTP proxy in front of it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe } from 'vitest';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { kubeBinariesAvailable, startKubeApiServer } from '../helpers/envtest.ts';
import { describeReapplyEconomy } from '../kube/reapply-economy.ts';
import { startCountingProxy } from './counting-proxy.ts';

const CLUSTER = 'economy-real';

describe.skipIf(!kubeBinariesAvailable())('real kube-apiserver', () => {
  describeReapplyEconomy('a real kube-apiserver 1.20, counted by an HTTP proxy in front of it', async () => {
    const cluster = await startKubeApiServer({ contextName: CLUSTER });
    const dir = mkdtempSync(join(tmpdir(), 'tricenter-reapply-real-'));
    try {
      const proxy = await startCountingProxy(cluster, CLUSTER);
      const kubeconfigPath = join(dir, 'kubeconfig');
      writeFileSync(kubeconfigPath, proxy.kubeConfig.exportConfig(), { mode: 0o600 });
      const clusters = [{ name: CLUSTER, aliases: [], labels: {} }];
      return {
        cluster: CLUSTER,
        makeGateway: () =>
          createKubeGateway({ connections: createClusterConnections({ clusters, defaultKubeconfigPath: kubeconfigPath, env: {} }) }),
        // kubectl goes to the server directly: only the gateway's requests are counted.
        kubeConfig: () => cluster.kubeConfig,
        traffic: () => proxy.traffic(),
        resetTraffic: () => proxy.reset(),
        teardown: async () => {
          await proxy.close();
          await cluster.stop();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  });
});
