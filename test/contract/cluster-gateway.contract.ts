import { ApiException, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TricenterError } from '#shared/platform/errors.ts';
import type { KubeObject, ObjectRef } from '#shared/delivery/model/kube.ts';
import {
  ANNOTATION_RESOURCE_POLICY,
  ANNOTATION_SHARED_BY,
  FIELD_MANAGER,
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  type AppRef,
} from '#shared/delivery/model/ownership.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';

/**
 * What every ClusterGateway must do against a Kubernetes API (the sandbox, a real kube-apiserver):
 * `describeClusterGatewayContract('sandbox', async () => harness)`. Conventions the cluster must
 * follow: a Deployment becomes ready `readyDelayMs` after it changes, except when its image tag is
 * `fail`; an Ingress gets an address. Every case uses its own namespace, so one cluster serves all.
 */
export interface GatewayHarness {
  /** A gateway over the harness's clusters; call again for a fresh one (a new process, empty caches). */
  makeGateway(): ClusterGateway;
  /** 1 to 3 cluster names the gateway knows. */
  clusters: string[];
  /** Direct access that bypasses the gateway, to check side effects and to play other actors. */
  kubeConfig(cluster: string): KubeConfig;
  /** Makes the cluster's API unreachable (false) or reachable again (true). */
  setApiReachable(cluster: string, reachable: boolean): Promise<void>;
  /** How long a changed Deployment takes to become ready (should be > 0, so "not ready yet" can be seen). */
  readyDelayMs: number;
  /** The address an Ingress gets on this cluster, when the harness knows it. */
  ingressAddress?(cluster: string): string | undefined;
  teardown(): Promise<void>;
}

const READY_IMAGE = 'registry.example.com/tricenter/web:1.0.0';
const NEVER_READY_IMAGE = 'registry.example.com/tricenter/web:fail';

function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}

function ownership(app: AppRef): Record<string, string> {
  return { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: app.namespace, [LABEL_APP_NAME]: app.name };
}

function configMap(app: AppRef, name: string, data: Record<string, string>, labels: Record<string, string> = ownership(app)): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: app.namespace, labels }, data };
}

/** The same object rendered for another application (render stamps the ownership labels), optionally with a resource policy. */
function renderedFor(object: KubeObject, app: AppRef, policy?: string): KubeObject {
  const annotations = policy ? { [ANNOTATION_RESOURCE_POLICY]: policy } : undefined;
  return {
    ...object,
    metadata: { ...object.metadata, labels: { ...object.metadata.labels, ...ownership(app) }, ...(annotations ? { annotations } : {}) },
  };
}

function deployment(app: AppRef, name: string, options: { replicas?: number; image?: string } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: app.namespace, labels: ownership(app) },
    spec: {
      replicas: options.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: options.image ?? READY_IMAGE, env: [{ name: 'ENV_NAME', value: name }] }] },
      },
    },
  };
}

/** A Service whose port has no `protocol`: the gateway must default it (kube-apiserver 1.20). */
function service(app: AppRef, name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: app.namespace, labels: ownership(app) },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

function ingress(app: AppRef, name: string): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: app.namespace, labels: ownership(app) },
    spec: {
      rules: [
        {
          host: `${name}.example.com`,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] },
        },
      ],
    },
  };
}

function ref(object: KubeObject): ObjectRef {
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace as string, name: object.metadata.name };
}

function sortRefs(refs: ObjectRef[]): string[] {
  return refs.map((r) => `${r.kind} ${r.namespace ?? ''}/${r.name}`).sort();
}

async function rejection(promise: Promise<unknown>): Promise<TricenterError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(TricenterError);
    return err as TricenterError;
  }
  throw new Error('expected the call to fail');
}

export function describeClusterGatewayContract(label: string, setup: () => Promise<GatewayHarness>): void {
  describe(`ClusterGateway contract: ${label}`, () => {
    let harness: GatewayHarness;
    let gateway: ClusterGateway;
    let cluster: string;
    const direct = new Map<string, KubernetesObjectApi>();

    const client = (name: string): KubernetesObjectApi => {
      let api = direct.get(name);
      if (!api) {
        api = KubernetesObjectApi.makeApiClient(harness.kubeConfig(name));
        direct.set(name, api);
      }
      return api;
    };

    const readObject = async (name: string, target: ObjectRef): Promise<KubernetesObject | undefined> => {
      try {
        return await client(name).read({
          apiVersion: target.apiVersion,
          kind: target.kind,
          metadata: { name: target.name, namespace: target.namespace },
        });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    };

    const waitHealthy = async (gw: ClusterGateway, name: string, refs: ObjectRef[]) => {
      await vi.waitFor(
        async () => {
          const report = await gw.health(name, refs);
          expect(report.objects.filter((o) => !o.healthy)).toEqual([]);
        },
        { timeout: harness.readyDelayMs * 4 + 15_000, interval: 100 },
      );
    };

    beforeAll(async () => {
      harness = await setup();
      gateway = harness.makeGateway();
      cluster = harness.clusters[0] as string;
    });

    afterAll(async () => {
      await harness?.teardown();
    });

    it('creates the namespace, then applies every object with our field manager', async () => {
      const app = { namespace: uniqueName('gwc-create'), name: 'web' };
      const objects = [ingress(app, 'web'), deployment(app, 'web'), service(app, 'web'), configMap(app, 'web', { 'config.json': '{}' })];
      const result = await gateway.apply(cluster, objects);
      expect(result.cluster).toBe(cluster);
      expect(sortRefs(result.objects.map((o) => o.ref))).toEqual(sortRefs(objects.map(ref)));
      expect(result.objects.every((o) => o.changed)).toBe(true);
      expect(await readObject(cluster, { apiVersion: 'v1', kind: 'Namespace', name: app.namespace })).toBeDefined();
      for (const object of objects) {
        const live = await readObject(cluster, ref(object));
        expect(live?.metadata?.labels?.[LABEL_MANAGED_BY]).toBe(MANAGED_BY);
        expect(live?.metadata?.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply')).toBe(true);
      }
      const svc = (await readObject(cluster, ref(service(app, 'web')))) as { spec?: { ports?: Array<{ protocol?: string }> } };
      expect(svc.spec?.ports?.[0]?.protocol).toBe('TCP');
    });

    it('applying the same manifests again changes nothing, in this gateway and in a fresh one', async () => {
      const app = { namespace: uniqueName('gwc-again'), name: 'web' };
      const objects = [configMap(app, 'web', { a: '1' }), service(app, 'web'), deployment(app, 'web'), ingress(app, 'web')];
      await gateway.apply(cluster, objects);
      await waitHealthy(gateway, cluster, objects.map(ref));
      const versions = async () => Promise.all(objects.map(async (o) => (await readObject(cluster, ref(o)))?.metadata?.resourceVersion));
      const before = await versions();
      const again = await gateway.apply(cluster, objects);
      expect(again.objects.map((o) => o.changed)).toEqual(objects.map(() => false));
      const fresh = await harness.makeGateway().apply(cluster, objects);
      expect(fresh.objects.map((o) => o.changed)).toEqual(objects.map(() => false));
      expect(await versions()).toEqual(before);
    });

    it('takes back fields another field manager changed (forced apply)', async () => {
      const app = { namespace: uniqueName('gwc-force'), name: 'web' };
      const cm = configMap(app, 'settings', { color: 'blue' });
      const deploy = deployment(app, 'web', { replicas: 2 });
      await gateway.apply(cluster, [cm, deploy]);
      const intruder = client(cluster);
      await intruder.patch(
        { ...cm, data: { color: 'red' } } as KubernetesObject,
        undefined,
        undefined,
        'intruder',
        undefined,
        PatchStrategy.MergePatch,
      );
      await intruder.patch(
        { ...deploy, spec: { replicas: 5 } } as KubernetesObject,
        undefined,
        undefined,
        'intruder',
        undefined,
        PatchStrategy.MergePatch,
      );
      expect(((await readObject(cluster, ref(cm))) as { data?: Record<string, string> }).data?.color).toBe('red');

      const result = await gateway.apply(cluster, [cm, deploy]);
      expect(result.objects.map((o) => o.changed)).toEqual([true, true]);
      const liveCm = (await readObject(cluster, ref(cm))) as KubernetesObject & { data?: Record<string, string> };
      const liveDeploy = (await readObject(cluster, ref(deploy))) as KubernetesObject & { spec?: { replicas?: number } };
      expect(liveCm.data?.color).toBe('blue');
      expect(liveDeploy.spec?.replicas).toBe(2);
      const intruderFields = JSON.stringify(liveCm.metadata?.managedFields?.find((f) => f.manager === 'intruder')?.fieldsV1 ?? {});
      expect(intruderFields).not.toContain('f:color');
    });

    it('reports a Deployment unhealthy until it is ready, then healthy', async () => {
      const app = { namespace: uniqueName('gwc-health'), name: 'web' };
      const deploy = deployment(app, 'web', { replicas: 3 });
      await gateway.apply(cluster, [deploy]);
      const first = await gateway.health(cluster, [ref(deploy)]);
      expect(first.healthy).toBe(false);
      expect(first.objects[0]?.reason).toMatch(/\d+\/3 ready|not yet observed/);
      await waitHealthy(gateway, cluster, [ref(deploy)]);
      const missing = { ...ref(deploy), name: 'never-applied' };
      const report = await gateway.health(cluster, [ref(deploy), missing]);
      expect(report.healthy).toBe(false);
      expect(report.objects).toEqual([
        { ref: ref(deploy), healthy: true },
        { ref: missing, healthy: false, reason: 'not found' },
      ]);
    });

    it('keeps a Deployment whose image never becomes ready unhealthy, with a reason', async () => {
      const app = { namespace: uniqueName('gwc-fail'), name: 'web' };
      const good = deployment(app, 'good');
      const bad = deployment(app, 'bad', { image: NEVER_READY_IMAGE });
      await gateway.apply(cluster, [good, bad]);
      // Once the good one is ready, the bad one has had every chance to be ready too.
      await waitHealthy(gateway, cluster, [ref(good)]);
      const report = await gateway.health(cluster, [ref(good), ref(bad)]);
      expect(report.healthy).toBe(false);
      expect(report.objects[1]).toMatchObject({
        ref: ref(bad),
        healthy: false,
        reason: expect.stringMatching(/0\/1 ready|not yet observed/),
      });
    });

    it('prunes only owned objects that are not kept', async () => {
      const app = { namespace: uniqueName('gwc-prune'), name: 'web' };
      const other = { namespace: app.namespace, name: 'other-app' };
      const keepCm = configMap(app, 'web-keep', { k: 'v' });
      const dropCm = configMap(app, 'web-drop', { k: 'v' });
      const keepDeploy = deployment(app, 'web');
      const dropService = service(app, 'web-old');
      const othersCm = configMap(other, 'web-drop-other', { k: 'v' });
      await gateway.apply(cluster, [keepCm, dropCm, keepDeploy, dropService]);
      await gateway.apply(cluster, [othersCm]);
      const unlabelled = configMap(app, 'web-drop-copy', { k: 'v' }, { app: 'web' });
      await client(cluster).create(unlabelled as KubernetesObject);

      expect(sortRefs(await gateway.listOwned(cluster, app))).toEqual(sortRefs([keepCm, dropCm, keepDeploy, dropService].map(ref)));
      const pruned = await gateway.prune(cluster, app, [ref(keepCm), ref(keepDeploy)]);
      expect(sortRefs(pruned)).toEqual(sortRefs([ref(dropCm), ref(dropService)]));

      expect(await readObject(cluster, ref(dropCm))).toBeUndefined();
      expect(await readObject(cluster, ref(dropService))).toBeUndefined();
      for (const survivor of [keepCm, keepDeploy, othersCm, unlabelled]) expect(await readObject(cluster, ref(survivor))).toBeDefined();
      expect(sortRefs(await gateway.listOwned(cluster, app))).toEqual(sortRefs([keepCm, keepDeploy].map(ref)));
      expect(await gateway.prune(cluster, app, [ref(keepCm), ref(keepDeploy)])).toEqual([]);
    });

    it('reads the address an Ingress gets', async () => {
      const app = { namespace: uniqueName('gwc-ingress'), name: 'web' };
      const ing = ingress(app, 'web');
      await gateway.apply(cluster, [service(app, 'web'), ing]);
      let addresses: string[] = [];
      await vi.waitFor(
        async () => {
          addresses = await gateway.ingressAddresses(cluster, { namespace: app.namespace, name: 'web' });
          expect(addresses.length).toBeGreaterThan(0);
        },
        { timeout: harness.readyDelayMs * 4 + 15_000, interval: 100 },
      );
      const expected = harness.ingressAddress?.(cluster);
      if (expected) expect(addresses).toEqual([expected]);
      expect((await gateway.health(cluster, [ref(ing)])).healthy).toBe(true);
      expect(await gateway.ingressAddresses(cluster, { namespace: app.namespace, name: 'absent' })).toEqual([]);
      // The whole namespace in one list: this Ingress with the same addresses, nothing of another namespace.
      expect(await gateway.ingressAddressesIn(cluster, app.namespace)).toEqual(new Map([['web', addresses]]));
      expect(await gateway.ingressAddressesIn(cluster, uniqueName('gwc-empty'))).toEqual(new Map());
    });

    it('reports rollout figures and the first image of the application’s Deployments', async () => {
      const app = { namespace: uniqueName('gwc-workloads'), name: 'web' };
      const deploy = deployment(app, 'web', { replicas: 3 });
      await gateway.apply(cluster, [deploy, configMap(app, 'web', { a: 'b' })]);
      await waitHealthy(gateway, cluster, [ref(deploy)]);
      expect(await gateway.workloads(cluster, app)).toEqual([
        { ref: ref(deploy), desired: 3, ready: 3, upToDate: 3, available: 3, image: READY_IMAGE },
      ]);
      expect(await gateway.workloads(cluster, { namespace: app.namespace, name: 'nobody' })).toEqual([]);
    });

    it('rejects an invalid object as INVALID_OBJECT, permanent, with the API server’s message', async () => {
      const app = { namespace: uniqueName('gwc-invalid'), name: 'web' };
      const bad = configMap(app, 'Not_A_Valid_Name', { a: 'b' });
      const error = await rejection(gateway.apply(cluster, [bad]));
      expect(error.code).toBe('INVALID_OBJECT');
      expect(error.retryable).toBe(false);
      // The gateway's own words end with "(422 Invalid)"; what follows is the server's message.
      expect(error.message).toMatch(/\(422 \w+\): .*Not_A_Valid_Name/);
    });

    it('refuses another application’s object, names the owner, and applies nothing of that apply', async () => {
      const owner = { namespace: uniqueName('gwc-own'), name: 'web' };
      const hijacker = { namespace: owner.namespace, name: 'hijack' };
      const victim = configMap(owner, 'web', { 'config.json': '{"db":"victim"}' });
      await gateway.apply(cluster, [victim]);
      const before = await readObject(cluster, ref(victim));
      const innocent = configMap(hijacker, 'hijack-extra', { a: 'b' });
      const error = await rejection(
        gateway.apply(cluster, [innocent, renderedFor({ ...victim, data: { 'config.json': '{"db":"attacker"}' } }, hijacker)]),
      );
      expect(error.code).toBe('FORBIDDEN');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(`ConfigMap ${owner.namespace}/web`);
      expect(error.message).toContain(`is owned by application ${owner.namespace}/web`);
      expect(error.message).toContain('nothing applied');
      const after = await readObject(cluster, ref(victim));
      expect(after?.metadata?.resourceVersion).toBe(before?.metadata?.resourceVersion);
      expect((after as { data?: Record<string, string> }).data).toEqual(victim.data);
      expect(await readObject(cluster, ref(innocent))).toBeUndefined();
      // Even declaring it shared does not help: the owner never shared it.
      const shared = await rejection(gateway.apply(cluster, [renderedFor(victim, hijacker, 'shared')]));
      expect(shared.message).toContain('does not share it');
      expect(await gateway.prune(cluster, hijacker, [])).toEqual([]);
      expect(await readObject(cluster, ref(victim))).toBeDefined();
    });

    it('refuses an object created outside tricenter unless a take-over policy adopts it; adopted, it is pruned with the application', async () => {
      const app = { namespace: uniqueName('gwc-adopt'), name: 'web' };
      await gateway.apply(cluster, [configMap(app, 'anchor', { a: 'b' })]);
      const outside = configMap(app, 'legacy', { origin: 'kubectl' }, { team: 'ops' });
      await client(cluster).create(outside as KubernetesObject);
      const mine = renderedFor({ ...outside, data: { origin: 'tricenter' } }, app);
      const error = await rejection(gateway.apply(cluster, [mine]));
      expect(error.code).toBe('FORBIDDEN');
      expect(error.message).toMatch(/legacy.*not created by tricenter.*take-over/);
      expect(((await readObject(cluster, ref(outside))) as { data?: Record<string, string> }).data).toEqual({ origin: 'kubectl' });

      await gateway.apply(cluster, [renderedFor(mine, app, 'take-over')]);
      const adopted = (await readObject(cluster, ref(outside))) as KubernetesObject & { data?: Record<string, string> };
      expect(adopted.data).toEqual({ origin: 'tricenter' });
      expect(adopted.metadata?.labels?.[LABEL_APP_NAME]).toBe('web');
      expect(sortRefs(await gateway.prune(cluster, app, [ref(configMap(app, 'anchor', {}))]))).toEqual(sortRefs([ref(outside)]));
      expect(await readObject(cluster, ref(outside))).toBeUndefined();
    });

    it('shares an object only when its owner shares it: the owner writes, sharers join, the last one out deletes', async () => {
      const first = { namespace: uniqueName('gwc-share'), name: 'first' };
      const second = { namespace: first.namespace, name: 'second' };
      const common = configMap(first, 'common', { owner: 'first' });
      await gateway.apply(cluster, [renderedFor(common, first, 'shared')]);
      const joined = await gateway.apply(cluster, [renderedFor({ ...common, data: { owner: 'second' } }, second, 'shared')]);
      expect(joined.objects.map((o) => o.changed)).toEqual([true]);
      let live = (await readObject(cluster, ref(common))) as KubernetesObject & { data?: Record<string, string> };
      expect(live.data).toEqual({ owner: 'first' });
      expect(live.metadata?.annotations?.[ANNOTATION_SHARED_BY]).toBe(`${first.namespace}/first,${second.namespace}/second`);
      // The owner applies again: the sharers stay.
      await gateway.apply(cluster, [renderedFor(common, first, 'shared')]);
      live = (await readObject(cluster, ref(common))) as typeof live;
      expect(live.metadata?.annotations?.[ANNOTATION_SHARED_BY]).toBe(`${first.namespace}/first,${second.namespace}/second`);

      // The owner drops it while the second still shares it: handed over, not deleted.
      expect(await gateway.prune(cluster, first, [])).toEqual([]);
      live = (await readObject(cluster, ref(common))) as typeof live;
      expect(live.metadata?.labels?.[LABEL_APP_NAME]).toBe('second');
      expect(live.metadata?.annotations?.[ANNOTATION_SHARED_BY]).toBe(`${second.namespace}/second`);
      expect(await gateway.prune(cluster, second, [])).toEqual([ref(common)]);
      expect(await readObject(cluster, ref(common))).toBeUndefined();
    });

    it('dry-runs every object first: one invalid object fails the apply naming it, and nothing else is written', async () => {
      const app = { namespace: uniqueName('gwc-dry'), name: 'web' };
      const good = configMap(app, 'good', { a: 'b' });
      const bad = configMap(app, 'Bad_Name', { a: 'b' });
      const error = await rejection(gateway.apply(cluster, [good, bad]));
      expect(error.code).toBe('INVALID_OBJECT');
      expect(error.message).toContain('nothing applied');
      expect(error.message).toContain(`ConfigMap ${app.namespace}/Bad_Name`);
      expect(error.message).not.toContain(`ConfigMap ${app.namespace}/good`);
      expect(await readObject(cluster, ref(good))).toBeUndefined();
      // The namespace it created for the dry run is removed again (a real API server may still show it terminating).
      const namespace = await readObject(cluster, { apiVersion: 'v1', kind: 'Namespace', name: app.namespace });
      expect(namespace === undefined || namespace.metadata?.deletionTimestamp !== undefined).toBe(true);
    });

    it('classifies an unreachable API server as UNREACHABLE and retryable, within the request timeout, and recovers', async () => {
      const target = harness.clusters[harness.clusters.length - 1] as string;
      const app = { namespace: uniqueName('gwc-down'), name: 'web' };
      const cm = configMap(app, 'web', { a: 'b' });
      await harness.setApiReachable(target, false);
      try {
        const error = await rejection(gateway.apply(target, [cm]));
        expect(error.code).toBe('UNREACHABLE');
        expect(error.retryable).toBe(true);
        const healthError = await rejection(gateway.health(target, [ref(cm)]));
        expect(healthError.code).toBe('UNREACHABLE');
        if (harness.clusters.length > 1) {
          expect((await gateway.apply(cluster, [configMap(app, 'elsewhere', { a: 'b' })])).objects).toHaveLength(1);
        }
      } finally {
        await harness.setApiReachable(target, true);
      }
      await vi.waitFor(async () => expect((await gateway.apply(target, [cm])).objects).toHaveLength(1), { timeout: 15_000, interval: 200 });
    }, 45_000); // The bound: a gateway whose requests time out in a few seconds finishes this well within it.

    it('observes drift: in sync after apply; an edit, a delete and an object no longer ours are found; observing writes nothing', async () => {
      const app = { namespace: uniqueName('gwc-drift'), name: 'web' };
      const cm = configMap(app, 'settings', { color: 'blue' });
      const deploy = deployment(app, 'web', { replicas: 2 });
      const svc = service(app, 'web');
      await gateway.apply(cluster, [cm, deploy, svc]);
      expect((await harness.makeGateway().observe(cluster, [cm, deploy, svc])).map((o) => o.state)).toEqual([
        'in-sync',
        'in-sync',
        'in-sync',
      ]);

      const intruder = client(cluster);
      await intruder.patch(
        { ...cm, data: { color: 'red' } } as KubernetesObject,
        undefined,
        undefined,
        'kubectl-edit',
        undefined,
        PatchStrategy.MergePatch,
      );
      await intruder.delete(svc as KubernetesObject);
      const unlabelled = { ...deploy, metadata: { ...deploy.metadata, labels: { [LABEL_MANAGED_BY]: null } } };
      await intruder.patch(
        unlabelled as unknown as KubernetesObject,
        undefined,
        undefined,
        'kubectl-label',
        undefined,
        PatchStrategy.MergePatch,
      );
      const versions = async () =>
        Promise.all([cm, deploy].map(async (o) => (await readObject(cluster, ref(o)))?.metadata?.resourceVersion));
      const before = await versions();

      const observed = await gateway.observe(cluster, [cm, deploy, svc]);
      expect(observed.map((o) => [o.ref.kind, o.state])).toEqual([
        ['ConfigMap', 'modified'],
        ['Deployment', 'foreign'],
        ['Service', 'missing'],
      ]);
      expect(observed[0]?.fields).toEqual(['data.color']);
      expect(await versions()).toEqual(before);
    });

    it('probes a cluster: reachable, its version, latency and server-side apply; an unreachable one says why, without throwing', async () => {
      const probe = await gateway.probe(cluster);
      expect(probe).toMatchObject({ cluster, reachable: true, serverSideApply: 'yes' });
      expect(probe.version).toMatch(/^v1\.\d+\.\d+/);
      expect(probe.latencyMs).toBeGreaterThanOrEqual(0);
      // Its apply was a dry run: nothing is left behind.
      const namespace = harness.kubeConfig(cluster).getContextObject(cluster)?.namespace ?? 'default';
      expect(await readObject(cluster, { apiVersion: 'v1', kind: 'ConfigMap', namespace, name: 'tricenter-apply-probe' })).toBeUndefined();
      const target = harness.clusters[harness.clusters.length - 1] as string;
      await harness.setApiReachable(target, false);
      try {
        const down = await gateway.probe(target);
        expect(down).toMatchObject({ cluster: target, reachable: false, serverSideApply: 'unknown' });
        expect(down.error).toBeTruthy();
      } finally {
        await harness.setApiReachable(target, true);
      }
    }, 45_000);

    it('previews a step: dry-run diff against live per object (image and replicas notable), adds, prunes; writes nothing', async () => {
      const app = { namespace: uniqueName('gwc-preview'), name: 'web' };
      const kept = configMap(app, 'kept', { a: '1' });
      const old = configMap(app, 'old', { b: '2' });
      const deploy = deployment(app, 'web', { replicas: 1 });
      await gateway.apply(cluster, [kept, old, deploy]);
      // What a write would change. A Deployment's resourceVersion also moves when a controller writes its
      // status (kube-controller-manager runs beside the real apiserver), so it is judged by generation and spec.
      const versions = async () =>
        Promise.all(
          [kept, old, deploy].map(async (o) => {
            const live = (await readObject(cluster, ref(o))) as { metadata?: Record<string, unknown>; spec?: unknown } | undefined;
            if (o.kind !== 'Deployment') return live?.metadata?.resourceVersion;
            const { generation, labels, annotations } = live?.metadata ?? {};
            return JSON.stringify({ generation, labels, annotations, spec: live?.spec });
          }),
        );
      const liveVersion = async () => (await readObject(cluster, ref(deploy)))?.metadata?.resourceVersion;
      const before = await versions();
      const versionBefore = await liveVersion();

      const next = deployment(app, 'web', { replicas: 3, image: 'registry.example.com/tricenter/web:2.0.0' });
      const added = configMap(app, 'added', { c: '3' });
      const preview = await harness.makeGateway().preview(cluster, app, [kept, next, added], [ref(kept), ref(next), ref(added)]);
      expect(preview.map((o) => [o.ref.kind, o.ref.name, o.action])).toEqual([
        ['ConfigMap', 'kept', 'same'],
        ['Deployment', 'web', 'change'],
        ['ConfigMap', 'added', 'add'],
        ['ConfigMap', 'old', 'prune'],
      ]);
      const changed = preview[1]?.fields.filter((f) => f.notable) ?? [];
      expect(changed).toEqual([
        { path: 'spec.replicas', before: 1, after: 3, notable: true },
        {
          path: 'spec.template.spec.containers[web].image',
          before: 'registry.example.com/tricenter/web:1.0.0',
          after: 'registry.example.com/tricenter/web:2.0.0',
          notable: true,
        },
      ]);
      // Server defaults the dry run fills in (imagePullPolicy, terminationMessagePath...) are live already: not changes.
      expect(preview[1]?.fields.map((f) => f.path).filter((p) => /imagePullPolicy|terminationMessage|dnsPolicy/.test(p))).toEqual([]);
      // The version the preview read lies between the reads around it (both servers count versions up).
      const seen = Number(preview[1]?.liveVersion);
      expect(seen).toBeGreaterThanOrEqual(Number(versionBefore));
      expect(seen).toBeLessThanOrEqual(Number(await liveVersion()));
      expect(await versions()).toEqual(before);
      expect(await readObject(cluster, ref(added))).toBeUndefined();

      // A namespace that does not exist yet is not created by a preview: the objects are adds.
      const fresh = { namespace: uniqueName('gwc-preview-new'), name: 'web' };
      const adds = await gateway.preview(cluster, fresh, [configMap(fresh, 'x', { a: '1' })], []);
      expect(adds.map((o) => o.action)).toEqual(['add']);
      expect(await readObject(cluster, { apiVersion: 'v1', kind: 'Namespace', name: fresh.namespace })).toBeUndefined();
    });
  });
}
