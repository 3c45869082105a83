import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '#shared/platform/log.ts';
import { startSandbox, type Sandbox } from '#sandbox/index.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { clusterEntrySchema } from '#shared/delivery/model/clusters.ts';
import { LABEL_APP_NAME, LABEL_APP_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY } from '#shared/delivery/model/ownership.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import { describeClusterGatewayContract } from '../contract/cluster-gateway.contract.ts';

const READY_DELAY_MS = 1_500;

function sandboxKubeConfig(path: string, context: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  kubeConfig.setCurrentContext(context);
  return kubeConfig;
}

describeClusterGatewayContract('kube gateway on the sandbox', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-gateway-contract-'));
  const clusters = ['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou'].map((name) => clusterEntrySchema.parse({ name }));
  const sandbox = await startSandbox({ clusters, dir, readyDelayMs: READY_DELAY_MS, dataPlanePort: 0 });
  const connections = createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath });
  const gateways: KubeGateway[] = [];
  return {
    makeGateway: () => {
      const gateway = createKubeGateway({ connections, requestTimeoutMs: 3_000 });
      gateways.push(gateway);
      return gateway;
    },
    clusters: clusters.map((c) => c.name),
    kubeConfig: (cluster) => sandboxKubeConfig(sandbox.kubeconfigPath, cluster),
    setApiReachable: async (cluster, reachable) => {
      await sandbox.setFault(cluster, reachable ? 'none' : 'api-unreachable');
    },
    readyDelayMs: READY_DELAY_MS,
    ingressAddress: (cluster) => sandbox.clusters.find((c) => c.name === cluster)?.ingressAddress,
    teardown: async () => {
      for (const gateway of gateways) gateway.close();
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('kube gateway request economy on the sandbox', () => {
  let dir: string;
  let sandbox: Sandbox;
  let gateway: KubeGateway;
  const cluster = 'economy';
  const ownership = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: 'eco', [LABEL_APP_NAME]: 'web' };
  const manifests: KubeObject[] = [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'eco', labels: ownership }, data: { a: '1' } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'eco', labels: ownership }, data: { b: '1' } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'eco', labels: ownership },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'eco', labels: ownership },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example.com/web:1' }] } },
      },
    },
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tricenter-gateway-economy-'));
    const clusters = [clusterEntrySchema.parse({ name: cluster })];
    sandbox = await startSandbox({ clusters, dir, readyDelayMs: 0, dataPlanePort: 0 });
    gateway = createKubeGateway({ connections: createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath }) });
  });

  afterAll(async () => {
    gateway?.close();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('discovers each apiVersion once, reads what lives there first, dry-runs every object, then sends one apply per object', async () => {
    sandbox.resetStats();
    const first = await gateway.apply(cluster, manifests);
    expect(first.objects.every((o) => o.changed)).toBe(true);
    // v1 and apps/v1: one discovery each; two ConfigMaps: one list, the Service and the Deployment: one read each;
    // one namespace create; four dry runs; four applies.
    expect(gateway.requestCounts(cluster)).toMatchObject({ discovery: 2, list: 1, get: 2, create: 1, 'dry-run': 4, apply: 4 });
    expect(sandbox.stats(cluster).requests).toBe(2 + 3 + 1 + 4 + 4);
  });

  it('applies an unchanged step again with one read per kind and namespace and no write: no dry run, no apply', async () => {
    sandbox.resetStats();
    const before = gateway.requestCounts(cluster);
    const again = await gateway.apply(cluster, manifests);
    expect(again.objects.every((o) => !o.changed)).toBe(true);
    const after = gateway.requestCounts(cluster);
    // Two ConfigMaps: one list; the Service and the Deployment: one read each; nothing else.
    const delta = Object.fromEntries(Object.keys(after!).map((action) => [action, after![action as 'get'] - before![action as 'get']]));
    expect(delta).toEqual({ discovery: 0, list: 1, get: 2, 'dry-run': 0, apply: 0, patch: 0, create: 0, delete: 0 });
    expect(sandbox.stats(cluster)).toEqual({ requests: 3, byVerb: { list: 1, get: 2 } });
  });

  it('a fresh gateway (a new function instance) sends the same reads after discovery, and no namespace create either', async () => {
    sandbox.resetStats();
    const fresh = createKubeGateway({
      connections: createClusterConnections({
        clusters: [clusterEntrySchema.parse({ name: cluster })],
        defaultKubeconfigPath: sandbox.kubeconfigPath,
      }),
    });
    try {
      expect((await fresh.apply(cluster, manifests)).objects.every((o) => !o.changed)).toBe(true);
      expect(fresh.requestCounts(cluster)).toEqual({
        discovery: 2,
        list: 1,
        get: 2,
        'dry-run': 0,
        apply: 0,
        patch: 0,
        create: 0,
        delete: 0,
      });
      expect(sandbox.stats(cluster).byVerb).toEqual({ discovery: 2, list: 1, get: 2 });
      // verify (the first pass of a multi-cluster step) costs the same reads, and no dry run.
      sandbox.resetStats();
      await fresh.verify(cluster, manifests);
      expect(sandbox.stats(cluster).byVerb).toEqual({ list: 1, get: 2 });
    } finally {
      fresh.close();
    }
  });

  it('logs which field managers a forced apply overrode', async () => {
    const logger = memoryLogger();
    const connections = createClusterConnections({
      clusters: [clusterEntrySchema.parse({ name: cluster })],
      defaultKubeconfigPath: sandbox.kubeconfigPath,
    });
    const logged = createKubeGateway({ connections, logger });
    try {
      const intruder = KubernetesObjectApi.makeApiClient(await connections.kubeConfig(cluster));
      const cm = manifests[0] as KubeObject;
      await intruder.patch(
        { ...cm, data: { a: 'changed by hand' } } as KubernetesObject,
        undefined,
        undefined,
        'kubectl-edit',
        undefined,
        PatchStrategy.MergePatch,
      );
      const result = await logged.apply(cluster, [cm]);
      expect(result.objects[0]?.changed).toBe(true);
      expect(logger.lines).toContainEqual(
        expect.objectContaining({ level: 'warn', msg: 'forced apply took fields over from other managers', managers: ['kubectl-edit'] }),
      );
    } finally {
      logged.close();
    }
  });
});
