/**
 * The GTM 3.0 planner as tables: sequences of reconciles over an in-memory GTM 3.0 state (each
 * plan applied the way GTM would), no I/O. The version-neutral rules (desired.ts) are the same as
 * 2.0's; these tables check them through 3.0's shapes, and 3.0's own diff.
 */
import { describe, expect, it } from 'vitest';
import type { TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import type { Gtm3Address, Gtm3Pool } from '#shared/traffic/domain/gtm3.ts';
import { planTraffic3 } from '#shared/traffic/domain/planner3.ts';
import type { ClusterObservation, Gtm3Change, Gtm3State, Traffic3Plan, TrafficHistory } from '#shared/traffic/domain/types.ts';
import { observe, seedPolicy, seedRegistry } from './fixtures.ts';

const T0 = 1_700_000_000_000;
const empty = (): Gtm3State => ({ addresses: [], pools: [], templates: [], configs: [] });

/** Applies a 3.0 plan to a state as GTM would (ids in sequence); refuses what GTM refuses (deleting an address a pool holds). */
function apply(state: Gtm3State, changes: Gtm3Change[]): Gtm3State {
  const next = structuredClone(state);
  let seq = next.addresses.length + next.pools.length + next.templates.length + next.configs.length + 100;
  const id = (prefix: string) => `${prefix}-${++seq}`;
  const templateIds = new Map<string, string>();
  const addressIds = new Map<string, string>();
  const poolIds = new Map<string, string>();
  let configId: string | undefined;
  const tasks = (plans: Array<{ ipVersion: string; templateId?: string; port: number }>) =>
    plans.map((t) => ({ templateId: t.templateId ?? (templateIds.get(t.ipVersion) as string), port: t.port }));
  const address = (addressId: string) => next.addresses.find((a) => a.id === addressId) as Gtm3Address;
  const pool = (poolId: string) => next.pools.find((p) => p.id === poolId) as Gtm3Pool;
  for (const c of changes) {
    switch (c.kind) {
      case 'create-template': {
        const t = { ...c.input, id: id('mtp') };
        templateIds.set(c.ipVersion, t.id);
        next.templates.push(t);
        break;
      }
      case 'update-template':
        Object.assign(next.templates.find((t) => t.id === c.templateId) as object, c.input);
        break;
      case 'create-address': {
        const a: Gtm3Address = {
          ...c.input,
          healthTasks: tasks(c.healthTasks),
          id: id('addr'),
          healthStatus: 'ok',
          availableStatus: 'available',
        };
        addressIds.set(`${c.pool}/${c.addr}`, a.id);
        next.addresses.push(a);
        break;
      }
      case 'update-address':
        Object.assign(address(c.addressId), c.input, { healthTasks: tasks(c.healthTasks) });
        break;
      case 'set-address-enable':
        address(c.addressId).enableStatus = c.status;
        break;
      case 'set-address-auto':
        address(c.addressId).availableMode = 'auto';
        break;
      case 'delete-address':
        if (next.pools.some((p) => p.members.some((m) => m.addressId === c.addressId)))
          throw new Error(`address ${c.addr} is still in a pool`);
        next.addresses = next.addresses.filter((a) => a.id !== c.addressId);
        break;
      case 'create-pool': {
        const p: Gtm3Pool = {
          ...c.input,
          id: id('pool'),
          enableStatus: 'enable',
          lbStrategy: 'round_robin',
          healthStatus: 'ok',
          members: [],
        };
        poolIds.set(c.pool, p.id);
        next.pools.push(p);
        break;
      }
      case 'update-pool-basic':
        Object.assign(pool(c.poolId), c.input);
        break;
      case 'set-pool-strategy':
        pool(c.poolId ?? (poolIds.get(c.pool) as string)).lbStrategy = c.strategy;
        break;
      case 'replace-pool-addresses': {
        const p = pool(c.poolId ?? (poolIds.get(c.pool) as string));
        p.members = c.members.map((m) => {
          const addressId = m.addressId ?? (addressIds.get(`${c.pool}/${m.addr}`) as string);
          const a = address(addressId);
          return {
            addressId,
            serialNumber: m.serialNumber,
            weight: m.weight,
            address: a.address,
            remark: a.remark,
            healthStatus: 'ok',
            availableStatus: 'available',
          };
        });
        if (p.members.length === 0) throw new Error(`pool ${c.pool} emptied`);
        break;
      }
      case 'create-config': {
        configId = id('config');
        const domain = c.input.hostname === '@' ? c.input.zone : `${c.input.hostname}.${c.input.zone}`;
        next.configs.push({
          ...c.input,
          id: configId,
          domain,
          enableStatus: 'enable',
          lbStrategy: 'round_robin',
          pools: [],
          healthStatus: 'ok',
          availableStatus: 'available',
        });
        break;
      }
      case 'update-config-basic': {
        const config = next.configs.find((x) => x.id === c.configId);
        Object.assign(config as object, c.input, { domain: `${c.input.hostname}.${c.input.zone}` });
        break;
      }
      case 'replace-config-pools': {
        const config = next.configs.find((x) => x.id === (c.configId ?? configId));
        if (config)
          config.pools = c.pools.map((p) => ({
            poolId: p.poolId ?? (poolIds.get(p.pool) as string),
            serialNumber: p.serialNumber,
            weight: p.weight,
          }));
        break;
      }
      case 'set-config-strategy': {
        const config = next.configs.find((x) => x.id === (c.configId ?? configId));
        if (config) Object.assign(config, { lbStrategy: c.strategy, sequenceMode: c.sequenceMode });
        break;
      }
    }
  }
  return next;
}

interface Round {
  plan: Traffic3Plan;
  state: Gtm3State;
  history: TrafficHistory;
}

/** One reconcile: plan from the state and history, then apply. */
function round(
  state: Gtm3State,
  history: TrafficHistory | undefined,
  observations: Record<string, ClusterObservation> = observe(),
  policy: TrafficPolicy = seedPolicy(),
  i = 0,
): Round {
  const plan = planTraffic3({ policy, registry: seedRegistry(), observations, history, state, now: T0 + i * 60_000 });
  return { plan, state: apply(state, plan.changes), history: plan.history };
}

const kinds = (plan: Traffic3Plan) => plan.changes.map((c) => c.kind);
const seeded = () => round(empty(), undefined);
const poolAddrs = (state: Gtm3State, suffix: string) =>
  state.pools
    .find((p) => p.name.endsWith(suffix))
    ?.members.map((m) => m.address)
    .sort();

describe('planTraffic3', () => {
  it('builds the seed from nothing, then plans nothing (zero writes when equal)', () => {
    const first = seeded();
    expect(kinds(first.plan)).toEqual([
      'create-template',
      'create-address',
      'create-address',
      'create-address',
      'create-pool',
      'create-pool',
      'replace-pool-addresses',
      'replace-pool-addresses',
      'create-config',
      'replace-config-pools',
      'set-config-strategy',
    ]);
    expect(first.plan.warnings).toEqual([]);
    expect(first.plan.changes.find((c) => c.kind === 'create-config')).toMatchObject({
      input: { hostname: 'web-demo', zone: 'example.com', rrType: 'A', ttl: 60, remark: 'tricenter:demo/web-demo' },
    });
    expect(first.plan.changes.find((c) => c.kind === 'replace-config-pools')).toMatchObject({
      pools: [
        { pool: 'pool-beijing', serialNumber: 1 },
        { pool: 'pool-hangzhou', serialNumber: 2 },
      ],
    });
    expect(first.plan.changes.find((c) => c.kind === 'set-config-strategy')).toMatchObject({
      strategy: 'sequence',
      sequenceMode: 'preemptive',
    });
    expect(poolAddrs(first.state, '.pool-beijing')).toEqual(['127.0.0.2', '127.0.0.3']);
    const again = round(first.state, first.history);
    expect(again.plan.changes).toEqual([]);
    expect(again.plan.warnings).toEqual([]);
  });

  it('rebuilds a lost history from GTM without writing anything', () => {
    const { state } = seeded();
    const r = round(state, undefined);
    expect(r.plan.changes).toEqual([]);
    expect(Object.keys(r.history.pools['pool-beijing'] ?? {}).sort()).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it('removes an address after three absent rounds: out of its pool, then deleted', () => {
    let { state, history } = seeded();
    const planned: string[][] = [];
    for (const i of [1, 2, 3, 4]) {
      const r = round(state, history, observe({ 'cluster2-beijing': [] }), seedPolicy(), i);
      planned.push(kinds(r.plan));
      ({ state, history } = r);
    }
    expect(planned).toEqual([[], [], ['replace-pool-addresses', 'delete-address'], []]);
    expect(poolAddrs(state, '.pool-beijing')).toEqual(['127.0.0.2']);
    expect(state.addresses.map((a) => a.address).sort()).toEqual(['127.0.0.2', '127.0.0.4']);
  });

  it('an address that comes back within the window costs nothing', () => {
    let { state, history } = seeded();
    for (const [i, obs] of [observe({ 'cluster2-beijing': [] }), observe({ 'cluster2-beijing': [] }), observe()].entries()) {
      const r = round(state, history, obs, seedPolicy(), i + 1);
      expect(r.plan.changes).toEqual([]);
      ({ state, history } = r);
    }
    expect(history.pools['pool-beijing']?.['127.0.0.3']).toEqual({ cluster: 'cluster2-beijing', absent: 0 });
  });

  it('unknown is not empty: an unreachable cluster keeps its addresses however long', () => {
    let { state, history } = seeded();
    for (const i of [1, 2, 3, 4, 5]) {
      const r = round(state, history, observe({ 'cluster1-beijing': 'unreachable', 'cluster2-beijing': 'unreachable' }), seedPolicy(), i);
      expect(r.plan.changes).toEqual([]);
      ({ state, history } = r);
    }
    expect(poolAddrs(state, '.pool-beijing')).toEqual(['127.0.0.2', '127.0.0.3']);
  });

  it('never empties a pool; with allowEmpty its last address is disabled, never deleted', () => {
    let { state, history } = seeded();
    for (const i of [1, 2, 3]) {
      const r = round(state, history, observe({ 'cluster1-hangzhou': [] }), seedPolicy(), i);
      expect(r.plan.changes).toEqual([]);
      if (i === 3) expect(r.plan.warnings).toEqual([expect.objectContaining({ code: 'WOULD_EMPTY', pool: 'pool-hangzhou' })]);
      ({ state, history } = r);
    }
    const allow = seedPolicy();
    (allow.spec.pools[1] as { allowEmpty: boolean }).allowEmpty = true;
    const r = round(state, history, observe({ 'cluster1-hangzhou': [] }), allow, 4);
    expect(kinds(r.plan)).toEqual(['set-address-enable']);
    expect(r.plan.changes[0]).toMatchObject({ addr: '127.0.0.4', status: 'disable' });
    expect(poolAddrs(r.state, '.pool-hangzhou')).toEqual(['127.0.0.4']);
  });

  it('a RATIO pool balances its addresses by weight', () => {
    const policy = seedPolicy();
    Object.assign(policy.spec.pools[0] as object, { lbaStrategy: 'RATIO', weights: { 'cluster1-beijing': 3 } });
    const r = round(empty(), undefined, observe(), policy);
    expect(r.plan.changes.filter((c) => c.kind === 'set-pool-strategy')).toEqual([
      { kind: 'set-pool-strategy', pool: 'pool-beijing', strategy: 'weight' },
    ]);
    const members = r.state.pools.find((p) => p.name.endsWith('.pool-beijing'))?.members.map((m) => [m.address, m.weight]);
    expect(members).toEqual([
      ['127.0.0.2', 3],
      ['127.0.0.3', 1],
    ]);
    expect(round(r.state, r.history, observe(), policy).plan.changes).toEqual([]);
    const changed = structuredClone(policy);
    Object.assign(changed.spec.pools[0] as object, { weights: { 'cluster1-beijing': 5 } });
    expect(kinds(round(r.state, r.history, observe(), changed).plan)).toEqual(['replace-pool-addresses']);
  });

  it('minAvailable maps to the primary pool’s health judgement', () => {
    const policy = seedPolicy();
    policy.spec.access.minAvailable = 2;
    const r = round(empty(), undefined, observe(), policy);
    expect(r.plan.changes.filter((c) => c.kind === 'create-pool').map((c) => c.kind === 'create-pool' && c.input.healthJudgement)).toEqual([
      'all_ok',
      'any_ok',
    ]);
  });

  it('puts back what was changed by hand on objects we own: template, manual mode, disabled address, strategy, TTL, domain', () => {
    const { state, history } = seeded();
    const tampered = structuredClone(state);
    (tampered.templates[0] as { interval: number }).interval = 30;
    Object.assign(tampered.addresses[0] as object, { availableMode: 'manual', enableStatus: 'disable' });
    Object.assign(tampered.configs[0] as object, { lbStrategy: 'round_robin', ttl: 600, domain: 'other.example.com', hostname: 'other' });
    const r = round(tampered, history);
    expect(kinds(r.plan)).toEqual([
      'update-template',
      'set-address-enable',
      'set-address-auto',
      'update-config-basic',
      'set-config-strategy',
    ]);
    expect(r.plan.warnings).toEqual([expect.objectContaining({ code: 'DRIFT', message: expect.stringContaining('other.example.com') })]);
    expect(round(r.state, r.history).plan.changes).toEqual([]);
  });

  it('re-creates a pool deleted by hand, warning DRIFT; leftover addresses of ours are reused', () => {
    const { state, history } = seeded();
    const tampered = structuredClone(state);
    tampered.pools = tampered.pools.filter((p) => !p.name.endsWith('.pool-hangzhou'));
    const r = round(tampered, history);
    expect(r.plan.warnings).toEqual([expect.objectContaining({ code: 'DRIFT', pool: 'pool-hangzhou' })]);
    expect(kinds(r.plan)).toEqual(['create-pool', 'replace-pool-addresses', 'replace-config-pools']);
    expect(round(r.state, r.history).plan.changes).toEqual([]);
  });

  it('never writes a pool carrying our name but not our remark, nor a config of our domain that is not ours', () => {
    const tampered = empty();
    tampered.pools.push({
      id: 'pool-theirs',
      name: 'tricenter.demo.web-demo.pool-hangzhou',
      type: 'IPv4',
      remark: 'ops',
      healthJudgement: 'any_ok',
      enableStatus: 'enable',
      lbStrategy: 'round_robin',
      healthStatus: 'ok',
      members: [],
    });
    tampered.configs.push({
      id: 'config-theirs',
      domain: 'web-demo.example.com',
      hostname: 'web-demo',
      zone: 'example.com',
      rrType: 'A',
      ttl: 600,
      remark: '',
      enableStatus: 'enable',
      lbStrategy: 'round_robin',
      pools: [],
      healthStatus: 'ok',
      availableStatus: 'available',
    });
    const r = round(tampered, undefined);
    expect(r.plan.warnings.map((w) => w.code)).toEqual(['FOREIGN_POOL', 'STRATEGY_BLOCKED']);
    const touched = r.plan.changes.flatMap((c) =>
      'poolId' in c && c.poolId ? [c.poolId] : 'configId' in c && c.configId ? [c.configId] : [],
    );
    expect(touched).toEqual([]);
    expect(r.plan.changes.some((c) => c.kind === 'create-config')).toBe(false);
    expect(r.plan.changes.every((c) => !('pool' in c) || c.pool !== 'pool-hangzhou')).toBe(true);
  });

  it('deletes only address objects that are ours: a hand-made address with our name prefix but no remark stays', () => {
    const { state, history } = seeded();
    const tampered = structuredClone(state);
    tampered.addresses.push({
      id: 'addr-theirs',
      name: 'tricenter.demo.web-demo.pool-beijing.10.0.0.9',
      address: '10.0.0.9',
      type: 'IPv4',
      remark: 'ops',
      enableStatus: 'enable',
      availableMode: 'manual',
      healthJudgement: 'any_ok',
      healthTasks: [],
      healthStatus: 'ok',
      availableStatus: 'available',
    });
    expect(round(tampered, history).plan.changes).toEqual([]);
  });

  it('a new address joins: created with our health task, then the pool is rewritten with it', () => {
    const { state, history } = seeded();
    const r = round(state, history, observe({ 'cluster2-beijing': ['127.0.0.3', '127.0.0.8'] }));
    expect(kinds(r.plan)).toEqual(['create-address', 'replace-pool-addresses']);
    const created = r.plan.changes[0];
    expect(created).toMatchObject({
      kind: 'create-address',
      input: {
        name: 'tricenter.demo.web-demo.pool-beijing.127.0.0.8',
        remark: 'tricenter:demo/web-demo@cluster2-beijing',
        availableMode: 'auto',
      },
      healthTasks: [{ ipVersion: 'IPv4', templateId: state.templates[0]?.id, port: 80 }],
    });
    expect(r.plan.changes[1]).toMatchObject({ added: ['127.0.0.8'], removed: [] });
  });
});
