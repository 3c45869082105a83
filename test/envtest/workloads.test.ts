// The pure part of the envtest helper: runs without the Kubernetes binaries.
import { KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type KubeconfigEntry, kubeconfigYaml } from '../helpers/envtest.ts';
import {
  deploymentCanBecomeReady,
  imageNeverBecomesReady,
  ingressHasAddress,
  isRolledOut,
  readyStatus,
  rollingOutStatus,
} from '../helpers/envtest-workloads.ts';

const T0 = new Date(1_700_000_000_000);
const T1 = new Date(1_700_000_005_000);

function deployment(replicas: number | undefined, generation: number, image = 'registry.example/web:1.0'): V1Deployment {
  return {
    metadata: { name: 'web', namespace: 'demo', generation },
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

describe('images that never become ready', () => {
  it.each([
    ['web:fail', true],
    ['registry.example:5000/team/web:fail', true],
    ['registry.example:5000/team/web:fail@sha256:abc', true],
    ['registry.example:5000/team/web', false],
    ['registry.example:5000/fail', false],
    ['web:failing', false],
    ['web:1.0', false],
  ])('%s -> %s', (image, never) => {
    expect(imageNeverBecomesReady(image)).toBe(never);
  });

  it('a Deployment with any container on a `fail` image cannot become ready', () => {
    const d = deployment(2, 1);
    d.spec!.template.spec!.containers.push({ name: 'sidecar', image: 'side:fail' });
    expect(deploymentCanBecomeReady(d)).toBe(false);
    expect(deploymentCanBecomeReady(deployment(2, 1))).toBe(true);
  });
});

describe('deployment status as the controller would write it', () => {
  it('rolling out: generation observed, replicas updated, none available', () => {
    const status = rollingOutStatus(deployment(3, 4), T0);
    expect(status).toMatchObject({ observedGeneration: 4, replicas: 3, updatedReplicas: 3, unavailableReplicas: 3 });
    expect(status.readyReplicas).toBeUndefined();
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'False', 'MinimumReplicasUnavailable'],
      ['Progressing', 'True', 'ReplicaSetUpdated'],
    ]);
    expect(isRolledOut({ ...deployment(3, 4), status })).toBe(false);
  });

  it('ready: all counts equal the desired replicas (default 1), conditions Available and NewReplicaSetAvailable', () => {
    const d = deployment(undefined, 2);
    d.status = rollingOutStatus(d, T0);
    const status = readyStatus(d, T1);
    expect(status).toMatchObject({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
    expect(status.unavailableReplicas).toBeUndefined();
    const [available, progressing] = status.conditions ?? [];
    expect(available).toMatchObject({ type: 'Available', status: 'True', lastTransitionTime: T1 });
    // Progressing stayed True: its transition time is kept, only the update time moves.
    expect(progressing).toMatchObject({
      type: 'Progressing',
      reason: 'NewReplicaSetAvailable',
      lastTransitionTime: T0,
      lastUpdateTime: T1,
    });
    expect(isRolledOut({ ...d, status })).toBe(true);
  });

  it('a later rollout keeps the old pods available until the new ones are ready', () => {
    const d = deployment(3, 1);
    d.status = readyStatus(d, T0);
    d.metadata!.generation = 2;
    const status = rollingOutStatus(d, T1);
    expect(status).toMatchObject({ observedGeneration: 2, replicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(status.updatedReplicas).toBeUndefined();
    expect(status.unavailableReplicas).toBeUndefined();
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'ReplicaSetUpdated'],
    ]);
    expect(isRolledOut({ ...d, status })).toBe(false);
  });

  it('a later generation is not rolled out until observed', () => {
    const d = deployment(2, 1);
    d.status = readyStatus(d, T0);
    expect(isRolledOut(d)).toBe(true);
    d.metadata!.generation = 2;
    expect(isRolledOut(d)).toBe(false);
  });

  it('zero replicas: counts left out, as the API server drops them', () => {
    const status = readyStatus(deployment(0, 1), T0);
    expect(status).not.toHaveProperty('replicas');
    expect(status).not.toHaveProperty('readyReplicas');
    expect(isRolledOut({ ...deployment(0, 1), status })).toBe(true);
  });
});

it('an Ingress has its address only when its status holds exactly that one', () => {
  const withIps = (...ips: string[]) => ({ status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } });
  expect(ingressHasAddress(withIps('127.0.0.2'), '127.0.0.2')).toBe(true);
  expect(ingressHasAddress(withIps('127.0.0.3'), '127.0.0.2')).toBe(false);
  expect(ingressHasAddress(withIps('127.0.0.2', '127.0.0.3'), '127.0.0.2')).toBe(false);
  expect(ingressHasAddress({}, '127.0.0.2')).toBe(false);
});

it('several clusters merge into one kubeconfig with one context each', () => {
  const entry = (name: string, port: number): KubeconfigEntry => ({
    cluster: { name, cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': 'Q0E=' } },
    user: { name: `${name}-admin`, user: { token: `token-${name}` } },
    context: { name, context: { cluster: name, user: `${name}-admin` } },
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(kubeconfigYaml([entry('cluster1-beijing', 6443), entry('cluster2-shanghai', 7443)]));
  expect(kubeConfig.getContexts().map((c) => c.name)).toEqual(['cluster1-beijing', 'cluster2-shanghai']);
  expect(kubeConfig.getCurrentContext()).toBe('cluster1-beijing');
  expect(kubeConfig.getCluster('cluster2-shanghai')?.server).toBe('https://127.0.0.1:7443');
  expect(kubeConfig.getUser('cluster2-shanghai-admin')?.token).toBe('token-cluster2-shanghai');
});
