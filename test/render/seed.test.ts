import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '#shared/delivery/model/canonical.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import type { Plan } from '#shared/delivery/model/plan.ts';
import { ANNOTATION_CONTENT_HASH, ANNOTATION_PUBLISH_VERSION } from '#shared/delivery/model/ownership.ts';
import { manifestsByCluster } from '#shared/delivery/render/views.ts';
import { deploySteps, examplePlan } from './helpers.ts';

/** The example's README, cluster by cluster. */
let plan: Plan;
let byCluster: Map<string, KubeObject[]>;
beforeAll(async () => {
  plan = await examplePlan();
  byCluster = manifestsByCluster(plan);
});

function find(cluster: string, kind: string): KubeObject {
  const found = byCluster.get(cluster)?.find((m) => m.kind === kind);
  if (!found) throw new Error(`${cluster} has no ${kind}`);
  return found;
}

function container(deployment: KubeObject): { env: Array<{ name: string; value: string }> } {
  const spec = deployment.spec as {
    template: { spec: { containers: Array<{ name: string; env: Array<{ name: string; value: string }> }> } };
  };
  const web = spec.template.spec.containers.find((c) => c.name === 'web-demo');
  if (!web) throw new Error('no web-demo container');
  return web;
}

/** A manifest without what legitimately differs per step: ownership is equal, so only the hash may vary. */
function withoutHash(m: KubeObject): KubeObject {
  const copy = structuredClone(m);
  delete copy.metadata.annotations?.[ANNOTATION_CONTENT_HASH];
  return copy;
}

describe('the seed plan', () => {
  it('has three deploy steps in order, the second waiting for approval', () => {
    expect(plan.app).toEqual({ namespace: 'demo', name: 'web-demo' });
    expect(plan.publishVersion).toBe('version8');
    expect(plan.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.steps.map((s) => [s.name, s.type, s.type === 'deploy' && s.needsApproval])).toEqual([
      ['deploy-cluster1-beijing', 'deploy', false],
      ['deploy-cluster2-beijing', 'deploy', true],
      ['deploy-cluster1-hangzhou', 'deploy', false],
    ]);
    expect(deploySteps(plan).map((s) => s.targets.map((t) => t.cluster))).toEqual([
      ['cluster1-beijing'],
      ['cluster2-beijing'],
      ['cluster1-hangzhou'],
    ]);
    expect(deploySteps(plan).map((s) => [s.parallelism, s.timeoutMs])).toEqual([
      [5, 600_000],
      [5, 600_000],
      [5, 600_000],
    ]);
  });

  it('gives every cluster the Deployment, ConfigMap, Service and Ingress in namespace demo', () => {
    for (const cluster of ['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou']) {
      expect(byCluster.get(cluster)?.map((m) => `${m.kind} ${m.metadata.namespace}/${m.metadata.name}`)).toEqual([
        'Deployment demo/web-demo',
        'ConfigMap demo/web-demo',
        'Service demo/web-demo',
        'Ingress demo/web-demo',
      ]);
    }
  });

  it('sets ENV_NAME per cluster', () => {
    expect(container(find('cluster1-beijing', 'Deployment')).env).toEqual([{ name: 'ENV_NAME', value: 'cluster1-beijing' }]);
    expect(container(find('cluster2-beijing', 'Deployment')).env).toEqual([{ name: 'ENV_NAME', value: 'cluster2-beijing' }]);
    expect(container(find('cluster1-hangzhou', 'Deployment')).env).toEqual([{ name: 'ENV_NAME', value: 'cluster1-hangzhou' }]);
  });

  it('runs 5 replicas in Beijing and 1 in Hangzhou', () => {
    const replicas = (cluster: string) => (find(cluster, 'Deployment').spec as { replicas: number }).replicas;
    expect([replicas('cluster1-beijing'), replicas('cluster2-beijing'), replicas('cluster1-hangzhou')]).toEqual([5, 5, 1]);
  });

  it('gives Beijing the database-host config and Hangzhou the database-address one', () => {
    const config = (cluster: string) => (find(cluster, 'ConfigMap').data as Record<string, string>)['config.json'];
    expect(config('cluster1-beijing')).toBe('{\n  database-host: "beijing-db.pg.aliyun.com"\n}\n');
    expect(config('cluster2-beijing')).toBe(config('cluster1-beijing'));
    expect(config('cluster1-hangzhou')).toBe('{\n  database-address: "hangzhou-db.pg.aliyun.com"\n}\n');
    expect(config('cluster1-hangzhou')).not.toContain('database-host');
  });

  it('keeps the Service and Ingress identical everywhere, hash included', () => {
    for (const kind of ['Service', 'Ingress']) {
      const [first, ...rest] = ['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou'].map((c) => find(c, kind));
      for (const other of rest) expect(other).toEqual(first);
    }
    // Beijing 1 and 2 differ only by ENV_NAME; their ConfigMaps are identical too.
    expect(find('cluster2-beijing', 'ConfigMap')).toEqual(find('cluster1-beijing', 'ConfigMap'));
    expect(withoutHash(find('cluster2-beijing', 'Deployment'))).not.toEqual(withoutHash(find('cluster1-beijing', 'Deployment')));
  });

  it('stamps ownership labels, the publish version and a hash of the manifest without the hash', () => {
    for (const [cluster, manifests] of byCluster) {
      for (const m of manifests) {
        expect(m.metadata.labels, `${cluster} ${m.kind}`).toMatchObject({
          'app.kubernetes.io/managed-by': 'tricenter',
          'app.oam.dev/namespace': 'demo',
          'app.oam.dev/name': 'web-demo',
          'app.oam.dev/component': { Deployment: 'deployment', ConfigMap: 'configmap', Service: 'same-resource', Ingress: 'same-resource' }[
            m.kind
          ],
        });
        expect(m.metadata.annotations?.[ANNOTATION_PUBLISH_VERSION]).toBe('version8');
        const hash = m.metadata.annotations?.[ANNOTATION_CONTENT_HASH];
        expect(hash).toBe(contentHash(withoutHash(m)));
      }
    }
  });

  it('is deterministic: rendering again gives the same plan, byte for byte', async () => {
    expect(canonicalJson(await examplePlan())).toBe(canonicalJson(plan));
    expect(JSON.stringify(await examplePlan())).toBe(JSON.stringify(plan));
  });

  it('shares a manifest between steps only where it comes out the same (one frozen object)', () => {
    const [first, second, third] = deploySteps(plan).map((s) => s.targets[0]?.manifests ?? []);
    const kinds = (list: KubeObject[] | undefined) => list?.map((m) => m.kind);
    expect(kinds(first)).toEqual(['Deployment', 'ConfigMap', 'Service', 'Ingress']);
    // The Deployment differs in every step (env, then env and replicas); the ConfigMap only in the third (json-merge-patch).
    expect(new Set([first?.[0], second?.[0], third?.[0]]).size).toBe(3);
    expect(second?.[1]).toBe(first?.[1]);
    expect(third?.[1]).not.toBe(first?.[1]);
    expect(third?.[2]).toBe(first?.[2]);
    expect(third?.[3]).toBe(first?.[3]);
    // What the env trait left alone is one object in every step.
    const selector = (m: KubeObject | undefined) => (m?.spec as { selector?: unknown } | undefined)?.selector;
    expect(selector(third?.[0])).toBe(selector(first?.[0]));
    for (const m of [...(first ?? []), ...(second ?? []), ...(third ?? [])]) expect(Object.isFrozen(m.metadata)).toBe(true);
  });
});
