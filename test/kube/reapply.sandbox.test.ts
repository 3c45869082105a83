import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startSandbox } from '#sandbox/index.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { clusterEntrySchema } from '#shared/delivery/model/clusters.ts';
import { describeReapplyEconomy } from './reapply-economy.ts';

describeReapplyEconomy('the sandbox, counted by its own request counter', async () => {
  const cluster = 'economy';
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-reapply-'));
  const clusters = [clusterEntrySchema.parse({ name: cluster })];
  const sandbox = await startSandbox({ clusters, dir, readyDelayMs: 0, dataPlanePort: 0 });
  return {
    cluster,
    makeGateway: () =>
      createKubeGateway({ connections: createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath }) }),
    kubeConfig: () => {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(sandbox.kubeconfigPath);
      kubeConfig.setCurrentContext(cluster);
      return kubeConfig;
    },
    traffic: () => {
      const { discovery = 0, get = 0, list = 0, watch = 0, ...others } = sandbox.stats(cluster).byVerb;
      return { discovery, reads: get + list + watch, writes: Object.values(others).reduce((a, b) => a + b, 0) };
    },
    resetTraffic: () => sandbox.resetStats(),
    teardown: async () => {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
