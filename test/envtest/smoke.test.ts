import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  type KubernetesObject,
  PatchStrategy,
  type V1Deployment,
  type V1Ingress,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { clusterMemoryBytes, kubeBinariesAvailable, type RealCluster, startKubeApiServer } from '../helpers/envtest.ts';
import { isRolledOut } from '../helpers/envtest-workloads.ts';
import { waitForDeletion, waitForObject } from '../helpers/kube-watch.ts';

const execFileAsync = promisify(execFile);
const FIELD_MANAGER = 'tricenter-envtest';
const INGRESS_ADDRESS = '127.0.0.9';

function exampleObjects(): KubernetesObject[] {
  const text = readFileSync(new URL('../../examples/web-demo/app-meta.yaml', import.meta.url), 'utf8');
  return parseAllDocuments(text).map((doc) => doc.toJS() as KubernetesObject);
}

describe.skipIf(!kubeBinariesAvailable())('real kube-apiserver (envtest smoke)', () => {
  let cluster: RealCluster;
  let objects: KubernetesObjectApi;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  beforeAll(async () => {
    cluster = await startKubeApiServer({ contextName: 'smoke', ingressAddress: INGRESS_ADDRESS, deploymentReadyDelayMs: 200 });
    objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig);
    apps = cluster.kubeConfig.makeApiClient(AppsV1Api);
    core = cluster.kubeConfig.makeApiClient(CoreV1Api);
    const memory = clusterMemoryBytes(cluster);
    const mb = (n: number | undefined): string => `${Math.round((n ?? 0) / 2 ** 20)} MB`;
    console.info(
      `[envtest] ${cluster.server} ready in ${cluster.startMs} ms ${JSON.stringify(cluster.startPhasesMs)}; RSS apiserver ${mb(memory.apiserver)}, ` +
        `etcd ${mb(memory.etcd)}, controller-manager ${mb(memory.controllerManager)}`,
    );
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves version 1.20 to a kubeconfig written for the caller-named context', async () => {
    expect(cluster.kubeConfig.getCurrentContext()).toBe('smoke');
    expect(cluster.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const { stdout } = await execFileAsync('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'version', '-o', 'json']);
    const version = JSON.parse(stdout) as { serverVersion: { major: string; minor: string; gitVersion: string } };
    expect(version.serverVersion).toMatchObject({ major: '1', minor: '20', gitVersion: 'v1.20.2' });
  });

  it('applies the example with server-side apply; the Deployment becomes ready and the Ingress gets its address', async () => {
    await core.createNamespace({ body: { metadata: { name: 'demo' } } });
    for (const object of exampleObjects()) {
      const applied = await objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      expect(applied.metadata?.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply')).toBe(true);
    }

    const { object: deployment } = await waitForObject<V1Deployment>(
      cluster.kubeConfig,
      '/apis/apps/v1/namespaces/demo/deployments',
      'web-demo',
      (d) => isRolledOut(d),
    );
    expect(deployment.status).toMatchObject({
      observedGeneration: 1,
      replicas: 5,
      updatedReplicas: 5,
      readyReplicas: 5,
      availableReplicas: 5,
    });
    expect(deployment.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);

    const { object: ingress } = await waitForObject<V1Ingress>(
      cluster.kubeConfig,
      '/apis/networking.k8s.io/v1/namespaces/demo/ingresses',
      'web-demo',
      (i) => (i.status?.loadBalancer?.ingress?.length ?? 0) > 0,
    );
    expect(ingress.status?.loadBalancer?.ingress).toEqual([{ ip: INGRESS_ADDRESS }]);

    const service = await core.readNamespacedService({ name: 'web-demo', namespace: 'demo' });
    expect(service.spec?.ports?.[0]).toMatchObject({ protocol: 'TCP', port: 80, targetPort: 8080 });
    expect(service.spec?.clusterIP).toMatch(/^10\.0\.0\.\d+$/);
  });

  it('kubectl reads the Deployment through the written kubeconfig', async () => {
    const { stdout } = await execFileAsync('kubectl', [
      '--kubeconfig',
      cluster.kubeconfigPath,
      'get',
      'deploy',
      '-n',
      'demo',
      '-o',
      'json',
    ]);
    const list = JSON.parse(stdout) as { items: V1Deployment[] };
    expect(list.items.map((d) => [d.metadata?.name, d.status?.readyReplicas])).toEqual([['web-demo', 5]]);
    const table = await execFileAsync('kubectl', ['--kubeconfig', cluster.kubeconfigPath, 'get', 'deploy', '-n', 'demo']);
    expect(table.stdout).toMatch(/web-demo\s+5\/5\s+5\s+5/);
  });

  it('a new generation rolls out again, and an image tagged `fail` never becomes ready', async () => {
    const stuckSpec = exampleObjects().find((o) => o.kind === 'Deployment') as V1Deployment;
    stuckSpec.metadata = { name: 'stuck', namespace: 'demo', labels: { app: 'stuck' } };
    stuckSpec.spec!.selector = { matchLabels: { app: 'stuck' } };
    stuckSpec.spec!.template.metadata = { labels: { app: 'stuck' } };
    stuckSpec.spec!.template.spec!.containers[0]!.image = 'registry.example/web-demo:fail';
    await objects.patch(stuckSpec, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    const { object: observed } = await waitForObject<V1Deployment>(
      cluster.kubeConfig,
      '/apis/apps/v1/namespaces/demo/deployments',
      'stuck',
      (d) => d.status?.observedGeneration === 1,
    );
    expect(observed.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'False', 'MinimumReplicasUnavailable'],
      ['Progressing', 'True', 'ReplicaSetUpdated'],
    ]);

    // Changed after `stuck`, with the same delay: once it is ready, `stuck` would have been too.
    const scaled = await apps.patchNamespacedDeployment({
      name: 'web-demo',
      namespace: 'demo',
      body: [{ op: 'replace', path: '/spec/replicas', value: 2 }],
    });
    expect(scaled.metadata?.generation).toBe(2);
    const { object: rescaled } = await waitForObject<V1Deployment>(
      cluster.kubeConfig,
      '/apis/apps/v1/namespaces/demo/deployments',
      'web-demo',
      (d) => isRolledOut(d) && d.status?.observedGeneration === 2,
    );
    expect(rescaled.status?.readyReplicas).toBe(2);

    const stuck = await apps.readNamespacedDeployment({ name: 'stuck', namespace: 'demo' });
    expect(stuck.status?.readyReplicas).toBeUndefined();
    expect(stuck.status?.unavailableReplicas).toBe(5);
    expect(isRolledOut(stuck)).toBe(false);
  });

  it('runs the service account, garbage collector and namespace controllers', { timeout: 120_000 }, async () => {
    await waitForObject<V1ServiceAccount>(
      cluster.kubeConfig,
      '/api/v1/namespaces/demo/serviceaccounts',
      'default',
      (sa) => (sa.secrets?.length ?? 0) > 0,
    );

    const owner = await apps.readNamespacedDeployment({ name: 'stuck', namespace: 'demo' });
    await core.createNamespacedConfigMap({
      namespace: 'demo',
      body: {
        metadata: {
          name: 'owned-by-stuck',
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'stuck', uid: owner.metadata!.uid!, controller: true }],
        },
        data: { k: 'v' },
      },
    });
    await apps.deleteNamespacedDeployment({ name: 'stuck', namespace: 'demo', propagationPolicy: 'Background' });
    await waitForDeletion(cluster.kubeConfig, '/api/v1/namespaces/demo/configmaps', 'owned-by-stuck', 45_000);
    await expect(core.readNamespacedConfigMap({ name: 'owned-by-stuck', namespace: 'demo' })).rejects.toMatchObject({ code: 404 });

    await core.deleteNamespace({ name: 'demo' });
    await waitForDeletion(cluster.kubeConfig, '/api/v1/namespaces', 'demo', 45_000);
    await expect(core.readNamespace({ name: 'demo' })).rejects.toMatchObject({ code: 404 });
    await expect(apps.readNamespacedDeployment({ name: 'web-demo', namespace: 'demo' })).rejects.toMatchObject({ code: 404 });
  });
});
