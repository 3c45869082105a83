import type { ClusterRegistry } from '../../delivery/model/clusters.ts';
import type { AppRef } from '../../delivery/model/ownership.ts';
import type { TrafficPolicy } from '../../delivery/model/traffic-policy.ts';
import {
  clusterOfRemark,
  ownedPoolName,
  ownedStrategyName,
  type GtmAddress,
  type GtmMonitorConfig,
  type GtmPool,
  type GtmPoolType,
  type GtmStrategy,
} from './gtm.ts';
import { candidateAddresses, DEFAULT_REMOVE_AFTER, nextAddresses, normalizeAddress, poolType, sortAddresses } from './desired.ts';
import { resolvePools } from './resolve.ts';
import type {
  ClusterObservation,
  DesiredPool,
  GtmChange,
  GtmState,
  PoolRefPlan,
  StrategyPlan,
  TrafficHistory,
  TrafficPlan,
  TrafficWarning,
} from './types.ts';

export interface PlanTrafficInput {
  policy: TrafficPolicy;
  registry: ClusterRegistry;
  /** Per registry cluster name; a cluster missing here counts as unknown, like 'unreachable'. */
  observations: Record<string, ClusterObservation>;
  history: TrafficHistory | undefined;
  state: GtmState;
  now: number;
  /** Consecutive absent observations before an address leaves its pool (default 3). */
  removeAfter?: number;
}

type PoolStatus = { kind: 'absent' } | { kind: 'owned'; pool: GtmPool } | { kind: 'blocked' };

interface PoolOutcome {
  name: string;
  /** The pool exists in GTM (or will after this plan) and may be referenced by the strategy. */
  usable: boolean;
  blocked: boolean;
  type: GtmPoolType;
  lbaStrategy: 'ALL_RR' | 'RATIO';
  poolId?: string;
}

/**
 * The pure traffic planner: from what the clusters report now, what was seen before and what GTM
 * holds, the minimal ordered list of GTM writes, the next history and the warnings. Safety rules:
 * an unreachable cluster keeps its addresses; an address leaves only after `removeAfter` absent
 * observations in a row; a pool never becomes empty unless `allowEmpty`; only pools we own are
 * written; everything is normalised and sorted before comparing, so equal state plans nothing.
 */
export function planTraffic(input: PlanTrafficInput): TrafficPlan {
  const { policy, state } = input;
  const app: AppRef = { namespace: policy.metadata.namespace, name: policy.metadata.name };
  const removeAfter = input.removeAfter ?? DEFAULT_REMOVE_AFTER;
  const resolved = resolvePools(policy, input.registry);
  const monitor = desiredMonitor(policy);

  const warnings: TrafficWarning[] = [];
  const poolChanges: GtmChange[] = [];
  const monitorChanges: GtmChange[] = [];
  const history: TrafficHistory = { pools: {}, observedAt: input.now };
  const desired: DesiredPool[] = [];
  const outcomes = new Map<string, PoolOutcome>();

  for (const entry of resolved) {
    const name = entry.pool.name;
    const gtmName = ownedPoolName(app, name);
    const status = poolStatus(app, gtmName, state.pools, name, warnings);
    const current = status.kind === 'owned' ? status.pool : undefined;
    // A pool's type is fixed at creation (UpdateDnsGtmAddressPool has no Type): other addresses cannot join it.
    const type = current?.type ?? poolType(candidateAddresses(entry, input), name, warnings);
    const next = nextAddresses(entry, input, current, type, app, removeAfter, warnings);
    const addresses = next.addresses;
    history.pools[name] = Object.fromEntries(next.history);

    if (status.kind === 'blocked') {
      outcomes.set(name, { name, usable: false, blocked: true, type, lbaStrategy: entry.pool.lbaStrategy });
      continue;
    }
    desired.push({
      pool: name,
      gtmName,
      addresses: addresses.map((a) => ({
        addr: a.addr,
        cluster: next.history.get(a.addr)?.cluster ?? '',
        absent: next.history.get(a.addr)?.absent ?? 0,
        mode: a.mode,
      })),
    });
    const poolInput = { name: gtmName, lbaStrategy: entry.pool.lbaStrategy, addresses };

    if (!current) {
      if (status.kind === 'absent' && Object.keys(input.history?.pools[name] ?? {}).length > 0) {
        warnings.push({
          code: 'DRIFT',
          pool: name,
          message: `pool ${gtmName} is gone from GTM although the last reconcile kept it: changed outside tricenter; it is re-created`,
        });
      }
      if (addresses.length === 0) {
        warnings.push({
          code: 'NO_ADDRESS_YET',
          pool: name,
          message: `pool ${name} has no address yet; it is created once a cluster reports one`,
        });
        outcomes.set(name, { name, usable: false, blocked: false, type, lbaStrategy: entry.pool.lbaStrategy });
        continue;
      }
      poolChanges.push({ kind: 'create-pool', pool: name, input: { ...poolInput, type, monitor } });
      outcomes.set(name, { name, usable: true, blocked: false, type, lbaStrategy: entry.pool.lbaStrategy });
      continue;
    }

    outcomes.set(name, { name, usable: true, blocked: false, type, lbaStrategy: entry.pool.lbaStrategy, poolId: current.id });
    const currentAddresses = sortAddresses(current.addresses.map((a) => ({ ...a, addr: normalizeAddress(a.addr) })));
    const ratio = entry.pool.lbaStrategy === 'RATIO';
    if (current.lbaStrategy !== entry.pool.lbaStrategy || !sameAddresses(currentAddresses, addresses, ratio)) {
      const before = new Set(currentAddresses.map((a) => a.addr));
      const after = new Set(addresses.map((a) => a.addr));
      poolChanges.push({
        kind: 'update-pool',
        pool: name,
        poolId: current.id,
        input: poolInput,
        added: [...after].filter((a) => !before.has(a)),
        removed: [...before].filter((a) => !after.has(a)),
      });
    }
    const monitorId = current.monitorConfigId;
    const currentMonitor = monitorId === undefined ? undefined : state.monitors[monitorId];
    if (monitorId === undefined || current.monitorStatus === 'UNCONFIGURED') {
      monitorChanges.push({ kind: 'create-monitor', pool: name, poolId: current.id, config: monitor });
      monitorChanges.push({ kind: 'open-monitor', pool: name });
    } else {
      if (!currentMonitor || !sameMonitor(currentMonitor, monitor)) {
        monitorChanges.push({ kind: 'update-monitor', pool: name, monitorConfigId: monitorId, config: monitor });
      }
      if (current.monitorStatus !== 'OPEN') monitorChanges.push({ kind: 'open-monitor', pool: name, monitorConfigId: monitorId });
    }
  }

  const changes = [...sortCreatesFirst(poolChanges), ...monitorChanges];
  const strategyChange = planStrategy(app, policy, outcomes, state.strategies, warnings);
  if (strategyChange) changes.push(strategyChange);
  const globalConfig = {
    ttl: policy.spec.ttl,
    instanceName: state.global.instanceName ?? ownedStrategyName(app),
    userDomainName: normalizeAddress(policy.spec.domain),
  };
  const servedDomain = normalizeAddress(state.global.userDomainName ?? '');
  if (input.history !== undefined && servedDomain !== '' && servedDomain !== globalConfig.userDomainName) {
    warnings.push({
      code: 'DRIFT',
      message: `the GTM instance answers for ${servedDomain}, not ${globalConfig.userDomainName}: changed outside tricenter; the domain is written back`,
    });
  }
  if (state.global.ttl !== globalConfig.ttl || servedDomain !== globalConfig.userDomainName) {
    changes.push({ kind: 'update-global-config', config: globalConfig });
  }
  return { changes, history, warnings, desired };
}

function poolStatus(app: AppRef, gtmName: string, pools: GtmPool[], name: string, warnings: TrafficWarning[]): PoolStatus {
  const matches = pools.filter((p) => p.name === gtmName);
  if (matches.length === 0) return { kind: 'absent' };
  if (matches.length > 1) {
    warnings.push({
      code: 'AMBIGUOUS',
      pool: name,
      message: `${matches.length} GTM pools are named ${gtmName}; none is written until only one remains`,
    });
    return { kind: 'blocked' };
  }
  const pool = matches[0] as GtmPool;
  const strangers = pool.addresses.filter((a) => clusterOfRemark(app, a.remark) === undefined);
  if (strangers.length > 0) {
    warnings.push({
      code: 'FOREIGN_POOL',
      pool: name,
      message: `GTM pool ${gtmName} (${pool.id}) holds addresses not marked as ours (${strangers.map((a) => a.addr).join(', ')}); it is left untouched`,
    });
    return { kind: 'blocked' };
  }
  return { kind: 'owned', pool };
}

function sameAddresses(current: GtmAddress[], desired: GtmAddress[], compareWeights: boolean): boolean {
  return (
    current.length === desired.length &&
    current.every((c, i) => {
      const d = desired[i] as GtmAddress;
      return c.addr === d.addr && c.mode === d.mode && c.remark === d.remark && (!compareWeights || c.weight === d.weight);
    })
  );
}

function desiredMonitor(policy: TrafficPolicy): GtmMonitorConfig {
  const hc = policy.spec.healthCheck;
  return {
    protocol: hc.protocol,
    interval: hc.interval,
    evaluationCount: hc.evaluationCount,
    timeout: hc.timeout,
    port: hc.port,
    host: hc.host ?? policy.spec.domain,
    path: hc.path,
    code: hc.failureCode,
  };
}

function sameMonitor(a: GtmMonitorConfig, b: GtmMonitorConfig): boolean {
  return (
    a.protocol === b.protocol &&
    a.interval === b.interval &&
    a.evaluationCount === b.evaluationCount &&
    a.timeout === b.timeout &&
    a.port === b.port &&
    a.host.toLowerCase() === b.host.toLowerCase() &&
    a.path === b.path &&
    a.code === b.code
  );
}

function sortCreatesFirst(changes: GtmChange[]): GtmChange[] {
  return [...changes.filter((c) => c.kind === 'create-pool'), ...changes.filter((c) => c.kind !== 'create-pool')];
}

function poolRef(outcome: PoolOutcome): PoolRefPlan {
  return { pool: outcome.name, weight: 1, ...(outcome.poolId ? { poolId: outcome.poolId } : {}) };
}

function planStrategy(
  app: AppRef,
  policy: TrafficPolicy,
  outcomes: Map<string, PoolOutcome>,
  strategies: GtmStrategy[],
  warnings: TrafficWarning[],
): GtmChange | undefined {
  const { access } = policy.spec;
  const name = ownedStrategyName(app);
  const primary = outcomes.get(access.primary);
  const failover = access.failover === undefined ? undefined : outcomes.get(access.failover);
  const block = (message: string): undefined => {
    warnings.push({ code: 'STRATEGY_BLOCKED', message });
    return undefined;
  };
  if (strategies.length > 1) return block(`${strategies.length} access strategies are named ${name}; none is written`);
  if (!primary?.usable) return block(`access strategy ${name} waits for its primary pool ${access.primary}`);
  if (failover?.blocked) return block(`access strategy ${name} is not written: its failover pool ${access.failover} is not ours`);

  const useFailover = failover?.usable === true;
  const plan: StrategyPlan = {
    name,
    primaryPoolType: primary.type,
    primary: [poolRef(primary)],
    primaryLbaStrategy: primary.lbaStrategy,
    failover: useFailover ? [poolRef(failover)] : [],
    failoverPoolType: useFailover ? failover.type : primary.type,
    failoverLbaStrategy: useFailover ? failover.lbaStrategy : primary.lbaStrategy,
    minAvailable: access.minAvailable,
  };
  const current = strategies[0];
  if (!current) return { kind: 'create-strategy', input: plan };

  const ids = (refs: StrategyPlan['primary']) => refs.map((r) => r.poolId);
  const sameRefs = (want: Array<string | undefined>, have: GtmStrategy['primary']) =>
    want.every((id) => id !== undefined) &&
    [...want].sort().join(',') ===
      have
        .map((r) => r.poolId)
        .sort()
        .join(',');
  const unchanged =
    sameRefs(ids(plan.primary), current.primary) &&
    sameRefs(ids(plan.failover), current.failover) &&
    current.primaryLbaStrategy === plan.primaryLbaStrategy &&
    current.primaryPoolType === plan.primaryPoolType &&
    current.minAvailable === plan.minAvailable &&
    current.accessMode === 'AUTO' &&
    (plan.failover.length === 0 ||
      (current.failoverLbaStrategy === plan.failoverLbaStrategy && current.failoverPoolType === plan.failoverPoolType));
  return unchanged ? undefined : { kind: 'update-strategy', strategyId: current.id, input: plan };
}
