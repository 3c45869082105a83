import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { clusterRegistrySchema, type ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { parseTrafficPolicy, type TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import type { GtmPool, GtmStrategy } from '#shared/traffic/domain/gtm.ts';
import type { ClusterObservation, GtmChange, GtmState, PoolRefPlan } from '#shared/traffic/domain/types.ts';

const example = (file: string) => readFileSync(fileURLToPath(new URL(`../../examples/web-demo/${file}`, import.meta.url)), 'utf8');

export function seedPolicy(): TrafficPolicy {
  return parseTrafficPolicy(parse(example('traffic.yaml')), { file: 'traffic.yaml' });
}

export function seedRegistry(): ClusterRegistry {
  return clusterRegistrySchema.parse(parse(example('clusters.yaml')));
}

export const emptyState = (): GtmState => ({ pools: [], monitors: {}, strategies: [], global: { ttl: 600 } });

/** The seed's three Ingress addresses on the local twin. */
export const SEED_ADDRESSES: Record<string, string> = {
  'cluster1-beijing': '127.0.0.2',
  'cluster2-beijing': '127.0.0.3',
  'cluster1-hangzhou': '127.0.0.4',
};

export function observe(overrides: Record<string, ClusterObservation | string[]> = {}): Record<string, ClusterObservation> {
  const out: Record<string, ClusterObservation> = {};
  for (const [cluster, addr] of Object.entries(SEED_ADDRESSES)) {
    const o = overrides[cluster];
    out[cluster] = o === undefined ? { addresses: [addr] } : Array.isArray(o) ? { addresses: o } : o;
  }
  return out;
}

/**
 * Applies planned changes to a GtmState the way GTM would (ids handed out in sequence): lets the
 * planner tables run sequences of reconciles without any I/O.
 */
export function applyToState(state: GtmState, changes: GtmChange[]): GtmState {
  const next: GtmState = structuredClone(state);
  let seq = next.pools.length + Object.keys(next.monitors).length + next.strategies.length;
  const id = (prefix: string) => `${prefix}-${++seq}`;
  const byPolicyName = new Map<string, GtmPool>();
  const poolFor = (policyPool: string) => {
    const hit = byPolicyName.get(policyPool) ?? next.pools.find((p) => p.name.endsWith(`.${policyPool}`));
    if (!hit) throw new Error(`no pool ${policyPool}`);
    return hit;
  };
  const refs = (list: PoolRefPlan[]) => list.map((r) => ({ poolId: poolFor(r.pool).id, weight: r.weight }));
  for (const change of changes) {
    switch (change.kind) {
      case 'create-pool': {
        const monitorConfigId = id('mon');
        const { monitor, type, ...input } = change.input;
        const pool: GtmPool = { id: id('pool'), type, ...input, addrCount: input.addresses.length, monitorConfigId, monitorStatus: 'OPEN' };
        next.monitors[monitorConfigId] = monitor;
        next.pools.push(pool);
        byPolicyName.set(change.pool, pool);
        break;
      }
      case 'update-pool': {
        const pool = next.pools.find((p) => p.id === change.poolId);
        if (!pool) throw new Error(`no pool ${change.poolId}`);
        Object.assign(pool, change.input, { addrCount: change.input.addresses.length });
        break;
      }
      case 'create-monitor': {
        const monitorConfigId = id('mon');
        next.monitors[monitorConfigId] = change.config;
        poolFor(change.pool).monitorConfigId = monitorConfigId;
        break;
      }
      case 'update-monitor':
        next.monitors[change.monitorConfigId] = change.config;
        break;
      case 'open-monitor':
        poolFor(change.pool).monitorStatus = 'OPEN';
        break;
      case 'create-strategy':
      case 'update-strategy': {
        const strategy: GtmStrategy = {
          ...change.input,
          id: change.kind === 'update-strategy' ? change.strategyId : id('strategy'),
          primary: refs(change.input.primary),
          failover: refs(change.input.failover),
          accessMode: 'AUTO',
        };
        next.strategies = [...next.strategies.filter((s) => s.id !== strategy.id), strategy];
        break;
      }
      case 'update-global-config':
        next.global = { ...change.config };
        break;
    }
  }
  return next;
}
