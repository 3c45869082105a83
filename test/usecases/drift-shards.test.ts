/**
 * State keeping split beyond one invocation: deploy-step's timer, past `pairsPerInvocation`
 * cluster x application pairs, sends `drift-shard` messages of clusters through the task queue
 * (the in-process queue; FC async invocations of deploy-step itself behind the msw FC fake), and
 * each shard observes and heals only its clusters. The run store is the real SQLite one, release
 * objects real packs in memory, the cluster gateway a double that keeps live objects per cluster
 * and compares with the real pure drift check (model/drift.ts).
 */
import { setupServer } from 'msw/node';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createDeployStepHandler,
  type DeployStepDeps,
  type DriftShardMessage,
  type DriftShardSummary,
  type TimerSummary,
} from '#functions/deploy-step/handler.ts';
import { DEFAULT_KEEP_STATE, driftShardsOf } from '#functions/deploy-step/shards.ts';
import { createFcTaskQueue } from '#shared/delivery/adapters/aliyun/fc-task-queue.ts';
import { prepareForApply } from '#shared/delivery/adapters/kube/manifests.ts';
import { InProcessQueue } from '#shared/delivery/adapters/local/in-process-queue.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { withAppliedHash } from '#shared/delivery/model/applied-hash.ts';
import { clusterRegistrySchema } from '#shared/delivery/model/clusters.ts';
import { detectDrift, type ObservedObject } from '#shared/delivery/model/drift.ts';
import { objectRef, refKey, type KubeObject } from '#shared/delivery/model/kube.ts';
import {
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  ownerOf,
  type AppRef,
} from '#shared/delivery/model/ownership.ts';
import type { Plan } from '#shared/delivery/model/plan.ts';
import { packRelease } from '#shared/delivery/model/release-packs.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { staticCredentials } from '#shared/platform/credentials.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { DRIFT_SHARD_MAX_CLUSTERS } from '#shared/platform/triggers/async-invocation.ts';
import { FakeFc } from '../aliyun/fc-msw.ts';
import { MemoryObjects } from './memory-objects.ts';

const T0 = 1_700_000_000_000;
const CLUSTERS = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'];
const timer = { triggerTime: '2023-11-14T22:13:20Z', triggerName: 'every-minute', payload: '' };

function manifestOf(app: AppRef): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: app.name,
      namespace: app.namespace,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: app.namespace, [LABEL_APP_NAME]: app.name },
    },
    data: { app: app.name },
  };
}

/** Live objects per cluster, as the API servers would answer; every observe and apply is logged by cluster. */
class ShardGateway implements Pick<ClusterGateway, 'observe' | 'apply'> {
  readonly deleted = new Set<string>();
  readonly observed: string[] = [];
  readonly applied: string[] = [];

  async observe(cluster: string, manifests: KubeObject[]): Promise<ObservedObject[]> {
    this.observed.push(cluster);
    return manifests.map((manifest) => {
      const prepared = prepareForApply(manifest, manifest.metadata.namespace);
      const live = this.deleted.has(`${cluster} ${refKey(objectRef(prepared))}`) ? undefined : withAppliedHash(prepared);
      const owner = ownerOf(prepared.metadata.labels);
      return owner ? detectDrift(prepared, live, owner) : { ref: objectRef(prepared), state: 'foreign' };
    });
  }

  async apply(cluster: string, manifests: KubeObject[]) {
    for (const m of manifests) {
      this.applied.push(`${cluster} ${m.metadata.name}`);
      this.deleted.delete(`${cluster} ${refKey(objectRef(m))}`);
    }
    return { cluster, objects: manifests.map((m) => ({ ref: objectRef(m), changed: true })) };
  }

  /** Deletes every application's object on these clusters. */
  deleteOn(clusters: readonly string[], apps: readonly AppRef[]): void {
    for (const cluster of clusters) for (const app of apps) this.deleted.add(`${cluster} ${refKey(objectRef(manifestOf(app)))}`);
  }
}

/** Applications deployed to `clusters`, their runs ended `running`. */
async function deploy(store: SqliteRunStore, objects: MemoryObjects, apps: Array<{ app: AppRef; clusters: string[] }>): Promise<void> {
  for (const [i, { app, clusters }] of apps.entries()) {
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
          targets: clusters.map((cluster) => ({ cluster, manifests: [manifestOf(app)] })),
        },
      ],
    };
    const packed = packRelease(plan);
    for (const pack of packed.packs) await objects.put(pack.digest, pack.data);
    const releaseId = `${app.namespace}/${app.name}/v1`;
    await store.putRelease({
      id: releaseId,
      app,
      publishVersion: 'v1',
      contentHash: plan.contentHash,
      createdAt: T0,
      plan: packed.plan,
      source: { bucket: 'b', key: `bundles/${app.name}.yaml`, etag: 'e' },
    });
    const created = createRun({ id: `run-${app.name}`, releaseId, plan }, T0);
    await store.createRun({
      ...created,
      phase: 'running',
      currentStep: 1,
      endedAt: T0,
      steps: created.steps.map((s) => ({ ...s, phase: 'succeeded', tasks: s.tasks.map((t) => ({ ...t, status: 'done', attempt: 1 })) })),
    });
    await store.saveApp({ app, currentRunId: `run-${app.name}`, lastReleaseId: releaseId, updatedAt: T0, version: 0 }, null);
  }
}

/** Counts release reads by release id (a shard reads only the releases deployed to its clusters). */
function countingReleases(store: RunStore, reads: string[]): RunStore {
  return Object.assign(Object.create(store) as RunStore, {
    getRelease: async (id: string) => {
      reads.push(id);
      return store.getRelease(id);
    },
  });
}

const WIDE = ['a', 'b', 'c'].map((name) => ({ app: { namespace: 'team', name }, clusters: CLUSTERS }));
/** Deployed to the first two clusters only. */
const NARROW = { app: { namespace: 'team', name: 'narrow' }, clusters: ['c0', 'c1'] };

describe('state keeping split into drift shards', () => {
  let store: SqliteRunStore;
  let objects: MemoryObjects;
  let gateway: ShardGateway;
  let clock: ManualClock;
  let logger: ReturnType<typeof memoryLogger>;
  let releaseReads: string[];

  beforeEach(async () => {
    store = new SqliteRunStore({ path: ':memory:' });
    objects = new MemoryObjects();
    gateway = new ShardGateway();
    clock = new ManualClock(T0);
    logger = memoryLogger();
    releaseReads = [];
    await deploy(store, objects, [...WIDE, NARROW]);
  });

  const depsOf = (extra: Partial<DeployStepDeps> = {}): DeployStepDeps => ({
    store: countingReleases(store, releaseReads),
    queue: { send: async () => {} },
    gateway: gateway as unknown as ClusterGateway,
    bundles: undefined as never,
    manifests: new ReleaseManifests(objects),
    registry: async () => clusterRegistrySchema.parse({ clusters: CLUSTERS.map((name) => ({ name })) }),
    clock,
    logger,
    newId: () => 'id',
    healthWait: { totalMs: 0, pollMs: 0 },
    ...extra,
  });
  const invoke = (deps: DeployStepDeps, event: object) =>
    createDeployStepHandler(async () => deps)(Buffer.from(JSON.stringify(event)), { requestId: 'req-drift' });
  const healedOn = async (app: AppRef) =>
    ((await store.getRun(`run-${app.name}`))?.driftEvents ?? [])
      .filter((e) => e.action === 'healed')
      .map((e) => e.cluster)
      .sort();
  /** 3 x 6 + 2 pairs: c0 and c1 hold 4 each, c2..c5 hold 3 each. */
  const PAIRS = 3 * CLUSTERS.length + 2;

  it('below the threshold nothing changes: the timer keeps every cluster itself, and sends nothing', async () => {
    const sent: DriftShardMessage[] = [];
    const deps = depsOf({ driftShards: { send: async (m) => void sent.push(...m) }, keepState: { pairsPerInvocation: PAIRS } });
    gateway.deleteOn(['c5'], [WIDE[0]!.app]);
    const summary = (await invoke(deps, timer)) as TimerSummary;
    expect(summary.split).toBeUndefined();
    expect(summary.drift).toMatchObject({ apps: 4, clusters: 6, objects: PAIRS, drifted: 1, healed: 1 });
    expect(sent).toEqual([]);
    expect(gateway.observed.sort()).toEqual(CLUSTERS);
    expect(await healedOn(WIDE[0]!.app)).toEqual(['c5']);
    // Every release read once, as before the split existed.
    expect(releaseReads).toHaveLength(4);
  });

  it('splits through the in-process queue: each shard observes and heals only its clusters', async () => {
    const queue = new InProcessQueue<DriftShardMessage>({ concurrency: 1, maxDeliveries: 1 });
    const deps = depsOf({ driftShards: queue, keepState: { pairsPerInvocation: 7 } });
    const delivered: Array<{ message: DriftShardMessage; observed: string[]; releases: string[]; summary: DriftShardSummary }> = [];
    queue.start(async (message) => {
      const observedBefore = gateway.observed.length;
      const readsBefore = releaseReads.length;
      const summary = (await invoke(deps, message)) as DriftShardSummary;
      delivered.push({
        message,
        observed: gateway.observed.slice(observedBefore),
        releases: releaseReads.slice(readsBefore),
        summary,
      });
    });
    gateway.deleteOn(CLUSTERS, [WIDE[0]!.app]);
    gateway.deleteOn(NARROW.clusters, [NARROW.app]);

    const summary = (await invoke(deps, timer)) as TimerSummary;
    // At most 7 pairs a shard, in registry order: c0 (4), c1 + c2 (4 + 3), c3 + c4 (3 + 3), c5 (3).
    expect(summary.split).toEqual({ pairs: PAIRS, shards: 4 });
    expect(summary.drift).toBeUndefined();
    // The timer itself observed nothing and read no release.
    expect(gateway.observed).toEqual([]);
    expect(releaseReads).toEqual([]);
    await queue.drain();
    await queue.stop();
    expect(queue.deadLetters).toEqual([]);

    expect(delivered.map((d) => d.message.clusters)).toEqual([['c0'], ['c1', 'c2'], ['c3', 'c4'], ['c5']]);
    expect(new Set(delivered.map((d) => d.message.key)).size).toBe(4);
    expect(delivered.every((d) => d.message.type === 'drift-shard' && d.message.roundAt === T0)).toBe(true);
    for (const d of delivered) {
      expect(d.summary.mode).toBe('kept');
      expect(d.observed.sort()).toEqual(d.message.clusters);
      // Only the applications deployed to its clusters: the narrow one's release is not read past c1.
      const narrowRead = d.releases.includes('team/narrow/v1');
      expect(narrowRead).toBe(d.message.clusters.some((c) => NARROW.clusters.includes(c)));
    }
    expect(gateway.applied.filter((a) => a.endsWith(' a')).sort()).toEqual(CLUSTERS.map((c) => `${c} a`));
    expect(await healedOn(WIDE[0]!.app)).toEqual(CLUSTERS);
    expect(await healedOn(NARROW.app)).toEqual(['c0', 'c1']);
    expect(gateway.deleted.size).toBe(0);
  });

  it('on the cloud path the shards are FC async invocations of deploy-step itself, and what FC delivers heals every cluster once', async () => {
    const server = setupServer();
    server.listen({ onUnhandledRequest: 'error' });
    try {
      const endpoint = 'https://1234567890.cn-hangzhou.fc.aliyuncs.com';
      const sts = { accessKeyId: 'STS.drift-shards', accessKeySecret: 'shard-secret', securityToken: 'shard-token' };
      const fc = new FakeFc({
        endpoint,
        functions: ['tricenter-deploy-step'],
        keys: { [sts.accessKeyId]: { secret: sts.accessKeySecret, stsToken: sts.securityToken } },
      });
      server.resetHandlers(...fc.handlers());
      const driftShards = createFcTaskQueue<DriftShardMessage>({
        region: 'cn-hangzhou',
        accountId: '1234567890',
        functionName: 'tricenter-deploy-step',
        endpoint,
        credentials: staticCredentials(sts),
        sleep: async () => {},
      });
      const deps = depsOf({ driftShards, keepState: { pairsPerInvocation: 10 } });
      gateway.deleteOn(CLUSTERS, [WIDE[1]!.app]);
      expect(await invoke(deps, timer)).toMatchObject({ split: { pairs: PAIRS, shards: 3 } });
      expect(gateway.observed).toEqual([]);
      expect(fc.invocations.map((i) => [i.functionName, i.invocationType, i.status])).toEqual([
        ['tricenter-deploy-step', 'Async', 202],
        ['tricenter-deploy-step', 'Async', 202],
        ['tricenter-deploy-step', 'Async', 202],
      ]);
      expect(new Set(fc.invocations.map((i) => i.taskId)).size).toBe(3);
      for (const invocation of fc.invocations) {
        const event = JSON.parse(invocation.body.toString('utf8')) as DriftShardMessage;
        expect(await invoke(deps, event)).toMatchObject({ mode: 'kept', clusters: event.clusters });
      }
      expect(gateway.observed.sort()).toEqual(CLUSTERS);
      expect(await healedOn(WIDE[1]!.app)).toEqual(CLUSTERS);
    } finally {
      server.close();
    }
  });

  it('abuse: a stale shard is skipped without a cluster read; a shard naming a cluster outside the registry is refused whole', async () => {
    gateway.deleteOn(['c0'], [WIDE[0]!.app]);
    const deps = depsOf();
    const stale = { key: 'k', type: 'drift-shard', roundAt: T0 - DEFAULT_KEEP_STATE.staleShardAfterMs - 1, clusters: ['c0'] };
    expect(await invoke(deps, stale)).toEqual({ mode: 'stale-shard', clusters: ['c0'] });
    expect(logger.lines.some((l) => l.msg === 'stale drift shard skipped: a newer round has sent its clusters again')).toBe(true);

    // A known cluster beside a forged one: nothing observed, not even the known one.
    const forged = { key: 'forged', type: 'drift-shard', roundAt: T0, clusters: ['c0', 'evil-cluster'] };
    await expect(invoke(deps, forged)).rejects.toThrow(
      /drift shard forged: clusters\[1\] "evil-cluster" not in the cluster registry; the shard is refused/,
    );
    // Too many clusters, none, an empty name, an extra field: refused by the trigger schema.
    const many = Array.from({ length: DRIFT_SHARD_MAX_CLUSTERS + 1 }, () => 'c0');
    for (const clusters of [many, [], ['']]) await expect(invoke(deps, { type: 'drift-shard', roundAt: T0, clusters })).rejects.toThrow();
    await expect(invoke(deps, { type: 'drift-shard', roundAt: T0, clusters: ['c0'], apps: ['x'] })).rejects.toThrow();
    expect(gateway.observed).toEqual([]);
    expect(gateway.applied).toEqual([]);
    expect(releaseReads).toEqual([]);

    // A cluster named twice is observed once.
    expect(await invoke(deps, { type: 'drift-shard', roundAt: T0, clusters: ['c0', 'c0'] })).toMatchObject({
      mode: 'kept',
      clusters: ['c0'],
      drift: { clusters: 1, healed: 1 },
    });
    expect(gateway.observed).toEqual(['c0']);
  });

  it('a shard that fails leaves the others whole, and the next round keeps what it missed', async () => {
    const queue = new InProcessQueue<DriftShardMessage>({ concurrency: 1, maxDeliveries: 1 });
    const deps = depsOf({ driftShards: queue, keepState: { pairsPerInvocation: 7 } });
    // The instance that gets the shard of c3 and c4 cannot read the run store.
    const broken: DeployStepDeps = {
      ...deps,
      store: Object.assign(Object.create(store) as RunStore, {
        listApps: async () => {
          throw new Error('OTSServerUnavailable: try again later');
        },
      }),
    };
    queue.start(async (message) => {
      await invoke(message.clusters.includes('c3') ? broken : deps, message);
    });
    gateway.deleteOn(CLUSTERS, [WIDE[2]!.app]);
    expect(await invoke(deps, timer)).toMatchObject({ split: { shards: 4 } });
    await queue.drain();
    await queue.stop();
    expect(queue.deadLetters.map((d) => d.message.clusters)).toEqual([['c3', 'c4']]);
    expect(queue.deadLetters[0]?.error).toMatch(/OTSServerUnavailable/);
    expect(await healedOn(WIDE[2]!.app)).toEqual(['c0', 'c1', 'c2', 'c5']);
    expect([...gateway.deleted].sort()).toEqual(['c3 v1 ConfigMap team/c', 'c4 v1 ConfigMap team/c'].sort());

    // The next round's shards reach c3 and c4.
    clock.advance(60_000);
    const next = new InProcessQueue<DriftShardMessage>({ concurrency: 1, maxDeliveries: 1 });
    next.start(async (message) => void (await invoke(deps, message)));
    await invoke({ ...deps, driftShards: next }, timer);
    await next.drain();
    await next.stop();
    expect(await healedOn(WIDE[2]!.app)).toEqual(CLUSTERS);
    expect(gateway.deleted.size).toBe(0);
  });

  it('without a queue the timer keeps every cluster itself, however many pairs', async () => {
    const summary = (await invoke(depsOf({ keepState: { pairsPerInvocation: 1 } }), timer)) as TimerSummary;
    expect(summary.split).toBeUndefined();
    expect(summary.drift).toMatchObject({ clusters: 6, objects: PAIRS });
  });
});

describe('driftShardsOf', () => {
  it('cuts the registry order into consecutive shards of at most the pairs given; a cluster over the limit is alone; none for an idle cluster', () => {
    const pairs = new Map([
      ['a', 3],
      ['b', 3],
      ['c', 9],
      ['d', 1],
      ['e', 0],
      ['f', 2],
    ]);
    expect(driftShardsOf(['a', 'b', 'c', 'd', 'e', 'f', 'g'], pairs, 6)).toEqual([['a', 'b'], ['c'], ['d', 'f']]);
    expect(driftShardsOf(['a', 'b'], pairs, 100)).toEqual([['a', 'b']]);
    expect(driftShardsOf([], pairs, 6)).toEqual([]);
    const wide = Array.from({ length: DRIFT_SHARD_MAX_CLUSTERS + 1 }, (_, i) => `k${i}`);
    const shards = driftShardsOf(wide, new Map(wide.map((c) => [c, 1])), 1_000_000);
    expect(shards.map((s) => s.length)).toEqual([DRIFT_SHARD_MAX_CLUSTERS, 1]);
  });
});
