import type { AppRef } from '#shared/delivery/model/ownership.ts';

/** How one gtm-reconcile invocation spends its time (functions/gtm-reconcile/handler.ts). */
export interface RoundOptions {
  /** Applications reconciled at once. Each holds its own GTM instance (claims), so no two write the same one. */
  concurrency: number;
  /**
   * No application is started once the round has run this long; one already started finishes
   * (observe, plan, apply, history: never half-applied). Below the function's timeout by the time
   * an application in flight may still need.
   */
  budgetMs: number;
  /**
   * A timer round with more applications than this is not reconciled by the timer's invocation: it
   * sends shards of this many applications to gtm-reconcile, each its own invocation.
   */
  appsPerInvocation: number;
  /** A shard whose round started longer ago than this is skipped: a newer round has sent its applications again. */
  staleShardAfterMs: number;
}

/**
 * Defaults for s.yaml's gtm-reconcile (120 s timeout, 512 MB). 8 at once: about 8 GTM calls in
 * flight per invocation. 90 s: 30 s left for the applications in flight. 1,000 applications: about
 * 55 s modelled at 50 ms per GTM call in a round that re-reads every GTM setting, half that in the
 * other rounds (`npm run bench -- fleet`: 500 applications, 27 s), within the budget with room for
 * slower calls. Two minutes: a shard that waited behind two rounds is dropped (a newer round has
 * sent its applications again).
 */
export const DEFAULT_ROUND: RoundOptions = {
  concurrency: 8,
  budgetMs: 90_000,
  appsPerInvocation: 1_000,
  staleShardAfterMs: 120_000,
};

/** The round's applications grouped by namespace (a shard then lists few namespaces per cluster). */
export function byNamespace<T extends AppRef>(apps: readonly T[]): T[] {
  return [...apps].sort((a, b) => (a.namespace === b.namespace ? cmp(a.name, b.name) : cmp(a.namespace, b.namespace)));
}

/** Consecutive slices of at most `size`. */
export function shardsOf<T>(items: readonly T[], size: number): T[][] {
  const shards: T[][] = [];
  for (let i = 0; i < items.length; i += size) shards.push(items.slice(i, i + size));
  return shards;
}

/**
 * The order a round starts its applications in: rotated by the round's minute, so that when rounds
 * run out of time, it is not always the same applications that wait.
 */
export function rotateForRound<T>(items: readonly T[], roundAt: number): T[] {
  if (items.length === 0) return [];
  const offset = (Math.floor(roundAt / 60_000) * 7_919) % items.length;
  return [...items.slice(offset), ...items.slice(0, offset)];
}

export interface PoolOutcome<T> {
  /** Items that were started (each ran to its end). */
  started: T[];
  /** Items never started: the deadline came first. */
  notStarted: T[];
}

/**
 * Runs `work` over the items, at most `concurrency` at once, starting none once `now()` reaches
 * `deadline`. Work that throws is the caller's to catch: a throw here would leave others running.
 */
export async function runPool<T>(
  items: readonly T[],
  options: { concurrency: number; deadline: number; now: () => number },
  work: (item: T) => Promise<void>,
): Promise<PoolOutcome<T>> {
  const started: T[] = [];
  const notStarted: T[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      if (options.now() >= options.deadline) {
        notStarted.push(item);
        continue;
      }
      started.push(item);
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, items.length)) }, worker));
  return { started, notStarted };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
