/**
 * gtm-reconcile's round at fleet scale: Ingresses read once per cluster and namespace per round
 * (never across rounds, never another application's), applications reconciled a few at once within
 * a budget (the rest left whole for the next round), and a timer round too large for one invocation
 * sent on as shards through the task queue (the in-process queue here). GTM is the Alidns fake
 * behind msw (one 2.0 instance per application, as claims require); the cluster gateway a double
 * answering `ingressAddressesIn`; the run store a double holding each application's release.
 */
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGtmReconcileHandler,
  type RoundSummary,
  type TrafficDeps,
  type TrafficShardMessage,
} from '#functions/gtm-reconcile/handler.ts';
import { byNamespace, rotateForRound, runPool, shardsOf } from '#functions/gtm-reconcile/round.ts';
import { createFcTaskQueue } from '#shared/delivery/adapters/aliyun/fc-task-queue.ts';
import { InProcessQueue } from '#shared/delivery/adapters/local/in-process-queue.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import type { AppRecord, Release } from '#shared/delivery/model/records.ts';
import type { TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { staticCredentials } from '#shared/platform/credentials.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { TRAFFIC_SHARD_MAX_APPS } from '#shared/platform/triggers/async-invocation.ts';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { ownedPoolName } from '#shared/traffic/domain/gtm.ts';
import { roundObserver } from '#shared/traffic/usecases/round-observer.ts';
import { FakeFc } from '../aliyun/fc-msw.ts';
import { FakeAlidns } from './alidns-msw.ts';
import { claimsHeld } from './claims-held.ts';
import { seedPolicy, seedRegistry } from './fixtures.ts';

const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-round', accessKeySecret: 'round-secret' };
const T0 = 1_700_000_000_000;
const CLUSTERS = ['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou'];
const WRITES = /^(Add|Update|Set|Delete)/;

interface FleetApp {
  app: AppRef;
  policy: TrafficPolicy;
  instance: string;
}

const instanceOf = (app: AppRef) => `gtm-${app.namespace}-${app.name}`;

function fleetApp(app: AppRef, ingress = app.name): FleetApp {
  const policy = seedPolicy();
  policy.metadata = { ...policy.metadata, namespace: app.namespace, name: app.name };
  policy.spec.domain = `${app.name}.${app.namespace}.example.com`;
  policy.spec.gtmInstanceId = instanceOf(app);
  policy.spec.ingress = { name: ingress };
  return { app, policy, instance: instanceOf(app) };
}

/** The run store reads the handler makes, for these applications: app records (paged), run, release, claims. */
function storeOf(apps: FleetApp[]): RunStore {
  const byKey = new Map(apps.map((a) => [`${a.app.namespace}/${a.app.name}`, a]));
  const find = (app: AppRef) => byKey.get(`${app.namespace}/${app.name}`);
  const records: AppRecord[] = apps.map((a) => ({
    app: a.app,
    currentRunId: `run/${a.app.namespace}/${a.app.name}`,
    updatedAt: T0,
    version: 1,
  }));
  const double: Pick<RunStore, 'getApp' | 'getRun' | 'getRelease' | 'getTrafficClaim' | 'listApps'> = {
    getApp: async (app) => records.find((r) => r.app.namespace === app.namespace && r.app.name === app.name),
    getRun: async (id) => ({ id, releaseId: id.replace(/^run\//, 'rel/') }) as unknown as Awaited<ReturnType<RunStore['getRun']>>,
    getRelease: async (id) => {
      const [, namespace = '', name = ''] = id.split('/');
      const held = find({ namespace, name });
      return held ? ({ id, plan: { traffic: [held.policy] } } as unknown as Release) : undefined;
    },
    getTrafficClaim: async (resource) => {
      for (const a of apps) {
        const claim = await claimsHeld(a.policy, a.instance).getTrafficClaim(resource);
        if (claim) return claim;
      }
      return undefined;
    },
    listApps: async (page) => {
      const limit = page?.limit ?? 100;
      const from = page?.cursor ? Number(page.cursor) : 0;
      const items = records.slice(from, from + limit);
      return from + limit < records.length ? { items, nextCursor: String(from + limit) } : { items };
    },
  };
  return double as RunStore;
}

/** Addresses per cluster, namespace and Ingress name; every list is counted. */
function gatewayOf(ingresses: (cluster: string, namespace: string) => Record<string, string[]>, onList?: () => void) {
  const lists: string[] = [];
  return {
    lists,
    gateway: {
      async ingressAddressesIn(cluster: string, namespace: string) {
        lists.push(`${cluster} ${namespace}`);
        onList?.();
        return new Map(Object.entries(ingresses(cluster, namespace)));
      },
    },
  };
}

/** Every application's own Ingress, addressed 10.<cluster>.<namespace>.<app> so that any mix-up shows. */
const addressOf = (cluster: string, app: AppRef) =>
  `10.${CLUSTERS.indexOf(cluster) + 1}.${app.namespace.length}.${Number(app.name.replace(/\D/g, '') || 0)}`;

describe('gtm-reconcile round', () => {
  const server = setupServer();
  let fake: FakeAlidns;
  let logger: ReturnType<typeof memoryLogger>;

  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());

  const setup = (apps: FleetApp[]) => {
    fake = new FakeAlidns({ endpoint: ENDPOINT, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances: apps.map((a) => a.instance) });
    server.resetHandlers(...fake.handlers());
    logger = memoryLogger();
  };
  beforeEach(() => {
    logger = memoryLogger();
  });

  const depsOf = (apps: FleetApp[], gateway: TrafficDeps['gateway'], extra: Partial<TrafficDeps> = {}): TrafficDeps => ({
    store: storeOf(apps),
    registry: async () => seedRegistry(),
    gateway,
    gtmFor: (instanceId) => new AlidnsGtm({ endpoint: ENDPOINT, instanceId: instanceId ?? 'none', credentials: KEY, maxAttempts: 1 }),
    history: new MemoryTrafficHistoryStore(),
    clock: new ManualClock(T0),
    logger,
    dryRun: false,
    ...extra,
  });
  const invoke = (deps: TrafficDeps, event: object) =>
    createGtmReconcileHandler(async () => deps)(Buffer.from(JSON.stringify(event)), { requestId: 'req-round' });
  const timer = { triggerTime: '2023-11-14T22:13:20Z', triggerName: 'every-minute', payload: '' };
  /** The addresses GTM holds in an application's pools (each once). */
  const gtmAddresses = (app: AppRef) =>
    [
      ...new Set(
        [...fake.pools.values()]
          .filter((p) => p.name.startsWith(ownedPoolName(app, '')))
          .flatMap((p) => p.addrs.map((a) => String(a.Addr))),
      ),
    ].sort();
  const expected = (app: AppRef, clusters = CLUSTERS) => clusters.map((c) => addressOf(c, app)).sort();

  it('reads each cluster namespace once per round for all its applications, and again next round', async () => {
    const apps = ['a', 'b'].flatMap((ns) =>
      [1, 2, 3].map((i) => fleetApp({ namespace: `team-${ns}`, name: `app-${ns === 'a' ? i : i + 10}` })),
    );
    setup(apps);
    let moved = false;
    const { gateway, lists } = gatewayOf((cluster, namespace) =>
      Object.fromEntries(
        apps
          .filter((a) => a.app.namespace === namespace)
          .map((a) => [a.app.name, [moved && cluster === 'cluster1-beijing' ? '10.99.0.1' : addressOf(cluster, a.app)]]),
      ),
    );
    const deps = depsOf(apps, gateway);

    const first = (await invoke(deps, timer)) as RoundSummary;
    expect(first).toMatchObject({ mode: 'reconciled', apps: 6, reconciled: 6, deferred: [], observed: { lists: 6, asks: 18 } });
    expect(lists.sort()).toEqual(CLUSTERS.flatMap((c) => [`${c} team-a`, `${c} team-b`]).sort());
    for (const { app } of apps) expect(gtmAddresses(app)).toEqual(expected(app));

    // Nothing is kept across rounds: the next round lists again and sees the address that moved.
    moved = true;
    lists.length = 0;
    const second = (await invoke(deps, timer)) as RoundSummary;
    expect(second.observed).toEqual({ lists: 6, asks: 18 });
    for (const { app } of apps) expect(gtmAddresses(app)).toContain('10.99.0.1');
  });

  it("abuse: app B's round never picks up app A's Ingress, in another namespace or its own", async () => {
    const a = fleetApp({ namespace: 'team-a', name: 'web' });
    const b = fleetApp({ namespace: 'team-b', name: 'web' });
    // C names an Ingress that does not exist in its namespace, beside D's that does.
    const c = fleetApp({ namespace: 'team-c', name: 'app-3' }, 'gone');
    const d = fleetApp({ namespace: 'team-c', name: 'app-4' });
    const apps = [a, b, c, d];
    setup(apps);
    // Only cluster1-beijing holds team-b's Ingress; the other clusters hold team-a's "web" alone.
    const { gateway } = gatewayOf((cluster, namespace): Record<string, string[]> => {
      if (namespace === 'team-a') return { web: ['10.1.1.1'] };
      if (namespace === 'team-b') return cluster === 'cluster1-beijing' ? { web: ['10.2.2.2'] } : {};
      return { 'app-4': [addressOf(cluster, d.app)] };
    });
    await invoke(depsOf(apps, gateway), timer);

    expect(gtmAddresses(a.app)).toEqual(['10.1.1.1']);
    expect(gtmAddresses(b.app)).toEqual(['10.2.2.2']);
    expect(gtmAddresses(c.app)).toEqual([]);
    expect(gtmAddresses(d.app)).toEqual(expected(d.app));

    // The observer itself: answers by the asker's own namespace and name, and hands out copies.
    const observer = roundObserver(gateway);
    const seen = await observer.ingressAddresses('cluster2-beijing', { namespace: 'team-a', name: 'web' });
    seen.push('10.6.6.6');
    expect(await observer.ingressAddresses('cluster2-beijing', { namespace: 'team-b', name: 'web' })).toEqual([]);
    expect(await observer.ingressAddresses('cluster2-beijing', { namespace: 'team-a', name: 'web' })).toEqual(['10.1.1.1']);
    expect(await observer.ingressAddresses('cluster2-beijing', { namespace: 'team-c', name: 'web' })).toEqual([]);
  });

  it('a namespace list that fails leaves that cluster unknown for each of its applications, after one request', async () => {
    const apps = [1, 2, 3].map((i) => fleetApp({ namespace: 'team-a', name: `app-${i}` }));
    setup(apps);
    const { gateway, lists } = gatewayOf((cluster, namespace) => {
      if (cluster === 'cluster1-hangzhou')
        throw new TricenterError('UNREACHABLE', `cluster ${cluster}: connect ECONNREFUSED`, { retryable: true });
      return Object.fromEntries(apps.filter((a) => a.app.namespace === namespace).map((a) => [a.app.name, [addressOf(cluster, a.app)]]));
    });
    await invoke(depsOf(apps, gateway), timer);
    expect(lists.filter((l) => l.startsWith('cluster1-hangzhou'))).toHaveLength(1);
    const unknown = logger.lines.filter((l) => l.msg === 'cluster not observed; its addresses are kept');
    expect(unknown).toHaveLength(3);
    for (const { app } of apps) expect(gtmAddresses(app)).toEqual(expected(app, ['cluster1-beijing', 'cluster2-beijing']));
  });

  it('reconciles a few applications at once, never more', async () => {
    const apps = Array.from({ length: 12 }, (_, i) => fleetApp({ namespace: `team-${i}`, name: `app-${i}` }));
    setup(apps);
    const { gateway } = gatewayOf((cluster, namespace) =>
      Object.fromEntries(apps.filter((a) => a.app.namespace === namespace).map((a) => [a.app.name, [addressOf(cluster, a.app)]])),
    );
    // In flight: from an application's first claim check to its history write.
    const history = new MemoryTrafficHistoryStore();
    const store = storeOf(apps);
    const entered = new Set<string>();
    let inFlight = 0;
    let most = 0;
    const counted: RunStore = Object.assign(Object.create(store) as RunStore, {
      getTrafficClaim: async (resource: string) => {
        const claim = await store.getTrafficClaim(resource);
        const key = claim ? `${claim.app.namespace}/${claim.app.name}` : '';
        if (claim && !entered.has(key)) {
          entered.add(key);
          most = Math.max(most, ++inFlight);
        }
        return claim;
      },
    });
    const put = history.put.bind(history);
    history.put = async (...args) => {
      inFlight -= 1;
      return put(...args);
    };
    const summary = (await invoke(depsOf(apps, gateway, { store: counted, history, round: { concurrency: 3 } }), timer)) as RoundSummary;
    expect(summary.reconciled).toBe(12);
    expect(most).toBe(3);
    for (const { app } of apps) expect(gtmAddresses(app)).toEqual(expected(app));
  });

  it('starts no application past the budget: the rest are logged and left untouched for the next round', async () => {
    const apps = Array.from({ length: 5 }, (_, i) => fleetApp({ namespace: `team-${i}`, name: `app-${i}` }));
    setup(apps);
    const clock = new ManualClock(T0);
    // Every cluster list takes 400 ms of the round: the first application alone crosses a 1 s budget.
    const { gateway } = gatewayOf(
      (cluster, namespace) =>
        Object.fromEntries(apps.filter((a) => a.app.namespace === namespace).map((a) => [a.app.name, [addressOf(cluster, a.app)]])),
      () => clock.advance(400),
    );
    const deps = depsOf(apps, gateway, { clock, round: { concurrency: 1, budgetMs: 1_000 } });
    const summary = (await invoke(deps, timer)) as RoundSummary;

    expect(summary.reconciled).toBe(1);
    expect(summary.deferred).toHaveLength(4);
    const [done] = apps.filter((a) => !summary.deferred.some((d) => d.name === a.app.name));
    if (!done) throw new Error('no application was reconciled');
    // The one started finished whole (pools, strategy, history), though the budget ran out on its way.
    expect(gtmAddresses(done.app)).toEqual(expected(done.app));
    expect(fake.callsOf('AddDnsGtmAccessStrategy')).toBe(1);
    expect(await deps.history.get(done.app)).toBeDefined();
    for (const app of summary.deferred) {
      expect(gtmAddresses(app)).toEqual([]);
      expect(await deps.history.get(app)).toBeUndefined();
    }
    const warned = logger.lines.find((l) => l.msg === 'traffic round out of time: applications left for the next round');
    expect(warned).toMatchObject({ deferred: 4, reconciled: 1, budgetMs: 1_000 });
    expect((warned?.apps as string[]).sort()).toEqual(summary.deferred.map((a) => `${a.namespace}/${a.name}`).sort());

    // The next round (a new budget) reaches the others; the finished one has nothing left to write.
    clock.advance(60_000);
    const writesBefore = fake.calls.filter((c) => WRITES.test(c.action) && c.params.InstanceId === done.instance).length;
    await invoke(depsOf(apps, gateway, { clock, history: deps.history, round: { concurrency: 8, budgetMs: 60_000 } }), timer);
    for (const { app } of apps) expect(gtmAddresses(app)).toEqual(expected(app));
    expect(fake.calls.filter((c) => WRITES.test(c.action) && c.params.InstanceId === done.instance)).toHaveLength(writesBefore);
  });

  it('splits a timer round too large for one invocation into shards, each reconciled as its own invocation', async () => {
    const apps = Array.from({ length: 5 }, (_, i) => fleetApp({ namespace: `team-${i % 2}`, name: `app-${i}` }));
    setup(apps);
    const { gateway, lists } = gatewayOf((cluster, namespace) =>
      Object.fromEntries(apps.filter((a) => a.app.namespace === namespace).map((a) => [a.app.name, [addressOf(cluster, a.app)]])),
    );
    const queue = new InProcessQueue<TrafficShardMessage>({ concurrency: 1, maxDeliveries: 1 });
    const deps = depsOf(apps, gateway, { shards: queue, round: { appsPerInvocation: 2 } });
    const sent: TrafficShardMessage[] = [];
    const shardSummaries: RoundSummary[] = [];
    queue.start(async (message) => {
      sent.push(message);
      shardSummaries.push((await invoke(deps, message)) as RoundSummary);
    });

    const timerRound = (await invoke(deps, timer)) as RoundSummary;
    expect(timerRound).toMatchObject({ mode: 'split', apps: 5, reconciled: 0, shards: 3 });
    expect(fake.calls).toEqual([]);
    await queue.drain();
    await queue.stop();

    // Grouped by namespace, each app in exactly one shard (sent in an order that turns with the round), every message its own key.
    expect(sent.map((m) => m.apps.map((a) => `${a.namespace}/${a.name}`)).sort()).toEqual([
      ['team-0/app-0', 'team-0/app-2'],
      ['team-0/app-4', 'team-1/app-1'],
      ['team-1/app-3'],
    ]);
    expect(new Set(sent.map((m) => m.key)).size).toBe(3);
    expect(sent.every((m) => m.type === 'traffic-shard' && m.roundAt === T0)).toBe(true);
    expect(shardSummaries.map((s) => [s.mode, s.reconciled]).sort()).toEqual([
      ['reconciled', 1],
      ['reconciled', 2],
      ['reconciled', 2],
    ]);
    for (const { app } of apps) expect(gtmAddresses(app)).toEqual(expected(app));
    expect(queue.deadLetters).toEqual([]);
    // Each shard is its own round: its namespaces listed once per cluster.
    expect(lists).toHaveLength(3 * (1 + 2 + 1));
  });

  it('in the cloud the shards are FC async invocations of gtm-reconcile itself (the request deploy-step sends it)', async () => {
    const apps = Array.from({ length: 3 }, (_, i) => fleetApp({ namespace: 'team-0', name: `app-${i}` }));
    setup(apps);
    const fcEndpoint = 'https://1234567890.cn-hangzhou.fc.aliyuncs.com';
    const sts = { accessKeyId: 'STS.gtm-shards', accessKeySecret: 'shard-secret', securityToken: 'shard-token' };
    const fc = new FakeFc({
      endpoint: fcEndpoint,
      functions: ['tricenter-gtm-reconcile'],
      keys: { [sts.accessKeyId]: { secret: sts.accessKeySecret, stsToken: sts.securityToken } },
    });
    server.resetHandlers(...fake.handlers(), ...fc.handlers());
    const shards = createFcTaskQueue<TrafficShardMessage>({
      region: 'cn-hangzhou',
      accountId: '1234567890',
      functionName: 'tricenter-gtm-reconcile',
      endpoint: fcEndpoint,
      credentials: staticCredentials(sts),
      sleep: async () => {},
    });
    const { gateway } = gatewayOf((cluster) => Object.fromEntries(apps.map((a) => [a.app.name, [addressOf(cluster, a.app)]])));
    const deps = depsOf(apps, gateway, { shards, round: { appsPerInvocation: 2 } });
    expect(await invoke(deps, timer)).toMatchObject({ mode: 'split', shards: 2 });

    expect(fc.invocations.map((i) => [i.functionName, i.invocationType, i.status])).toEqual([
      ['tricenter-gtm-reconcile', 'Async', 202],
      ['tricenter-gtm-reconcile', 'Async', 202],
    ]);
    expect(new Set(fc.invocations.map((i) => i.taskId)).size).toBe(2);
    // What FC then delivers, one invocation each: every application reconciled once.
    for (const invocation of fc.invocations) await invoke(deps, JSON.parse(invocation.body.toString('utf8')) as object);
    for (const { app } of apps) expect(gtmAddresses(app)).toEqual(expected(app));
    expect(fake.callsOf('AddDnsGtmAccessStrategy')).toBe(3);
  });

  it('without a queue the timer reconciles every application itself, however many', async () => {
    const apps = Array.from({ length: 3 }, (_, i) => fleetApp({ namespace: 'team-0', name: `app-${i}` }));
    setup(apps);
    const { gateway } = gatewayOf((cluster) => Object.fromEntries(apps.map((a) => [a.app.name, [addressOf(cluster, a.app)]])));
    const summary = (await invoke(depsOf(apps, gateway, { round: { appsPerInvocation: 1 } }), timer)) as RoundSummary;
    expect(summary).toMatchObject({ mode: 'reconciled', reconciled: 3 });
  });

  it('abuse: a stale shard is skipped without a call, an application named twice is reconciled once, an oversized or empty shard is refused', async () => {
    const apps = [fleetApp({ namespace: 'team-0', name: 'app-0' })];
    setup(apps);
    const { gateway, lists } = gatewayOf(() => ({ 'app-0': ['10.0.0.1'] }));
    const stale = { key: 'k', type: 'traffic-shard', roundAt: T0 - 180_000, apps: [apps[0]?.app] };
    expect(await invoke(depsOf(apps, gateway), stale)).toMatchObject({ mode: 'stale-shard', reconciled: 0 });
    expect(lists).toEqual([]);
    expect(fake.calls).toEqual([]);
    expect(logger.lines.some((l) => l.msg === 'stale traffic shard skipped: a newer round has sent its applications again')).toBe(true);

    // The same application twice in one shard: reconciled once, never twice at once.
    const twice = { type: 'traffic-shard', roundAt: T0, apps: [apps[0]?.app, apps[0]?.app] };
    expect(await invoke(depsOf(apps, gateway), twice)).toMatchObject({ mode: 'reconciled', apps: 1, reconciled: 1 });
    expect(fake.callsOf('AddDnsGtmAccessStrategy')).toBe(1);
    fake.calls.length = 0;

    const many = Array.from({ length: TRAFFIC_SHARD_MAX_APPS + 1 }, (_, i) => ({ namespace: 'team-0', name: `app-${i}` }));
    await expect(invoke(depsOf(apps, gateway), { type: 'traffic-shard', roundAt: T0, apps: many })).rejects.toThrow();
    await expect(invoke(depsOf(apps, gateway), { type: 'traffic-shard', roundAt: T0, apps: [] })).rejects.toThrow();
    expect(fake.calls).toEqual([]);
  });

  it('one application failing does not stop the others; the round then fails naming it', async () => {
    const apps = Array.from({ length: 4 }, (_, i) => fleetApp({ namespace: 'team-0', name: `app-${i}` }));
    setup(apps);
    // app-2 holds no claims: its reconcile is refused, the others go on.
    const store = storeOf(apps);
    const refusing: RunStore = Object.assign(Object.create(store) as RunStore, {
      getTrafficClaim: async (resource: string) => {
        const claim = await store.getTrafficClaim(resource);
        return claim?.app.name === 'app-2' ? undefined : claim;
      },
    });
    const { gateway } = gatewayOf((cluster) => Object.fromEntries(apps.map((a) => [a.app.name, [addressOf(cluster, a.app)]])));
    await expect(invoke(depsOf(apps, gateway, { store: refusing }), timer)).rejects.toThrow(/failed for 1 application\(s\): team-0\/app-2/);
    for (const { app } of apps) expect(gtmAddresses(app)).toEqual(app.name === 'app-2' ? [] : expected(app));
  });
});

describe('round helpers', () => {
  it('groups by namespace, slices shards, rotates by the minute', () => {
    const apps = [
      { namespace: 'b', name: 'x' },
      { namespace: 'a', name: 'y' },
      { namespace: 'a', name: 'x' },
    ];
    expect(byNamespace(apps)).toEqual([apps[2], apps[1], apps[0]]);
    expect(shardsOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(shardsOf([], 2)).toEqual([]);
    const rotations = new Set(Array.from({ length: 10 }, (_, m) => rotateForRound([1, 2, 3, 4, 5], m * 60_000)[0]));
    expect(rotations.size).toBe(5);
    for (let m = 0; m < 5; m++) expect(rotateForRound([1, 2, 3, 4, 5], m * 60_000).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(rotateForRound([], T0)).toEqual([]);
  });

  it('runPool: bounded, and items past the deadline are not started', async () => {
    let now = 0;
    let inFlight = 0;
    let most = 0;
    const outcome = await runPool([1, 2, 3, 4, 5, 6], { concurrency: 2, deadline: 30, now: () => now }, async () => {
      most = Math.max(most, ++inFlight);
      await Promise.resolve();
      now += 10;
      inFlight -= 1;
    });
    expect(most).toBe(2);
    expect(outcome.started).toEqual([1, 2, 3, 4]);
    expect(outcome.notStarted).toEqual([5, 6]);
  });
});
