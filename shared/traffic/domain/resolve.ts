import { BundleError } from '../../platform/errors.ts';
import type { ClusterRegistry } from '../../delivery/model/clusters.ts';
import type { TrafficPolicy, TrafficPool } from '../../delivery/model/traffic-policy.ts';

/** A pool with its clusters resolved against the registry (canonical names, registry order for selectors). */
export interface ResolvedPool {
  pool: TrafficPool;
  clusters: Array<{ name: string; weight: number }>;
}

/**
 * Resolves every pool's clusters: `clusters` by name or alias, `clusterLabelSelector` by labels.
 * Errors name the policy and the field (`spec.pools[0].clusters[1]`).
 */
export function resolvePools(policy: TrafficPolicy, registry: ClusterRegistry): ResolvedPool[] {
  const byKey = new Map<string, string>();
  for (const cluster of registry.clusters) {
    for (const key of [cluster.name, ...cluster.aliases]) byKey.set(key, cluster.name);
  }
  const object = `TrafficPolicy ${policy.metadata.namespace}/${policy.metadata.name}`;
  const fail = (field: string, message: string): never => {
    throw new BundleError(message, { object, field }, { code: 'VALIDATION' });
  };

  return policy.spec.pools.map((pool, index) => {
    const base = `spec.pools[${index}]`;
    let names: string[];
    if (pool.clusters) {
      names = pool.clusters.map(
        (key, i) => byKey.get(key) ?? fail(`${base}.clusters[${i}]`, `cluster "${key}" is not in the cluster registry`),
      );
    } else {
      const selector = Object.entries(pool.clusterLabelSelector ?? {});
      names = registry.clusters.filter((c) => selector.every(([k, v]) => c.labels[k] === v)).map((c) => c.name);
      if (names.length === 0 && !pool.allowEmpty) {
        fail(`${base}.clusterLabelSelector`, 'matches no cluster of the registry (set allowEmpty: true to accept an empty pool)');
      }
    }
    const unique = [...new Set(names)];
    const weights = new Map<string, number>();
    for (const [key, weight] of Object.entries(pool.weights ?? {})) {
      const name = byKey.get(key);
      if (name === undefined || !unique.includes(name))
        fail(`${base}.weights.${key}`, `"${key}" is not one of this pool's clusters (${unique.join(', ') || 'none'})`);
      else weights.set(name, weight);
    }
    return { pool, clusters: unique.map((name) => ({ name, weight: pool.lbaStrategy === 'RATIO' ? (weights.get(name) ?? 1) : 1 })) };
  });
}
