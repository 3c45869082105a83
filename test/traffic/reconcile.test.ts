/**
 * reconcileTraffic against the in-memory Alidns behind msw (the real adapter, the real wire) and
 * a ClusterGateway test double that answers only `ingressAddresses`. The end-to-end run on the
 * local twin (simulated clusters + GTM emulator) is the lead's sandbox test, not this one.
 */
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { TrafficHistoryStore } from '#shared/traffic/ports/traffic-history.port.ts';
import { GtmApplyError, reconcileTraffic, type ReconcileTrafficInput } from '#shared/traffic/usecases/reconcile-traffic.ts';
import { claimsHeld } from './claims-held.ts';
import { FakeAlidns } from './alidns-msw.ts';
import { SEED_ADDRESSES, seedPolicy, seedRegistry } from './fixtures.ts';

const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-reconcile', accessKeySecret: 'reconcile-secret' };
const INSTANCE = 'gtm-cn-reconcile';
const WRITES = /^(Add|Update|Set|Delete)/;
const T0 = 1_700_000_000_000;

type Behaviour = string[] | 'unreachable' | 'hang';

/** A gateway double: per cluster, addresses, an UNREACHABLE error, or no answer at all. */
function gatewayDouble(behaviour: Record<string, Behaviour>): Pick<ClusterGateway, 'ingressAddresses'> & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async ingressAddresses(cluster, ingress) {
      asked.push(`${cluster} ${ingress.namespace}/${ingress.name}`);
      const b = behaviour[cluster] ?? [SEED_ADDRESSES[cluster] as string];
      if (b === 'unreachable') throw new TricenterError('UNREACHABLE', `cluster ${cluster}: connect ECONNREFUSED`, { retryable: true });
      if (b === 'hang') return new Promise<string[]>(() => {});
      return b;
    },
  };
}

describe('reconcileTraffic (msw GTM, gateway double)', () => {
  const server = setupServer();
  let fake: FakeAlidns;
  let gtm: AlidnsGtm;
  let history: TrafficHistoryStore;
  let logger: ReturnType<typeof memoryLogger>;

  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());
  beforeEach(() => {
    fake = new FakeAlidns({ endpoint: ENDPOINT, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances: [INSTANCE] });
    server.resetHandlers(...fake.handlers());
    gtm = new AlidnsGtm({ endpoint: ENDPOINT, instanceId: INSTANCE, credentials: KEY, sleep: async () => {} });
    history = new MemoryTrafficHistoryStore();
    logger = memoryLogger();
  });

  const run = (overrides: Partial<ReconcileTrafficInput> & { behaviour?: Record<string, Behaviour> } = {}) => {
    const { behaviour = {}, ...rest } = overrides;
    return reconcileTraffic({
      policy: seedPolicy(),
      registry: seedRegistry(),
      gateway: gatewayDouble(behaviour),
      gtm,
      claims: claimsHeld(seedPolicy(), INSTANCE),
      history,
      logger,
      now: T0,
      dryRun: false,
      ...rest,
    });
  };
  const writes = () => fake.calls.filter((c) => WRITES.test(c.action)).map((c) => c.action);
  const poolAddrs = (suffix: string) =>
    [...fake.pools.values()].find((p) => p.name.endsWith(suffix))?.addrs.map((a) => `${String(a.Addr)}/${String(a.Mode)}`);

  it('builds the seed traffic on first run, then has nothing to write', async () => {
    const first = await run();
    expect(first.applied).toMatchObject({ applied: 4, failed: 0, skipped: 0 });
    expect(writes()).toEqual([
      'AddDnsGtmAddressPool',
      'AddDnsGtmAddressPool',
      'AddDnsGtmAccessStrategy',
      'UpdateDnsGtmInstanceGlobalConfig',
    ]);
    expect(poolAddrs('.pool-beijing')).toEqual(['127.0.0.2/SMART', '127.0.0.3/SMART']);
    expect(poolAddrs('.pool-hangzhou')).toEqual(['127.0.0.4/SMART']);
    const strategy = [...fake.strategies.values()][0];
    expect(strategy).toMatchObject({ StrategyName: 'tricenter.demo.web-demo', DefaultMinAvailableAddrNum: 1, AccessMode: 'AUTO' });
    expect(fake.instances.get(INSTANCE)).toMatchObject({ Ttl: 60, PublicUserDomainName: 'web-demo.example.com' });

    fake.calls.length = 0;
    const second = await run({ now: T0 + 60_000 });
    expect(second.plan.changes).toEqual([]);
    expect(writes()).toEqual([]);
    const planLine = logger.lines.filter((l) => l.msg === 'traffic plan').at(-1);
    expect(planLine).toMatchObject({ app: 'demo/web-demo', dryRun: false, changes: [], warnings: [] });
  });

  it('observes every cluster of the policy, in the Ingress namespace', async () => {
    const gateway = gatewayDouble({});
    await reconcileTraffic({
      policy: seedPolicy(),
      registry: seedRegistry(),
      gateway,
      gtm,
      claims: claimsHeld(seedPolicy(), INSTANCE),
      history,
      logger,
      now: T0,
      dryRun: true,
    });
    expect([...gateway.asked].sort()).toEqual([
      'cluster1-beijing demo/web-demo',
      'cluster1-hangzhou demo/web-demo',
      'cluster2-beijing demo/web-demo',
    ]);
  });

  it('dry run logs the plan and writes nothing, not even the history', async () => {
    const result = await run({ dryRun: true });
    expect(result.plan.changes.map((c) => c.kind)).toEqual(['create-pool', 'create-pool', 'create-strategy', 'update-global-config']);
    expect(result.applied).toBeUndefined();
    expect(writes()).toEqual([]);
    expect(await history.get({ namespace: 'demo', name: 'web-demo' })).toBeUndefined();
    expect(logger.lines.find((l) => l.msg === 'traffic plan')).toMatchObject({
      dryRun: true,
      changes: expect.arrayContaining([expect.objectContaining({ kind: 'create-pool' })]),
    });
  });

  it('an unreachable or silent cluster is unknown: its address stays in GTM', async () => {
    await run();
    fake.calls.length = 0;
    for (let i = 1; i <= 4; i++) {
      const result = await run({
        now: T0 + i * 60_000,
        behaviour: { 'cluster1-beijing': 'unreachable', 'cluster2-beijing': 'hang' },
        observeTimeoutMs: 50,
      });
      expect(result.observations).toMatchObject({
        'cluster1-beijing': 'unreachable',
        'cluster2-beijing': 'unreachable',
        'cluster1-hangzhou': { addresses: ['127.0.0.4'] },
      });
    }
    expect(writes()).toEqual([]);
    expect(poolAddrs('.pool-beijing')).toEqual(['127.0.0.2/SMART', '127.0.0.3/SMART']);
    expect(logger.lines.filter((l) => l.msg === 'cluster not observed; its addresses are kept').map((l) => l.code)).toContain(
      'UNREACHABLE',
    );
  });

  it('removes an address after 3 absent observations persisted in the run store (SQLite)', async () => {
    const runStore = new SqliteRunStore({ path: ':memory:' });
    const persisted = runStore.trafficHistory;
    history = persisted;
    await run();
    fake.calls.length = 0;
    const perRound: string[][] = [];
    for (let i = 1; i <= 3; i++) {
      await run({ now: T0 + i * 60_000, behaviour: { 'cluster2-beijing': [] } });
      perRound.push(writes());
      fake.calls.length = 0;
    }
    expect(perRound).toEqual([[], [], ['UpdateDnsGtmAddressPool']]);
    expect(poolAddrs('.pool-beijing')).toEqual(['127.0.0.2/SMART']);
    expect((await persisted.get({ namespace: 'demo', name: 'web-demo' }))?.version).toBe(4);
    await runStore.close();
  });

  it('rides through throttling: the adapter backs off and the change lands', async () => {
    await run();
    fake.inject({ action: 'UpdateDnsGtmAddressPool', times: 2, status: 400, code: 'Throttling.User' });
    const result = await run({ now: T0 + 60_000, behaviour: { 'cluster1-hangzhou': ['127.0.0.4', '127.0.0.5'] } });
    expect(result.applied).toMatchObject({ applied: 1, failed: 0 });
    expect(fake.callsOf('UpdateDnsGtmAddressPool')).toBe(3);
    expect(poolAddrs('.pool-hangzhou')).toEqual(['127.0.0.4/SMART', '127.0.0.5/SMART']);
  });

  it('reports a partial failure: which changes applied, failed and were skipped, and fails the reconcile', async () => {
    fake.inject({
      action: 'AddDnsGtmAddressPool',
      times: 1,
      status: 400,
      code: 'InvalidParameter',
      message: 'The parameter Name is invalid.',
    });
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GtmApplyError);
    const { result } = error as GtmApplyError;
    expect(result.outcomes.map((o) => `${o.change.kind}:${o.status}`)).toEqual([
      'create-pool:failed',
      'create-pool:applied',
      'create-strategy:skipped',
      'update-global-config:applied',
    ]);
    expect(result.outcomes[0]?.error).toContain('InvalidParameter: The parameter Name is invalid.');
    expect((error as GtmApplyError).message).toMatch(/^1 of 4 GTM changes failed \(1 skipped, 2 applied\): create-pool pool-beijing: /);
    expect(logger.lines.find((l) => l.msg === 'traffic changes failed')).toMatchObject({ level: 'error', failed: 1, skipped: 1 });
    // The observations were still recorded, and the next run finishes the job.
    expect(await history.get({ namespace: 'demo', name: 'web-demo' })).toBeDefined();
    const retry = await run({ now: T0 + 60_000 });
    expect(retry.plan.changes.map((c) => c.kind)).toEqual(['create-pool', 'create-strategy']);
  });

  it('re-reads monitors, strategy and TTL only every verifyEveryMs, and after writing them', async () => {
    await run();
    const readsOf = () =>
      fake.calls
        .filter((c) => c.action.startsWith('Describe'))
        .map((c) => c.action)
        .sort();
    fake.calls.length = 0;
    const full = await run({ now: T0 + 1_000 });
    expect(full.gtmSettings).toBe('read');
    expect(readsOf()).toEqual([
      'DescribeDnsGtmAccessStrategies',
      'DescribeDnsGtmAccessStrategy',
      'DescribeDnsGtmInstance',
      'DescribeDnsGtmInstanceAddressPool',
      'DescribeDnsGtmInstanceAddressPool',
      'DescribeDnsGtmInstanceAddressPools',
      'DescribeDnsGtmMonitorConfig',
      'DescribeDnsGtmMonitorConfig',
    ]);
    fake.calls.length = 0;
    const cached = await run({ now: T0 + 2_000 });
    expect(cached.gtmSettings).toBe('cached');
    expect(readsOf()).toEqual([
      'DescribeDnsGtmAccessStrategies',
      'DescribeDnsGtmInstanceAddressPool',
      'DescribeDnsGtmInstanceAddressPool',
      'DescribeDnsGtmInstanceAddressPools',
    ]);
    // A hand edit of the TTL is seen once the cache is older than verifyEveryMs.
    (fake.instances.get(INSTANCE) as Record<string, unknown>).Ttl = 600;
    expect((await run({ now: T0 + 3_000 })).plan.changes).toEqual([]);
    const late = await run({ now: T0 + 1_000 + 15 * 60_000 });
    expect(late.plan.changes.map((c) => c.kind)).toEqual(['update-global-config']);
  });

  it('fails without writing when GTM cannot be read', async () => {
    fake.inject({
      action: 'DescribeDnsGtmInstanceAddressPools',
      times: 10,
      status: 403,
      code: 'Forbidden.RAM',
      message: 'User not authorized to operate on the specified resource.',
    });
    await expect(run()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(writes()).toEqual([]);
  });
});
