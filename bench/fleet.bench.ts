/**
 * The fleet at scale: 100 clusters x 500 applications (4 objects each, on every cluster: 200,000
 * deployed objects), one round of the deploy-step timer (the run sweep, then state keeping: drift
 * found and healed; then the same round through deploy-step's handler split into drift shards of
 * clusters, each its own invocation) and the gtm-reconcile timer through its real handler: one instance reconciling
 * every application (Ingresses listed once per cluster and namespace, 8 applications at once), and
 * the same round split into shards, each its own invocation (FLEET_PARTS=traffic runs only this
 * part). 100 real clusters cannot run here: the cluster gateway is a double
 * that answers `observe` the way the kube adapter reads (one page of 500 items per kind and cluster,
 * a read per object a list misses) with the real pure comparison (model/drift.ts), and counts reads
 * and writes; the run store is the real SQLite one, the release objects the real packs in memory, GTM
 * the Alidns fake behind msw through the real 2.0 adapter.
 *
 * Reported per round: reads (run store, release objects, cluster API, GTM), writes, wall time of the
 * round on this machine (no network latency), and the process's peak RSS; beside them the functions'
 * limits from s.yaml and a modelled wall time with network round trips (the figures below), so that
 * the README's "Fleet limits" can say what limits one instance. For a traffic invocation, what the
 * function itself would hold is measured as the heap's growth over the round (sampled, after a GC
 * before it): an upper bound, since the msw fakes answering it allocate in the same heap.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setupServer } from 'msw/node';
import { parse } from 'yaml';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { prepareForApply } from '#shared/delivery/adapters/kube/manifests.ts';
import { withAppliedHash } from '#shared/delivery/model/applied-hash.ts';
import { clusterRegistrySchema, type ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { detectDrift, type ObservedObject } from '#shared/delivery/model/drift.ts';
import { objectRef, refKey, type KubeObject } from '#shared/delivery/model/kube.ts';
import {
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  ownerOf,
} from '#shared/delivery/model/ownership.ts';
import type { Plan } from '#shared/delivery/model/plan.ts';
import { packRelease } from '#shared/delivery/model/release-packs.ts';
import { parseTrafficPolicy, type TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { sweepDrift } from '#shared/delivery/usecases/keep-state.ts';
import { sweepRuns } from '#shared/delivery/usecases/sweep.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import {
  createGtmReconcileHandler,
  type RoundSummary,
  type TrafficDeps,
  type TrafficShardMessage,
} from '#functions/gtm-reconcile/handler.ts';
import { DEFAULT_ROUND } from '#functions/gtm-reconcile/round.ts';
import {
  createDeployStepHandler,
  type DeployStepDeps,
  type DriftShardMessage,
  type DriftShardSummary,
  type TimerSummary,
} from '#functions/deploy-step/handler.ts';
import { DEFAULT_KEEP_STATE } from '#functions/deploy-step/shards.ts';
import { claimTrafficAtIngest } from '#shared/traffic/usecases/traffic-claims.ts';
import { FakeAlidns } from '../test/traffic/alidns-msw.ts';
import { MemoryObjects } from '../test/usecases/memory-objects.ts';

const CLUSTERS = 100;
const APPS = 500;
/** Applications live in team-0 .. team-49, ten each. */
const NAMESPACES = 50;
/** Shards of the split round (the handler's appsPerInvocation for that run). */
const SHARD_APPS = 100;
/** Pairs per drift shard in the split sweep round: 20 clusters of 500 applications, 5 shards. */
const SHARD_PAIRS = 10_000;
/** Objects whose live copy is edited or deleted before the second sweep round: 1 in 400. */
const DRIFT_EVERY = 400;
const LIST_PAGE_SIZE = 500;
const T0 = 1_700_000_000_000;
const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-bench', accessKeySecret: 'bench-secret' };

/** From s.yaml: what each function may use. */
const LIMITS = {
  'deploy-step': { timeoutS: 300, memoryMB: 1024, period: '1 min' },
  'gtm-reconcile': { timeoutS: 120, memoryMB: 512, period: '1 min' },
};
/** Round trips assumed for the modelled wall time: same-region API servers, Tablestore, OSS, Alidns, an FC async invoke. */
const RTT_MS = { kube: 10, store: 5, objects: 20, gtm: 50, fcInvoke: 50 };

const clusterName = (i: number) => `c${String(i).padStart(3, '0')}`;

function registry(): ClusterRegistry {
  return clusterRegistrySchema.parse({
    clusters: Array.from({ length: CLUSTERS }, (_, i) => ({
      name: clusterName(i),
      labels: { city: i % 2 === 0 ? 'beijing' : 'hangzhou' },
    })),
  });
}

function manifestsOf(app: { namespace: string; name: string }): KubeObject[] {
  const labels = (component: string) => ({
    app: app.name,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_APP_NAMESPACE]: app.namespace,
    [LABEL_APP_NAME]: app.name,
    [LABEL_COMPONENT]: component,
  });
  const metadata = (component: string) => ({ name: app.name, namespace: app.namespace, labels: labels(component) });
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata('config'), data: { 'config.json': `{"app": "${app.name}"}` } },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: metadata('web'),
      spec: { selector: { app: app.name }, ports: [{ port: 80, targetPort: 8080 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: metadata('web'),
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: app.name } },
        template: {
          metadata: { labels: { app: app.name } },
          spec: { containers: [{ name: 'web', image: `registry.example.com/${app.name}:1`, resources: { limits: { cpu: '0.5' } } }] },
        },
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: metadata('web'),
      spec: {
        rules: [
          {
            host: `${app.name}.example.com`,
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: app.name, port: { number: 80 } } } }] },
          },
        ],
      },
    },
  ];
}

function trafficPolicy(app: { namespace: string; name: string }, instanceId: string): TrafficPolicy {
  const policy = parseTrafficPolicy(parse(readFileSync(new URL('../examples/web-demo/traffic.yaml', import.meta.url), 'utf8')), {
    file: 'traffic.yaml',
  });
  policy.metadata = { ...policy.metadata, namespace: app.namespace, name: app.name };
  policy.spec.domain = `${app.name}.example.com`;
  policy.spec.gtmInstanceId = instanceId;
  policy.spec.ingress = { name: app.name };
  const hangzhou = policy.spec.pools.find((p) => p.name === 'pool-hangzhou');
  if (hangzhou) {
    delete hangzhou.clusters;
    hangzhou.clusterLabelSelector = { city: 'hangzhou' };
  }
  return policy;
}

/**
 * The cluster gateway double: what 100 API servers would answer, read the way the kube adapter
 * reads. Live objects are the desired ones as the server keeps them (applied-hash annotation, server
 * fields), shared between clusters until the bench edits or deletes one of a cluster.
 */
class FleetGateway implements Pick<ClusterGateway, 'observe' | 'apply' | 'ingressAddresses' | 'ingressAddressesIn'> {
  reads = 0;
  writes = 0;
  private readonly served = new WeakMap<KubeObject, unknown>();
  /** `cluster refKey` -> the edited live object, or null when deleted. */
  readonly changed = new Map<string, unknown>();

  private live(cluster: string, prepared: KubeObject, desired: KubeObject): unknown {
    const key = `${cluster} ${refKey(objectRef(prepared))}`;
    if (this.changed.has(key)) return this.changed.get(key) ?? undefined;
    let live = this.served.get(desired);
    if (!live) {
      const applied = withAppliedHash(prepared) as KubeObject & Record<string, unknown>;
      live = {
        ...applied,
        metadata: { ...applied.metadata, uid: 'u', resourceVersion: '1', managedFields: [{ manager: 'tricenter', operation: 'Apply' }] },
      };
      this.served.set(desired, live);
    }
    return live;
  }

  async observe(cluster: string, manifests: KubeObject[]): Promise<ObservedObject[]> {
    const perKind = new Map<string, number>();
    for (const m of manifests) perKind.set(`${m.apiVersion} ${m.kind}`, (perKind.get(`${m.apiVersion} ${m.kind}`) ?? 0) + 1);
    for (const count of perKind.values()) this.reads += Math.max(1, Math.ceil(count / LIST_PAGE_SIZE));
    return manifests.map((manifest) => {
      const prepared = prepareForApply(manifest, manifest.metadata.namespace);
      const live = this.live(cluster, prepared, manifest);
      if (live === undefined) this.reads += 1;
      const owner = ownerOf(prepared.metadata.labels);
      const drift: ObservedObject = owner ? detectDrift(prepared, live, owner) : { ref: objectRef(prepared), state: 'foreign' };
      return drift.state === 'modified' ? { ...drift, live } : drift;
    });
  }

  async apply(cluster: string, manifests: KubeObject[]) {
    // The adapter reads what it applies (one list per kind and namespace here: one object each), then writes.
    this.reads += manifests.length;
    this.writes += manifests.length;
    for (const m of manifests) this.changed.delete(`${cluster} ${refKey(objectRef(m))}`);
    return { cluster, objects: manifests.map((m) => ({ ref: objectRef(m), changed: true })) };
  }

  async ingressAddresses(cluster: string, ingress: { name: string }): Promise<string[]> {
    this.reads += 1;
    return [ingressAddress(cluster, Number(ingress.name.slice('app-'.length)))];
  }

  /** One list of the namespace (one page: 10 Ingresses); namespace team-k holds apps k, k + 50, ... */
  async ingressAddressesIn(cluster: string, namespace: string): Promise<Map<string, string[]>> {
    this.reads += 1;
    const k = Number(namespace.slice('team-'.length));
    const addresses = new Map<string, string[]>();
    for (let i = k; i < APPS; i += NAMESPACES) addresses.set(`app-${i}`, [ingressAddress(cluster, i)]);
    return addresses;
  }
}

const ingressAddress = (cluster: string, i: number) => `10.${Number(cluster.slice(1))}.${Math.floor(i / 256)}.${i % 256}`;

/** Counts the run store's calls (each one request to Tablestore in the cloud). */
function counting(store: RunStore): { store: RunStore; reads: () => number; writes: () => number; reset: () => void } {
  let reads = 0;
  let writes = 0;
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (/^(get|list)/.test(String(prop))) reads += 1;
        else if (/^(put|create|update|save|claim|record|complete|release)/.test(String(prop))) writes += 1;
        return value.apply(target, args);
      };
    },
  });
  const reset = () => {
    reads = 0;
    writes = 0;
  };
  return { store: proxy, reads: () => reads, writes: () => writes, reset };
}

const peakRssMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

export async function run(): Promise<Record<string, unknown>> {
  const clock = new ManualClock(T0);
  const fleet = registry();
  const clusters = fleet.clusters.map((c) => c.name);
  const sqlite = new SqliteRunStore({ path: ':memory:' });
  const counted = counting(sqlite);
  const objects = new MemoryObjects();
  const gateway = new FleetGateway();
  const instances = Array.from({ length: APPS }, (_, i) => `gtm-fleet-${i}`);
  const setupStarted = performance.now();

  const apps: Array<{ app: { namespace: string; name: string }; policy: TrafficPolicy; instanceId: string }> = [];
  for (let i = 0; i < APPS; i++) {
    const app = { namespace: `team-${i % NAMESPACES}`, name: `app-${i}` };
    const manifests = manifestsOf(app);
    const policy = trafficPolicy(app, instances[i] as string);
    const plan: Plan = {
      app,
      publishVersion: 'v1',
      contentHash: `hash-${i}`,
      steps: [
        {
          name: 'deploy',
          type: 'deploy',
          needsApproval: false,
          parallelism: 5,
          timeoutMs: 600_000,
          targets: clusters.map((cluster) => ({ cluster, manifests })),
        },
      ],
      traffic: [policy],
    };
    const packed = packRelease(plan);
    for (const pack of packed.packs) await objects.put(pack.digest, pack.data);
    const releaseId = `${app.namespace}/${app.name}/v1`;
    await sqlite.putRelease({
      id: releaseId,
      app,
      publishVersion: 'v1',
      contentHash: plan.contentHash,
      createdAt: T0,
      plan: packed.plan,
      source: { bucket: 'b', key: `bundles/${app.namespace}/${app.name}.yaml`, etag: 'e' },
    });
    const created = createRun({ id: `run-${i}`, releaseId, plan }, T0);
    const finished = {
      ...created,
      phase: 'running' as const,
      currentStep: 1,
      endedAt: T0,
      reason: 'all steps succeeded',
      steps: created.steps.map((s) => ({
        ...s,
        phase: 'succeeded' as const,
        tasks: s.tasks.map((t) => ({ ...t, status: 'done' as const, attempt: 2 })),
      })),
    };
    await sqlite.createRun(finished);
    await sqlite.saveApp({ app, currentRunId: finished.id, lastReleaseId: releaseId, updatedAt: T0, version: 0 }, null);
    // What its ingest claimed: the GTM instance and the domain, checked by every reconcile.
    await claimTrafficAtIngest(sqlite, app, [policy], undefined, T0, silentLogger);
    apps.push({ app, policy, instanceId: instances[i] as string });
  }
  const setupMs = Math.round(performance.now() - setupStarted);

  const deps = {
    store: counted.store,
    queue: { send: async () => {} },
    gateway: gateway as unknown as ClusterGateway,
    bundles: undefined as never,
    manifests: new ReleaseManifests(objects),
    registry: async () => fleet,
    clock,
    logger: silentLogger,
    newId: () => 'id',
    healthWait: { totalMs: 0, pollMs: 0 },
  } satisfies WorkflowDeps;

  const sweepRound = async () => {
    counted.reset();
    gateway.reads = 0;
    gateway.writes = 0;
    const objectReads = objects.reads.length;
    const started = performance.now();
    const swept = await sweepRuns(deps);
    const drift = await sweepDrift(deps);
    const ms = Math.round(performance.now() - started);
    const reads = { store: counted.reads(), releaseObjects: objects.reads.length - objectReads, clusterApi: gateway.reads };
    const modelledS = (reads.store * RTT_MS.store + reads.releaseObjects * RTT_MS.objects + (reads.clusterApi * RTT_MS.kube) / 8) / 1000;
    return {
      wallMs: ms,
      reads,
      writes: { store: counted.writes(), clusterApi: gateway.writes },
      swept,
      drift: { ...drift, unobserved: drift.unobserved.length },
      modelledWallS: Number(modelledS.toFixed(1)),
      peakRssMB: peakRssMB(),
    };
  };

  /**
   * State keeping split by cluster, through deploy-step's handler: the timer's invocation (run sweep,
   * the kept runs read, shards sent) and each shard as its own invocation, in a fresh instance (its
   * own release-pack cache, cold). Per invocation: reads, CPU, heap growth, modelled wall.
   */
  const sweepSplit = async (): Promise<Record<string, unknown>> => {
    const sent: DriftShardMessage[] = [];
    const invocationOf = async (event: object, fresh: boolean) => {
      counted.reset();
      gateway.reads = 0;
      gateway.writes = 0;
      const objectReads = objects.reads.length;
      const instance: DeployStepDeps = {
        ...deps,
        ...(fresh ? { manifests: new ReleaseManifests(objects) } : {}),
        driftShards: { send: async (messages) => void sent.push(...messages) },
        keepState: { pairsPerInvocation: SHARD_PAIRS },
      };
      const heap = heapSampler();
      const cpu = process.cpuUsage();
      const summary = (await createDeployStepHandler(async () => instance)(Buffer.from(JSON.stringify(event)), {
        requestId: 'fleet-sweep',
      })) as TimerSummary | DriftShardSummary;
      const { user, system } = process.cpuUsage(cpu);
      const memory = heap.stop();
      const reads = { store: counted.reads(), releaseObjects: objects.reads.length - objectReads, clusterApi: gateway.reads };
      const modelledS = (reads.store * RTT_MS.store + reads.releaseObjects * RTT_MS.objects + (reads.clusterApi * RTT_MS.kube) / 8) / 1000;
      return {
        summary,
        reads,
        writes: { store: counted.writes(), clusterApi: gateway.writes },
        modelledWallS: Number(modelledS.toFixed(1)),
        cpuS: Number(((user + system) / 1e6 - memory.gcCpuS).toFixed(1)),
        heap: { livePeakGrowthMB: memory.livePeakGrowthMB, peakGrowthMB: memory.peakGrowthMB },
      };
    };
    clock.set(T0);
    const timer = await invocationOf({ triggerTime: new Date(T0).toISOString(), triggerName: 'every-minute', payload: '' }, false);
    const shards: Array<Awaited<ReturnType<typeof invocationOf>>> = [];
    for (const message of [...sent]) shards.push(await invocationOf(message, true));
    const max = (f: (s: (typeof shards)[number]) => number) => Math.max(...shards.map(f));
    const timerSummary = timer.summary as TimerSummary;
    return {
      pairsPerInvocation: SHARD_PAIRS,
      defaultPairsPerInvocation: DEFAULT_KEEP_STATE.pairsPerInvocation,
      timer: {
        split: timerSummary.split,
        reads: timer.reads,
        // Its store reads, and the shards' FC async invocations (8 at a time).
        modelledWallS: Number((timer.modelledWallS + (sent.length * RTT_MS.fcInvoke) / 1000 / 8).toFixed(1)),
        cpuS: timer.cpuS,
      },
      shards: shards.length,
      perShard: shards.map((s) => {
        const shard = s.summary as DriftShardSummary;
        return {
          clusters: shard.clusters.length,
          apps: shard.drift?.apps,
          objects: shard.drift?.objects,
          reads: s.reads,
          modelledWallS: s.modelledWallS,
          cpuS: s.cpuS,
          heap: s.heap,
        };
      }),
      // Shards run side by side (deploy-step has no reserved concurrency): the round takes the slowest.
      roundModelledWallS: Number((timer.modelledWallS + max((s) => s.modelledWallS + s.cpuS)).toFixed(1)),
      withinTimeout: max((s) => s.modelledWallS + s.cpuS) < LIMITS['deploy-step'].timeoutS,
      heapPeakGrowthMBMax: max((s) => s.heap.peakGrowthMB),
    };
  };

  const parts = process.env.FLEET_PARTS ?? 'sweep,traffic';
  const sweep = parts.includes('sweep') ? await sweepPart(sweepRound, gateway, clusters, apps, sweepSplit) : 'skipped (FLEET_PARTS)';

  // The traffic rounds, through gtm-reconcile's handler.
  const fake = new FakeAlidns({ endpoint: ENDPOINT, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances });
  const server = setupServer(...fake.handlers());
  server.listen({ onUnhandledRequest: 'error' });
  const history = new MemoryTrafficHistoryStore();
  const gtms = new Map(instances.map((id) => [id, new AlidnsGtm({ endpoint: ENDPOINT, instanceId: id, credentials: KEY })]));
  const appOfInstance = new Map(apps.map((a) => [a.instanceId, a.app]));
  /** Instances in the order the round first asked for them: the order its applications started in. */
  let started: string[] = [];
  const trafficDeps = (shards?: TrafficDeps['shards'], round: TrafficDeps['round'] = {}): TrafficDeps => ({
    store: counted.store,
    registry: async () => fleet,
    gateway,
    gtmFor: (instanceId) => {
      if (instanceId && !started.includes(instanceId)) started.push(instanceId);
      return gtms.get(instanceId ?? '') as AlidnsGtm;
    },
    history,
    clock,
    logger: silentLogger,
    dryRun: false,
    ...(shards ? { shards } : {}),
    round,
  });
  const handlerOf = (deps: TrafficDeps) => createGtmReconcileHandler(async () => deps);
  const timerEvent = Buffer.from(JSON.stringify({ triggerTime: new Date(T0).toISOString(), triggerName: 'every-minute', payload: '' }));

  /** One invocation: its reads and writes, CPU, heap growth, and its modelled wall (modelInvocation). */
  const invocation = async (invoke: () => Promise<RoundSummary>) => {
    for (const gtm of gtms.values()) Object.assign(gtm.stats, { reads: 0, writes: 0, retries: 0, byAction: {} });
    gateway.reads = 0;
    counted.reset();
    started = [];
    const heap = heapSampler();
    const cpu = process.cpuUsage();
    const wallStarted = performance.now();
    const summary = await invoke();
    const wallMs = Math.round(performance.now() - wallStarted);
    const { user, system } = process.cpuUsage(cpu);
    const memory = heap.stop();
    const perApp = started.map((id) => {
      const stats = (gtms.get(id) as AlidnsGtm).stats;
      return { namespace: (appOfInstance.get(id) as { namespace: string }).namespace, gtmCalls: stats.reads + stats.writes };
    });
    const gtmReads = [...gtms.values()].reduce((sum, g) => sum + g.stats.reads, 0);
    const gtmWrites = [...gtms.values()].reduce((sum, g) => sum + g.stats.writes, 0);
    const storeReads = counted.reads();
    return {
      mode: summary.mode,
      apps: summary.apps,
      reconciled: summary.reconciled,
      deferred: summary.deferred.length,
      changes: summary.changes,
      reads: { store: storeReads, clusterApi: gateway.reads, gtm: gtmReads },
      writes: { gtm: gtmWrites },
      modelledWallS: modelInvocation(perApp, storeReads, summary),
      // The fakes' and SQLite's CPU included (an upper bound), the sampler's forced GCs not.
      cpuS: Number(((user + system) / 1e6 - memory.gcCpuS).toFixed(1)),
      wallMs,
      heap: { livePeakGrowthMB: memory.livePeakGrowthMB, peakGrowthMB: memory.peakGrowthMB, retainedMB: memory.retainedMB },
      ...(summary.shards === undefined ? {} : { shards: summary.shards }),
    };
  };
  const single = () => invocation(async () => (await handlerOf(trafficDeps())(timerEvent, { requestId: 'fleet' })) as RoundSummary);

  /** The split round: the timer's invocation sends shards; each is then its own invocation, one after the other (reservedConcurrency 1). */
  const split = async () => {
    const sent: TrafficShardMessage[] = [];
    const capture = { send: async (messages: readonly TrafficShardMessage[]) => void sent.push(...messages) };
    const timer = await invocation(
      async () =>
        (await handlerOf(trafficDeps(capture, { appsPerInvocation: SHARD_APPS }))(timerEvent, {
          requestId: 'fleet-timer',
        })) as RoundSummary,
    );
    const shards = [];
    for (const [i, message] of sent.entries()) {
      const event = Buffer.from(JSON.stringify(message));
      shards.push(await invocation(async () => (await handlerOf(trafficDeps())(event, { requestId: `fleet-shard-${i}` })) as RoundSummary));
    }
    const walls = shards.map((s) => s.modelledWallS);
    return {
      appsPerInvocation: SHARD_APPS,
      timer: { ...timer, modelledWallS: Number((timer.modelledWallS + (sent.length * (RTT_MS.fcInvoke / 1000)) / 8).toFixed(1)) },
      shards: shards.length,
      perShard: {
        modelledWallS: { max: Math.max(...walls), sum: Number(walls.reduce((a, b) => a + b, 0).toFixed(1)) },
        reads: {
          clusterApi: shards.reduce((sum, s) => sum + s.reads.clusterApi, 0),
          gtm: shards.reduce((sum, s) => sum + s.reads.gtm, 0),
        },
        heapLivePeakGrowthMB: Math.max(...shards.map((s) => s.heap.livePeakGrowthMB)),
        heapPeakGrowthMB: Math.max(...shards.map((s) => s.heap.peakGrowthMB)),
        cpuS: Math.max(...shards.map((s) => s.cpuS)),
      },
    };
  };

  try {
    clock.set(T0);
    const build = await single();
    // The round after the build re-reads every GTM setting (the build's writes dropped their cache),
    // as every round does once in 15 minutes; the rounds in between take them from the cache.
    clock.set(T0 + 60_000);
    const verifying = await single();
    clock.set(T0 + 120_000);
    const steadyTraffic = await single();
    clock.set(T0 + 180_000);
    const splitRound = await split();
    const worst = [build, verifying, steadyTraffic];
    const base = functionBaseRssMB();
    const baseMB = base ?? 0;
    const gtmLimits = LIMITS['gtm-reconcile'];
    return {
      clusters: CLUSTERS,
      apps: APPS,
      deployedObjects: CLUSTERS * APPS * 4,
      setupMs,
      rttAssumedMs: RTT_MS,
      sweep,
      traffic: {
        limits: gtmLimits,
        round: { concurrency: DEFAULT_ROUND.concurrency, budgetS: DEFAULT_ROUND.budgetMs / 1000 },
        functionBaseRssMB: base ?? 'unknown: dist/gtm-reconcile is not built (npm run build)',
        singleInstance: {
          firstBuild: build,
          verifyingSettings: verifying,
          steady: steadyTraffic,
          // Within the budget (no application left over) even when the CPU measured here did not overlap the waiting at all.
          withinTimeout: Math.max(...worst.map((r) => r.modelledWallS + r.cpuS)) < DEFAULT_ROUND.budgetMs / 1000,
          // The heap the round grew by (garbage included) on top of the function's process with all its code loaded.
          withinMemory: Math.max(...worst.map((r) => r.heap.peakGrowthMB)) + baseMB < gtmLimits.memoryMB,
        },
        split: {
          ...splitRound,
          withinTimeout: splitRound.perShard.modelledWallS.max + splitRound.perShard.cpuS < DEFAULT_ROUND.budgetMs / 1000,
          // The shards of one minute run one after the other (reservedConcurrency 1): they must end within the minute.
          keepsUpWithTheTimer: splitRound.timer.modelledWallS + splitRound.perShard.modelledWallS.sum < 60,
          withinMemory: splitRound.perShard.heapPeakGrowthMB + baseMB < gtmLimits.memoryMB,
        },
        peakRssMB: peakRssMB(),
      },
    };
  } finally {
    server.close();
    await sqlite.close();
  }
}

/**
 * The wall of one invocation with network round trips: the applications in the order they started,
 * each taking its GTM calls one after the other (50 ms each), its run-store reads (the invocation's
 * average), and one kube round trip when it was the first of its namespace (that namespace's lists,
 * in parallel over the clusters; the others wait for the same lists), spread over
 * `concurrency` workers as the handler's pool spreads them (each takes the next when it is free).
 */
function modelInvocation(perApp: Array<{ namespace: string; gtmCalls: number }>, storeReads: number, summary: RoundSummary): number {
  if (perApp.length === 0) return Number(((storeReads * RTT_MS.store) / 1000).toFixed(1));
  const storePerApp = storeReads / Math.max(1, summary.apps);
  const listed = new Set<string>();
  const workers: number[] = Array.from({ length: Math.min(DEFAULT_ROUND.concurrency, perApp.length) }, () => 0);
  for (const app of perApp) {
    const first = !listed.has(app.namespace);
    listed.add(app.namespace);
    const ms = app.gtmCalls * RTT_MS.gtm + storePerApp * RTT_MS.store + (first ? RTT_MS.kube : 0);
    const free = workers.indexOf(Math.min(...workers));
    workers[free] = (workers[free] as number) + ms;
  }
  // Before the pool: the app list (paged, 100 a page).
  const listing = Math.ceil(summary.apps / 100) * RTT_MS.store;
  return Number(((Math.max(...workers) + listing) / 1000).toFixed(1));
}

/**
 * A GC now, then the heap watched until stop(): heapUsed every 5 ms (the peak V8 let it reach,
 * garbage included), and every second after a forced GC (what the round really holds then, the
 * live peak). The forced GCs' CPU is counted apart so that it can be taken out of the round's CPU.
 */
function heapSampler(): { stop: () => { peakGrowthMB: number; livePeakGrowthMB: number; retainedMB: number; gcCpuS: number } } {
  collectGarbage();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  let livePeak = base;
  let gcCpu = 0;
  const fast = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 5);
  const slow = setInterval(() => {
    const cpu = process.cpuUsage();
    collectGarbage();
    livePeak = Math.max(livePeak, process.memoryUsage().heapUsed);
    const used = process.cpuUsage(cpu);
    gcCpu += used.user + used.system;
  }, 1_000);
  return {
    stop() {
      clearInterval(fast);
      clearInterval(slow);
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      collectGarbage();
      const after = process.memoryUsage().heapUsed;
      const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
      return {
        peakGrowthMB: mb(peak - base),
        livePeakGrowthMB: mb(Math.max(livePeak, after) - base),
        retainedMB: mb(Math.max(0, after - base)),
        gcCpuS: gcCpu / 1e6,
      };
    },
  };
}

/** RSS of a fresh Node process that loaded every module of the built gtm-reconcile (its adapters and SDKs too): what the function holds before any round. */
function functionBaseRssMB(): number | undefined {
  const dir = new URL('../dist/gtm-reconcile/', import.meta.url);
  if (!existsSync(new URL('index.mjs', dir))) return undefined;
  const script = `import { readdirSync } from 'node:fs';
    const dir = ${JSON.stringify(dir.href)};
    for (const f of readdirSync(new URL(dir)).filter((f) => f.endsWith('.mjs'))) await import(dir + f);
    process.stdout.write(String(process.memoryUsage().rss));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const rss = Number(child.stdout);
  return child.status === 0 && rss > 0 ? Math.round(rss / 1024 / 1024) : undefined;
}

let gc: (() => void) | undefined;
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

type SweepRound = () => Promise<{ modelledWallS: number } & Record<string, unknown>>;

/** The sweep's rounds: cold, after drift was made on 1 object in DRIFT_EVERY, steady. */
async function sweepPart(
  sweepRound: SweepRound,
  gateway: FleetGateway,
  clusters: string[],
  apps: Array<{ app: { namespace: string; name: string } }>,
  split: () => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const cold = await sweepRound();
  // Drift on 1 object in DRIFT_EVERY: every other one edited (replicas), the rest deleted.
  let n = 0;
  for (const [ci, cluster] of clusters.entries()) {
    for (const [ai, { app }] of apps.entries()) {
      if ((ci * APPS + ai) % (DRIFT_EVERY / 4) !== 0) continue;
      const deployment = manifestsOf(app)[2] as KubeObject;
      const key = `${cluster} ${refKey(objectRef(deployment))}`;
      gateway.changed.set(
        key,
        n++ % 2 === 0 ? { ...withAppliedHash(deployment), spec: { ...(deployment.spec as object), replicas: 1 } } : null,
      );
    }
  }
  const driftedRound = await sweepRound();
  const steady = await sweepRound();
  // The same fleet split into drift shards of SHARD_PAIRS pairs (FLEET_PARTS=sweep,no-split leaves it out).
  const splitRound = process.env.FLEET_PARTS?.includes('no-split') ? 'skipped (FLEET_PARTS)' : await split();
  return {
    limits: LIMITS['deploy-step'],
    cold,
    drifted: driftedRound,
    steady,
    split: splitRound,
    withinTimeout: Math.max(cold.modelledWallS, driftedRound.modelledWallS, steady.modelledWallS) < LIMITS['deploy-step'].timeoutS,
    withinMemory: peakRssMB() < LIMITS['deploy-step'].memoryMB,
  };
}
