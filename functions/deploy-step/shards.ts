import { DRIFT_SHARD_MAX_CLUSTERS } from '#shared/platform/triggers/async-invocation.ts';

/** How deploy-step's state keeping splits beyond one invocation (functions/deploy-step/handler.ts). */
export interface KeepStateOptions {
  /**
   * A timer round that keeps more cluster x application pairs than this is not kept by the timer's
   * invocation: it sends shards of clusters to deploy-step, each its own invocation, each of at most
   * this many pairs (a cluster with more is a shard of its own).
   */
  pairsPerInvocation: number;
  /** A shard whose round started longer ago than this is skipped: a newer round has sent its clusters again. */
  staleShardAfterMs: number;
}

/**
 * Defaults for s.yaml's deploy-step (300 s timeout, 1,024 MB). `npm run bench -- fleet` keeps 50,000
 * pairs (100 clusters x 500 applications, 4 objects each) in one invocation in 7-11 s of CPU on a
 * loaded 2-core machine, 18 s of modelled round trips when cold, and at most 319 MB peak RSS;
 * 100,000 pairs is twice that (under 60 s, a fifth of the timeout, with room for slower API servers
 * and a round of heals). Past it, each shard holds its own clusters' objects only (the bench's
 * shards of 10,000 pairs: 40,000 objects, a heap growth of 33 MB). Two minutes: a shard that waited
 * behind two rounds (FC's async queue lagging) is dropped, since a newer round has sent its clusters
 * again; one minute would drop every shard of a queue lagging steadily by a minute, and nothing
 * would be kept at all.
 */
export const DEFAULT_KEEP_STATE: KeepStateOptions = {
  pairsPerInvocation: 100_000,
  staleShardAfterMs: 120_000,
};

/**
 * The registry's clusters (in registry order, those with pairs only) cut into consecutive shards of
 * at most `pairsPerInvocation` pairs and DRIFT_SHARD_MAX_CLUSTERS clusters; a cluster over the limit
 * alone is a shard of its own (a cluster is never split: its lists are read once for all its applications).
 */
export function driftShardsOf(clusters: readonly string[], pairs: ReadonlyMap<string, number>, pairsPerInvocation: number): string[][] {
  const shards: string[][] = [];
  let current: string[] = [];
  let load = 0;
  for (const cluster of clusters) {
    const n = pairs.get(cluster) ?? 0;
    if (n === 0) continue;
    if (current.length > 0 && (load + n > pairsPerInvocation || current.length >= DRIFT_SHARD_MAX_CLUSTERS)) {
      shards.push(current);
      current = [];
      load = 0;
    }
    current.push(cluster);
    load += n;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}
