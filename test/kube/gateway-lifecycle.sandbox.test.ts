import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '#sandbox/index.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { clusterEntrySchema } from '#shared/delivery/model/clusters.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import {
  ANNOTATION_GC_PROPAGATION,
  ANNOTATION_GC_STRATEGY,
  ANNOTATION_READ_ONLY,
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_MANAGED_BY,
  MANAGED_BY,
} from '#shared/delivery/model/ownership.ts';

/**
 * KubeVela's read-only and garbage-collect policies as the gateway honours them on the sandbox:
 * a read-only object is never written (only read, and health-checked), and must exist; prune keeps
 * objects whose garbage-collect rule says onAppDelete or never.
 */

const cluster = 'lifecycle';
const app = { namespace: 'life', name: 'web' };
const ownership = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: app.namespace, [LABEL_APP_NAME]: app.name };

function configMap(name: string, data: Record<string, string>, annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'life', labels: ownership, annotations }, data };
}

describe('kube gateway: read-only and garbage-collect on the sandbox', () => {
  let dir: string;
  let sandbox: Sandbox;
  let gateway: KubeGateway;
  let api: KubernetesObjectApi;

  const read = async (name: string) => {
    try {
      return await api.read<KubernetesObject & { data?: Record<string, string> }>({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'life' },
      });
    } catch {
      return undefined;
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tricenter-gateway-lifecycle-'));
    const clusters = [clusterEntrySchema.parse({ name: cluster })];
    sandbox = await startSandbox({ clusters, dir, readyDelayMs: 0, dataPlanePort: 0 });
    gateway = createKubeGateway({ connections: createClusterConnections({ clusters, defaultKubeconfigPath: sandbox.kubeconfigPath }) });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(sandbox.kubeconfigPath);
    kubeConfig.setCurrentContext(cluster);
    api = KubernetesObjectApi.makeApiClient(kubeConfig);
  });

  afterAll(async () => {
    gateway?.close();
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a step whose read-only object does not exist, naming the policy, and writes nothing', async () => {
    const step = [configMap('settings', { a: '1' }), configMap('platform-config', { mine: 'x' }, { [ANNOTATION_READ_ONLY]: 'platform' })];
    await expect(gateway.apply(cluster, step)).rejects.toThrow(
      /ConfigMap life\/platform-config is read-only \(policy platform\) and does not exist: a read-only object is only read, never created/,
    );
    expect(await read('settings')).toBeUndefined();
    expect(await read('platform-config')).toBeUndefined();
  });

  it('never writes a read-only object that exists, even when the bundle says something else; health checks it', async () => {
    await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'life' } });
    await api.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'platform-config', namespace: 'life' },
      data: { theirs: 'y' },
    });
    const before = await read('platform-config');
    const readOnly = configMap('platform-config', { mine: 'x' }, { [ANNOTATION_READ_ONLY]: 'platform' });
    const result = await gateway.apply(cluster, [configMap('settings', { a: '1' }), readOnly]);
    expect(result.objects.map((o) => o.ref.name)).toEqual(['settings']);
    const after = await read('platform-config');
    expect(after?.data).toEqual({ theirs: 'y' });
    expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
    // Not adopted either: the object keeps no tricenter label, so prune can never touch it.
    expect(after?.metadata?.labels?.[LABEL_MANAGED_BY]).toBeUndefined();
    const health = await gateway.health(cluster, [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'life', name: 'platform-config' }]);
    expect(health.healthy).toBe(true);
  });

  it('prune keeps objects a garbage-collect rule keeps (onAppDelete, never) and deletes the rest', async () => {
    await gateway.apply(cluster, [
      configMap('settings', { a: '1' }),
      configMap('keep-until-delete', { b: '1' }, { [ANNOTATION_GC_STRATEGY]: 'onAppDelete' }),
      configMap('keep-forever', { c: '1' }, { [ANNOTATION_GC_STRATEGY]: 'never' }),
      configMap('orphaned', { d: '1' }, { [ANNOTATION_GC_PROPAGATION]: 'orphan' }),
    ]);
    const pruned = await gateway.prune(cluster, app, []);
    expect(pruned.map((r) => r.name).sort()).toEqual(['orphaned', 'settings']);
    expect(await read('keep-until-delete')).toBeDefined();
    expect(await read('keep-forever')).toBeDefined();
    expect(await read('settings')).toBeUndefined();
    expect(await read('orphaned')).toBeUndefined();
    expect(await read('platform-config')).toBeDefined();
  });
});
