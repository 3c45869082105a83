import { ApiException, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { appliedHash } from '#shared/delivery/model/applied-hash.ts';
import { type KubeObject, objectRef } from '#shared/delivery/model/kube.ts';
import { applyOnceAnnotation } from '#shared/delivery/model/drift.ts';
import {
  ANNOTATION_APPLY_ONCE,
  ANNOTATION_CONTENT_HASH,
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_MANAGED_BY,
  MANAGED_BY,
} from '#shared/delivery/model/ownership.ts';
import { deploySteps, examplePlan } from '../render/helpers.ts';

/**
 * What applying an unchanged step again costs, counted by the server side (the sandbox's request
 * counter, an HTTP wrapper in front of a real kube-apiserver), and the abuse of the shortcut: an
 * object edited or deleted by hand is written again, a forged content hash adopts nothing.
 */
export interface ApiTraffic {
  /** GETs of /api, /apis, /openapi (the client's discovery). */
  discovery: number;
  /** Other GETs: reads and lists. */
  reads: number;
  /** Anything else: creates, updates, patches (dry runs included), deletes. */
  writes: number;
}

export interface EconomyHarness {
  cluster: string;
  /** A gateway; a new one has empty caches, like a new function instance. */
  makeGateway(): KubeGateway;
  /** Direct access for the other actors (kubectl); what it sends may be counted, tests reset after it. */
  kubeConfig(): KubeConfig;
  traffic(): ApiTraffic;
  resetTraffic(): void;
  teardown(): Promise<void>;
}

/** The seed's objects for cluster1-beijing (Deployment, ConfigMap, Service, Ingress), moved into `namespace`. */
async function seedManifests(namespace: string): Promise<KubeObject[]> {
  const [step] = deploySteps(await examplePlan());
  const target = step?.targets.find((t) => t.cluster === 'cluster1-beijing');
  if (!target) throw new Error('the seed has no cluster1-beijing step');
  return target.manifests.map((manifest) => {
    const copy = structuredClone(manifest);
    copy.metadata.namespace = namespace;
    copy.metadata.labels = { ...copy.metadata.labels, [LABEL_APP_NAMESPACE]: namespace };
    return copy;
  });
}

let sequence = 0;
function uniqueNamespace(): string {
  sequence += 1;
  return `eco-${sequence}-${Math.random().toString(36).slice(2, 7)}`;
}

function isNotFound(err: unknown): boolean {
  return err instanceof ApiException && err.code === 404;
}

export function describeReapplyEconomy(name: string, setup: () => Promise<EconomyHarness>): void {
  describe(`re-applying an unchanged step: ${name}`, () => {
    let harness: EconomyHarness;
    let gateway: KubeGateway;
    let kubectl: KubernetesObjectApi;

    beforeAll(async () => {
      harness = await setup();
      gateway = harness.makeGateway();
      kubectl = KubernetesObjectApi.makeApiClient(harness.kubeConfig());
    }, 120_000);

    afterAll(async () => {
      gateway?.close();
      await harness?.teardown();
    });

    const read = async (object: KubeObject): Promise<KubernetesObject | undefined> => {
      try {
        return await kubectl.read({ apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    };
    const changedRefs = (result: Awaited<ReturnType<KubeGateway['apply']>>) =>
      result.objects.filter((o) => o.changed).map((o) => `${o.ref.kind} ${o.ref.name}`);

    /** The seed applied once in a namespace of its own, traffic counted from here on. */
    const deployed = async (): Promise<KubeObject[]> => {
      const manifests = await seedManifests(uniqueNamespace());
      expect(changedRefs(await gateway.apply(harness.cluster, manifests))).toHaveLength(manifests.length);
      harness.resetTraffic();
      return manifests;
    };

    it('the seed applied again: one read per kind and namespace (four), no write, nothing changed', async () => {
      const manifests = await deployed();
      const again = await gateway.apply(harness.cluster, manifests);
      expect(changedRefs(again)).toEqual([]);
      expect(harness.traffic()).toEqual({ discovery: 0, reads: 4, writes: 0 });
      // The annotation holds the hash of what was applied.
      for (const manifest of manifests) {
        const live = await read(manifest);
        expect(live?.metadata?.annotations?.[ANNOTATION_CONTENT_HASH]).toMatch(/^[0-9a-f]{64}$/);
      }
    });

    it('a new gateway (a new function instance) adds only discovery; verify costs the same reads and sends no dry run', async () => {
      const manifests = await deployed();
      const fresh = harness.makeGateway();
      try {
        expect(changedRefs(await fresh.apply(harness.cluster, manifests))).toEqual([]);
        const traffic = harness.traffic();
        expect({ reads: traffic.reads, writes: traffic.writes }).toEqual({ reads: 4, writes: 0 });
        expect(traffic.discovery).toBeGreaterThan(0);
        harness.resetTraffic();
        await fresh.verify(harness.cluster, manifests);
        expect(harness.traffic()).toEqual({ discovery: 0, reads: 4, writes: 0 });
      } finally {
        fresh.close();
      }
    });

    it('abuse: kubectl edits the image and leaves our hash annotation: that object alone is written back', async () => {
      const manifests = await deployed();
      const deployment = manifests.find((m) => m.kind === 'Deployment') as KubeObject;
      const live = await read(deployment);
      const image = (live as { spec: { template: { spec: { containers: Array<{ image: string }> } } } }).spec.template.spec.containers[0]
        ?.image;
      await kubectl.patch(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: deployment.metadata.name, namespace: deployment.metadata.namespace },
          spec: { template: { spec: { containers: [{ name: 'web-demo', image: 'registry.example.com/evil:1' }] } } },
        } as KubernetesObject,
        undefined,
        undefined,
        'kubectl-edit',
        undefined,
        PatchStrategy.StrategicMergePatch,
      );
      const edited = await read(deployment);
      expect(edited?.metadata?.annotations?.[ANNOTATION_CONTENT_HASH]).toBe(live?.metadata?.annotations?.[ANNOTATION_CONTENT_HASH]);
      harness.resetTraffic();

      const result = await gateway.apply(harness.cluster, manifests);
      expect(changedRefs(result)).toEqual([`Deployment ${deployment.metadata.name}`]);
      // The same reads; one dry run and one apply.
      expect(harness.traffic()).toEqual({ discovery: 0, reads: 4, writes: 2 });
      const healed = (await read(deployment)) as unknown as { spec: { template: { spec: { containers: Array<{ image: string }> } } } };
      expect(healed.spec.template.spec.containers[0]?.image).toBe(image);
      harness.resetTraffic();
      expect(changedRefs(await gateway.apply(harness.cluster, manifests))).toEqual([]);
      expect(harness.traffic().writes).toBe(0);
    });

    it('abuse: kubectl deletes the ConfigMap: it is created again, the others are left alone', async () => {
      const manifests = await deployed();
      const configMap = manifests.find((m) => m.kind === 'ConfigMap') as KubeObject;
      await kubectl.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: configMap.metadata });
      harness.resetTraffic();
      const result = await gateway.apply(harness.cluster, manifests);
      expect(changedRefs(result)).toEqual([`ConfigMap ${configMap.metadata.name}`]);
      expect(harness.traffic()).toEqual({ discovery: 0, reads: 4, writes: 2 });
      expect((await read(configMap))?.metadata?.annotations?.[ANNOTATION_CONTENT_HASH]).toBeDefined();
    });

    it('a changed manifest is written, and only it', async () => {
      const manifests = await deployed();
      const changed = manifests.map((m) =>
        m.kind === 'ConfigMap' ? { ...m, data: { 'config.json': '{"database-host": "elsewhere"}' } } : m,
      );
      const result = await gateway.apply(harness.cluster, changed);
      expect(changedRefs(result)).toEqual(manifests.filter((m) => m.kind === 'ConfigMap').map((m) => `ConfigMap ${m.metadata.name}`));
      expect(harness.traffic()).toEqual({ discovery: 0, reads: 4, writes: 2 });
    });

    it('apply-once on spec.replicas: a hand-made scale is kept, and costs no write at the next apply', async () => {
      const namespace = uniqueNamespace();
      const manifests = (await seedManifests(namespace)).map((m) =>
        m.kind === 'Deployment'
          ? {
              ...m,
              metadata: {
                ...m.metadata,
                annotations: {
                  ...m.metadata.annotations,
                  [ANNOTATION_APPLY_ONCE]: applyOnceAnnotation([{ path: 'spec.replicas', affect: 'onUpdate' }]),
                },
              },
            }
          : m,
      );
      const deployment = manifests.find((m) => m.kind === 'Deployment') as KubeObject;
      await gateway.apply(harness.cluster, manifests);
      await kubectl.patch(
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: deployment.metadata.name, namespace },
          spec: { replicas: 2 },
        } as KubernetesObject,
        undefined,
        undefined,
        'hpa',
        undefined,
        PatchStrategy.MergePatch,
      );
      harness.resetTraffic();
      expect(changedRefs(await gateway.apply(harness.cluster, manifests))).toEqual([]);
      expect(harness.traffic()).toEqual({ discovery: 0, reads: 4, writes: 0 });
      expect(((await read(deployment)) as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
    });

    const forgedCases: Array<{ name: string; labels: (namespace: string) => Record<string, string>; refusal: RegExp }> = [
      { name: 'created outside tricenter', labels: () => ({ team: 'ops' }), refusal: /not created by tricenter/ },
      {
        name: 'owned by another application',
        labels: (namespace) => ({ [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: namespace, [LABEL_APP_NAME]: 'other-app' }),
        refusal: /owned by application .*\/other-app/,
      },
    ];
    for (const { name: forgedName, labels, refusal } of forgedCases) {
      it(`abuse: our content and content hash forged onto an object ${forgedName}: still refused, nothing written`, async () => {
        const namespace = uniqueNamespace();
        const manifests = await seedManifests(namespace);
        const configMap = manifests.find((m) => m.kind === 'ConfigMap') as KubeObject;
        // The hash the gateway would write, copied by hand onto an object whose owner is someone else.
        const forged = {
          ...configMap,
          metadata: {
            name: configMap.metadata.name,
            namespace,
            labels: labels(namespace),
            annotations: { ...configMap.metadata.annotations, [ANNOTATION_CONTENT_HASH]: appliedHash(configMap) },
          },
        };
        await kubectl.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } as KubernetesObject);
        await kubectl.create(forged as KubernetesObject);
        harness.resetTraffic();
        await expect(gateway.apply(harness.cluster, manifests)).rejects.toMatchObject({ code: 'FORBIDDEN', message: refusal });
        expect(harness.traffic().writes).toBe(0);
        const after = await read(configMap);
        expect(after?.metadata?.labels).toEqual(labels(namespace));
        for (const other of manifests.filter((m) => m !== configMap)) expect(await read(other), `${objectRef(other).kind}`).toBeUndefined();
      });
    }
  });
}
