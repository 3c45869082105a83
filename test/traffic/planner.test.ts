import { describe, expect, it } from 'vitest';
import type { TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import { planTraffic } from '#shared/traffic/domain/planner.ts';
import type { ClusterObservation, GtmChange, GtmState, TrafficHistory } from '#shared/traffic/domain/types.ts';
import { applyToState, emptyState, observe, seedPolicy, seedRegistry } from './fixtures.ts';

const registry = seedRegistry();
const T0 = 1_700_000_000_000;

interface Round {
  observations: Record<string, ClusterObservation>;
  state: GtmState;
  history: TrafficHistory | undefined;
}

/** Runs one reconcile: plan, then apply the changes to the in-memory GTM state like GTM would. */
function reconcile(policy: TrafficPolicy, round: Round, now: number) {
  const plan = planTraffic({ policy, registry, observations: round.observations, history: round.history, state: round.state, now });
  return { plan, state: applyToState(round.state, plan.changes), history: plan.history };
}

/** A GTM already holding the seed's steady state, and the history that goes with it. */
function steady(policy = seedPolicy()) {
  const first = reconcile(policy, { observations: observe(), state: emptyState(), history: undefined }, T0);
  return { state: first.state, history: first.history, policy };
}

const kinds = (changes: GtmChange[]) => changes.map((c) => `${c.kind}${'pool' in c ? `:${c.pool}` : ''}`);
const poolAddresses = (state: GtmState, pool: string) =>
  state.pools.find((p) => p.name === `tricenter.demo.web-demo.${pool}`)?.addresses.map((a) => `${a.addr}/${a.mode}`);

describe('planTraffic', () => {
  it('first reconcile creates both pools with health checks, the strategy and the TTL', () => {
    const { plan, state } = reconcile(seedPolicy(), { observations: observe(), state: emptyState(), history: undefined }, T0);
    expect(kinds(plan.changes)).toEqual([
      'create-pool:pool-beijing',
      'create-pool:pool-hangzhou',
      'create-strategy',
      'update-global-config',
    ]);
    const [beijing] = plan.changes;
    expect(beijing).toMatchObject({
      kind: 'create-pool',
      input: {
        name: 'tricenter.demo.web-demo.pool-beijing',
        type: 'IPV4',
        lbaStrategy: 'ALL_RR',
        addresses: [
          { addr: '127.0.0.2', mode: 'SMART', weight: 1, remark: 'tricenter:demo/web-demo@cluster1-beijing' },
          { addr: '127.0.0.3', mode: 'SMART', weight: 1, remark: 'tricenter:demo/web-demo@cluster2-beijing' },
        ],
        monitor: {
          protocol: 'HTTP',
          port: 80,
          path: '/',
          host: 'web-demo.example.com',
          code: 500,
          interval: 60,
          evaluationCount: 2,
          timeout: 5000,
        },
      },
    });
    expect(plan.changes[2]).toMatchObject({
      kind: 'create-strategy',
      input: {
        name: 'tricenter.demo.web-demo',
        primary: [{ pool: 'pool-beijing' }],
        failover: [{ pool: 'pool-hangzhou' }],
        minAvailable: 1,
      },
    });
    expect(plan.changes[3]).toEqual({
      kind: 'update-global-config',
      config: { ttl: 60, userDomainName: 'web-demo.example.com', instanceName: 'tricenter.demo.web-demo' },
    });
    expect(plan.warnings).toEqual([]);
    expect(poolAddresses(state, 'pool-hangzhou')).toEqual(['127.0.0.4/SMART']);
  });

  it('steady state plans zero changes and keeps the history', () => {
    const { state, history, policy } = steady();
    const { plan } = reconcile(policy, { observations: observe(), state, history }, T0 + 60_000);
    expect(plan.changes).toEqual([]);
    expect(plan.warnings).toEqual([]);
    expect(plan.history.pools).toEqual(history.pools);
  });

  it('normalises and sorts before comparing: GTM order and spelling do not cause writes', () => {
    const { state, history, policy } = steady();
    const shuffled = structuredClone(state);
    for (const pool of shuffled.pools) pool.addresses.reverse();
    const { plan } = reconcile(
      policy,
      { observations: observe({ 'cluster2-beijing': [' 127.0.0.3 '] }), state: shuffled, history },
      T0 + 60_000,
    );
    expect(plan.changes).toEqual([]);
  });

  it('an unreachable cluster API is unknown, not empty: its addresses stay, however long', () => {
    let { state, history, policy } = steady();
    for (let i = 1; i <= 6; i++) {
      const r = reconcile(policy, { observations: observe({ 'cluster1-beijing': 'unreachable' }), state, history }, T0 + i * 60_000);
      expect(r.plan.changes).toEqual([]);
      ({ state, history } = r);
    }
    expect(poolAddresses(state, 'pool-beijing')).toEqual(['127.0.0.2/SMART', '127.0.0.3/SMART']);
    expect(history.pools['pool-beijing']?.['127.0.0.2']).toEqual({ cluster: 'cluster1-beijing', absent: 0 });
  });

  it('address flapping during a rollout (absent once or twice, then back) changes nothing', () => {
    let { state, history, policy } = steady();
    const sequence: Array<string[]> = [[], [], ['127.0.0.3'], [], ['127.0.0.3']];
    const absents: number[] = [];
    sequence.forEach((addresses, i) => {
      const r = reconcile(policy, { observations: observe({ 'cluster2-beijing': addresses }), state, history }, T0 + (i + 1) * 60_000);
      expect(r.plan.changes).toEqual([]);
      ({ state, history } = r);
      absents.push(history.pools['pool-beijing']?.['127.0.0.3']?.absent ?? -1);
    });
    expect(absents).toEqual([1, 2, 0, 1, 0]);
  });

  it('removes an address after 3 consecutive absent observations, and only then', () => {
    let { state, history, policy } = steady();
    const planned: string[][] = [];
    for (let i = 1; i <= 4; i++) {
      const r = reconcile(policy, { observations: observe({ 'cluster2-beijing': [] }), state, history }, T0 + i * 60_000);
      planned.push(kinds(r.plan.changes));
      if (i === 3) expect(r.plan.changes[0]).toMatchObject({ kind: 'update-pool', added: [], removed: ['127.0.0.3'] });
      ({ state, history } = r);
    }
    expect(planned).toEqual([[], [], ['update-pool:pool-beijing'], []]);
    expect(poolAddresses(state, 'pool-beijing')).toEqual(['127.0.0.2/SMART']);
    expect(history.pools['pool-beijing']).toEqual({ '127.0.0.2': { cluster: 'cluster1-beijing', absent: 0 } });
  });

  it('honours a custom removeAfter', () => {
    const { state, history, policy } = steady();
    const plan = planTraffic({
      policy,
      registry,
      observations: observe({ 'cluster2-beijing': [] }),
      history,
      state,
      now: T0,
      removeAfter: 1,
    });
    expect(kinds(plan.changes)).toEqual(['update-pool:pool-beijing']);
  });

  it('a pool about to become empty keeps its last address and warns', () => {
    let { state, history, policy } = steady();
    for (let i = 1; i <= 4; i++) {
      const r = reconcile(policy, { observations: observe({ 'cluster1-hangzhou': [] }), state, history }, T0 + i * 60_000);
      expect(r.plan.changes).toEqual([]);
      if (i >= 3) expect(r.plan.warnings).toEqual([expect.objectContaining({ code: 'WOULD_EMPTY', pool: 'pool-hangzhou' })]);
      else expect(r.plan.warnings).toEqual([]);
      ({ state, history } = r);
    }
    expect(poolAddresses(state, 'pool-hangzhou')).toEqual(['127.0.0.4/SMART']);
    // A new address replaces the kept one at once: the kept one has used up its absences.
    const back = reconcile(policy, { observations: observe({ 'cluster1-hangzhou': ['127.0.0.9'] }), state, history }, T0 + 10 * 60_000);
    expect(back.plan.changes[0]).toMatchObject({ kind: 'update-pool', added: ['127.0.0.9'], removed: ['127.0.0.4'] });
  });

  it('with allowEmpty, an emptied pool keeps its addresses OFFLINE (GTM needs one) and then stays quiet', () => {
    const policy = seedPolicy();
    policy.spec.pools[1]!.allowEmpty = true;
    let { state, history } = steady(policy);
    const planned: string[][] = [];
    for (let i = 1; i <= 5; i++) {
      const r = reconcile(policy, { observations: observe({ 'cluster1-hangzhou': [] }), state, history }, T0 + i * 60_000);
      planned.push(kinds(r.plan.changes));
      expect(r.plan.warnings).toEqual([]);
      ({ state, history } = r);
    }
    expect(planned).toEqual([[], [], ['update-pool:pool-hangzhou'], [], []]);
    expect(poolAddresses(state, 'pool-hangzhou')).toEqual(['127.0.0.4/OFFLINE']);
  });

  it('a foreign pool bearing our name is never written, and the strategy that needs it waits', () => {
    const state = emptyState();
    state.pools.push({
      id: 'hand-made',
      name: 'tricenter.demo.web-demo.pool-beijing',
      type: 'IPV4',
      lbaStrategy: 'ALL_RR',
      addrCount: 1,
      monitorStatus: 'CLOSE',
      addresses: [{ addr: '10.1.1.1', mode: 'ONLINE', weight: 1, remark: 'ops team' }],
    });
    // A pool merely called like the policy's pool is someone else's and simply ignored.
    state.pools.push({ ...structuredClone(state.pools[0]!), id: 'console', name: 'pool-hangzhou' });
    const plan = planTraffic({ policy: seedPolicy(), registry, observations: observe(), history: undefined, state, now: T0 });
    expect(kinds(plan.changes)).toEqual(['create-pool:pool-hangzhou', 'update-global-config']);
    expect(plan.changes.some((c) => 'poolId' in c && (c.poolId === 'hand-made' || c.poolId === 'console'))).toBe(false);
    expect(plan.warnings.map((w) => w.code)).toEqual(['FOREIGN_POOL', 'STRATEGY_BLOCKED']);
    expect(plan.warnings[0]?.message).toContain('10.1.1.1');
  });

  it('two pools with our name are ambiguous: no write to either', () => {
    const { state, history, policy } = steady();
    const twin = structuredClone(state.pools[0]!);
    state.pools.push({ ...twin, id: 'twin' });
    const plan = planTraffic({ policy, registry, observations: observe({ 'cluster1-beijing': ['127.0.0.8'] }), history, state, now: T0 });
    expect(plan.changes).toEqual([]);
    expect(plan.warnings.map((w) => w.code)).toEqual(['AMBIGUOUS', 'STRATEGY_BLOCKED']);
  });

  it('a new cluster address is added at once', () => {
    const { state, history, policy } = steady();
    const plan = planTraffic({
      policy,
      registry,
      observations: observe({ 'cluster2-beijing': ['127.0.0.3', '127.0.0.7'] }),
      history,
      state,
      now: T0,
    });
    expect(plan.changes).toEqual([
      expect.objectContaining({ kind: 'update-pool', pool: 'pool-beijing', added: ['127.0.0.7'], removed: [] }),
    ]);
  });

  it('compares the domain without regard to case', () => {
    const { state, history, policy } = steady();
    policy.spec.domain = 'Web-Demo.Example.com';
    expect(planTraffic({ policy, registry, observations: observe(), history, state, now: T0 }).changes).toEqual([]);
  });

  it('a TTL change is the only change', () => {
    const { state, history, policy } = steady();
    policy.spec.ttl = 30;
    const plan = planTraffic({ policy, registry, observations: observe(), history, state, now: T0 });
    expect(plan.changes).toEqual([
      {
        kind: 'update-global-config',
        config: { ttl: 30, instanceName: 'tricenter.demo.web-demo', userDomainName: 'web-demo.example.com' },
      },
    ]);
  });

  it('a health-check change updates the monitors only', () => {
    const { state, history, policy } = steady();
    policy.spec.healthCheck.interval = 15;
    const plan = planTraffic({ policy, registry, observations: observe(), history, state, now: T0 });
    expect(kinds(plan.changes)).toEqual(['update-monitor:pool-beijing', 'update-monitor:pool-hangzhou']);
  });

  it('a pool without a health check gets one, opened', () => {
    const { state, history, policy } = steady();
    const pool = state.pools[1]!;
    delete pool.monitorConfigId;
    pool.monitorStatus = 'UNCONFIGURED';
    const plan = planTraffic({ policy, registry, observations: observe(), history, state, now: T0 });
    expect(kinds(plan.changes)).toEqual(['create-monitor:pool-hangzhou', 'open-monitor:pool-hangzhou']);
  });

  it('a lost history is rebuilt from GTM: nothing is removed before 3 absent observations', () => {
    const { state, policy } = steady();
    let history: TrafficHistory | undefined;
    const planned: string[][] = [];
    let current = state;
    for (let i = 1; i <= 3; i++) {
      const r = reconcile(policy, { observations: observe({ 'cluster1-beijing': [] }), state: current, history }, T0 + i * 60_000);
      planned.push(kinds(r.plan.changes));
      ({ state: current, history } = r);
    }
    expect(planned).toEqual([[], [], ['update-pool:pool-beijing']]);
  });

  it('a cluster whose labels no longer match leaves the pool through the same absence count', () => {
    const { state, history, policy } = steady();
    const relabelled = structuredClone(registry);
    relabelled.clusters[1]!.labels.city = 'shanghai';
    const planned: string[][] = [];
    let round = { state, history };
    for (let i = 1; i <= 3; i++) {
      const plan = planTraffic({
        policy,
        registry: relabelled,
        observations: observe(),
        history: round.history,
        state: round.state,
        now: T0 + i,
      });
      planned.push(kinds(plan.changes));
      round = { state: applyToState(round.state, plan.changes), history: plan.history };
    }
    expect(planned).toEqual([[], [], ['update-pool:pool-beijing']]);
  });

  it('RATIO pools carry the weights of their clusters and compare them', () => {
    const policy = seedPolicy();
    policy.spec.pools[0] = {
      name: 'pool-beijing',
      clusters: ['cluster1-beijing', 'managedcluster-c2'],
      lbaStrategy: 'RATIO',
      weights: { 'cluster1-beijing': 3, 'managedcluster-c2': 1 },
      allowEmpty: false,
    };
    let { state, history } = steady(policy);
    expect(state.pools[0]?.addresses.map((a) => a.weight)).toEqual([3, 1]);
    policy.spec.pools[0]!.weights = { 'cluster1-beijing': 1, 'managedcluster-c2': 1 };
    const plan = planTraffic({ policy, registry, observations: observe(), history, state, now: T0 });
    expect(kinds(plan.changes)).toEqual(['update-pool:pool-beijing']);
    ({ state, history } = { state: applyToState(state, plan.changes), history: plan.history });
    expect(planTraffic({ policy, registry, observations: observe(), history, state, now: T0 }).changes).toEqual([]);
  });

  it('a pool with no address yet is not created, and the strategy waits for its primary', () => {
    const plan = planTraffic({
      policy: seedPolicy(),
      registry,
      observations: observe({ 'cluster1-beijing': [], 'cluster2-beijing': 'unreachable' }),
      history: undefined,
      state: emptyState(),
      now: T0,
    });
    expect(kinds(plan.changes)).toEqual(['create-pool:pool-hangzhou', 'update-global-config']);
    expect(plan.warnings.map((w) => w.code)).toEqual(['NO_ADDRESS_YET', 'STRATEGY_BLOCKED']);
  });

  it('the strategy is created without failover while the failover pool has no address, then updated', () => {
    const policy = seedPolicy();
    const first = reconcile(policy, { observations: observe({ 'cluster1-hangzhou': [] }), state: emptyState(), history: undefined }, T0);
    expect(first.plan.changes.find((c) => c.kind === 'create-strategy')).toMatchObject({ input: { failover: [] } });
    const second = reconcile(policy, { observations: observe(), state: first.state, history: first.history }, T0 + 60_000);
    expect(kinds(second.plan.changes)).toEqual(['create-pool:pool-hangzhou', 'update-strategy']);
  });

  it('hostname addresses make a DOMAIN pool; mixed types keep the majority and warn', () => {
    const plan = planTraffic({
      policy: seedPolicy(),
      registry,
      observations: observe({ 'cluster1-beijing': ['LB-1.Example.COM.'], 'cluster2-beijing': ['lb-2.example.com', '127.0.0.3'] }),
      history: undefined,
      state: emptyState(),
      now: T0,
    });
    const create = plan.changes[0];
    expect(create).toMatchObject({ kind: 'create-pool', input: { type: 'DOMAIN' } });
    expect(create?.kind === 'create-pool' && create.input.addresses.map((a) => a.addr)).toEqual(['lb-1.example.com', 'lb-2.example.com']);
    expect(plan.warnings.map((w) => w.code)).toEqual(['MIXED_ADDRESS_TYPES']);
  });

  it('an existing pool keeps its type: an address of another type is left out with a warning', () => {
    const { state, history, policy } = steady();
    const plan = planTraffic({
      policy,
      registry,
      observations: observe({ 'cluster2-beijing': ['lb-2.example.com'] }),
      history,
      state,
      now: T0,
    });
    expect(plan.changes).toEqual([]);
    expect(plan.warnings).toEqual([
      expect.objectContaining({ code: 'MIXED_ADDRESS_TYPES', pool: 'pool-beijing', message: expect.stringContaining('lb-2.example.com') }),
    ]);
  });

  it('a pool whose only cluster switches to a hostname is never emptied into an invalid update', () => {
    let { state, history, policy } = steady();
    for (let i = 1; i <= 4; i++) {
      const r = reconcile(
        policy,
        { observations: observe({ 'cluster1-hangzhou': ['lb-hz.example.com'] }), state, history },
        T0 + i * 60_000,
      );
      expect(r.plan.changes).toEqual([]);
      expect(r.plan.warnings.map((w) => w.code)).toEqual(i >= 3 ? ['MIXED_ADDRESS_TYPES', 'WOULD_EMPTY'] : ['MIXED_ADDRESS_TYPES']);
      ({ state, history } = r);
    }
  });

  it('GTM changed behind our back (a kept pool gone, the domain rewritten) is a DRIFT warning, and is put back', () => {
    const { state, history, policy } = steady();
    const tampered: GtmState = {
      ...state,
      pools: state.pools.filter((p) => !p.name.endsWith('pool-hangzhou')),
      global: { ...state.global, userDomainName: 'evil.example.com' },
    };
    const { plan } = reconcile(policy, { observations: observe(), state: tampered, history }, T0 + 60_000);
    expect(plan.warnings.filter((w) => w.code === 'DRIFT').map((w) => [w.pool, w.message])).toEqual([
      [
        'pool-hangzhou',
        'pool tricenter.demo.web-demo.pool-hangzhou is gone from GTM although the last reconcile kept it: changed outside tricenter; it is re-created',
      ],
      [
        undefined,
        'the GTM instance answers for evil.example.com, not web-demo.example.com: changed outside tricenter; the domain is written back',
      ],
    ]);
    expect(kinds(plan.changes)).toEqual(expect.arrayContaining(['create-pool:pool-hangzhou', 'update-global-config']));
    // A first reconcile knows no past: whatever the instance held before is no drift.
    const first = reconcile(
      policy,
      { observations: observe(), state: { ...emptyState(), global: { ttl: 600, userDomainName: 'old.example.com' } }, history: undefined },
      T0,
    );
    expect(first.plan.warnings.filter((w) => w.code === 'DRIFT')).toEqual([]);
  });

  it('names the field when a pool refers to a cluster the registry does not know', () => {
    const policy = seedPolicy();
    policy.spec.pools[1]!.clusters = ['cluster9-nowhere'];
    expect(() => planTraffic({ policy, registry, observations: observe(), history: undefined, state: emptyState(), now: T0 })).toThrow(
      /TrafficPolicy demo\/web-demo.*spec\.pools\[1\]\.clusters\[0\]: cluster "cluster9-nowhere"/,
    );
  });
});
