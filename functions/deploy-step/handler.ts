import * as z from 'zod/mini';
import { TricenterError } from '#shared/platform/errors.ts';
import { fcHandler } from '#shared/platform/handler.ts';
import type { Logger } from '#shared/platform/log.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { deployTaskSchema, driftShardEventSchema, type DriftShardEvent } from '#shared/platform/triggers/async-invocation.ts';
import { timerEventSchema } from '#shared/platform/triggers/timer.ts';
import type { QueueMessage, TaskQueue } from '#shared/delivery/ports/task-queue.port.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { runDeployTask, type TaskResult } from '#shared/delivery/usecases/run-task.ts';
import { sweepRuns } from '#shared/delivery/usecases/sweep.ts';
import { redeliverNotifications } from '#shared/delivery/usecases/redeliver-notifications.ts';
import { keptRuns, pairsByCluster, sweepDrift, type DriftRound } from '#shared/delivery/usecases/keep-state.ts';
import { DEFAULT_KEEP_STATE, driftShardsOf, type KeepStateOptions } from './shards.ts';

const deployStepEventSchema = z.union([deployTaskSchema, timerEventSchema, driftShardEventSchema]);

export interface DeployStepOptions {
  /**
   * State keeping at most this often (default 0: at every timer event, once a minute in the cloud).
   * The local twin's timer fires every few seconds; drift need not be looked for that often.
   */
  keepStateEveryMs?: number;
}

export interface DeployStepDeps extends WorkflowDeps {
  /**
   * Where a timer round that keeps more than one invocation's pairs sends its drift shards:
   * deploy-step's own async invocations in the cloud, the twin's background work locally. Absent:
   * the timer's invocation keeps every cluster itself, however many.
   */
  driftShards?: TaskQueue<DriftShardMessage>;
  /** Split size and stale-shard age: DEFAULT_KEEP_STATE where not given. */
  keepState?: Partial<KeepStateOptions>;
}

/** A shard of a split state-keeping round as a queue message. */
export type DriftShardMessage = DriftShardEvent & QueueMessage;

/** The timer: the run sweep's counts, then state keeping's round, or how it was split. */
export interface TimerSummary {
  checked: number;
  advanced: number;
  drift?: DriftRound;
  /** State keeping sent on as shards (nothing observed by this invocation): its pairs and shards. */
  split?: { pairs: number; shards: number };
}

/** A drift shard: `stale-shard` when its round is too old (nothing observed). */
export interface DriftShardSummary {
  mode: 'kept' | 'stale-shard';
  clusters: string[];
  drift?: DriftRound;
}

/**
 * Async invocation: one task (one step on one cluster), or a shard of a split state-keeping round.
 * Timer: the sweep (due retries, deadlines, lost messages), then state keeping (drift found, healed
 * or reported: keep-state.ts), in this invocation or, past `pairsPerInvocation` cluster x
 * application pairs, as `drift-shard` messages of clusters through the task queue, each its own
 * invocation that observes and heals only its clusters.
 */
export function createDeployStepHandler(getDeps: (context: FcContext) => Promise<DeployStepDeps>, options: DeployStepOptions = {}) {
  // Only a cadence hint (an instance is disposable): a new instance keeps state at its first timer event.
  let keptAt: number | undefined;
  return fcHandler({
    fn: 'deploy-step',
    trigger: deployStepEventSchema,
    deps: getDeps,
    async handle(event, { deps, log }): Promise<TaskResult | TimerSummary | DriftShardSummary> {
      if ('type' in event) return keepShard(deps, log, event);
      if ('triggerTime' in event) {
        const swept = await sweepRuns({ ...deps, logger: log });
        if (swept.advanced > 0) log.info('sweep advanced runs', swept);
        // Messages a chat robot did not take go out again (never throws).
        await redeliverNotifications({ ...deps, logger: log });
        const now = deps.clock.now();
        if (keptAt !== undefined && now - keptAt < (options.keepStateEveryMs ?? 0)) return swept;
        keptAt = now;
        return { ...swept, ...(await keepState(deps, log, now)) };
      }
      return runDeployTask({ ...deps, logger: log.child({ runId: event.runId }) }, event);
    },
  });
}

async function keepState(deps: DeployStepDeps, log: Logger, roundAt: number): Promise<Pick<TimerSummary, 'drift' | 'split'>> {
  const settings: KeepStateOptions = { ...DEFAULT_KEEP_STATE, ...deps.keepState };
  const runs = await keptRuns(deps);
  if (deps.driftShards) {
    const registry = (await deps.registry()).clusters.map((c) => c.name);
    const pairs = pairsByCluster(runs);
    const total = registry.reduce((sum, cluster) => sum + (pairs.get(cluster) ?? 0), 0);
    if (total > settings.pairsPerInvocation) {
      const shards = driftShardsOf(registry, pairs, settings.pairsPerInvocation);
      await deps.driftShards.send(
        shards.map((clusters, i) => ({ key: `drift-round/${roundAt}/${i}`, type: 'drift-shard', roundAt, clusters })),
      );
      log.info('state keeping split into shards', { pairs: total, shards: shards.length, pairsPerInvocation: settings.pairsPerInvocation });
      return { split: { pairs: total, shards: shards.length } };
    }
  }
  const drift = await sweepDrift({ ...deps, logger: log }, { runs });
  if (drift.drifted > 0 || drift.unobserved.length > 0) log.info('drift round', { ...drift });
  return { drift };
}

/**
 * One shard: its clusters observed and healed, nothing else. Refused whole, before anything is read
 * from a cluster, when it names a cluster the registry does not hold (a forged or outdated message);
 * skipped when its round is older than `staleShardAfterMs`.
 */
async function keepShard(deps: DeployStepDeps, log: Logger, event: DriftShardEvent): Promise<DriftShardSummary> {
  const settings: KeepStateOptions = { ...DEFAULT_KEEP_STATE, ...deps.keepState };
  const clusters = [...new Set(event.clusters)];
  const age = deps.clock.now() - event.roundAt;
  if (age > settings.staleShardAfterMs) {
    log.warn('stale drift shard skipped: a newer round has sent its clusters again', { ageMs: age, clusters: clusters.length });
    return { mode: 'stale-shard', clusters };
  }
  const known = new Set((await deps.registry()).clusters.map((c) => c.name));
  const unknown = event.clusters.flatMap((cluster, i) => (known.has(cluster) ? [] : [`clusters[${i}] "${cluster}"`]));
  if (unknown.length > 0)
    throw new TricenterError(
      'VALIDATION',
      `drift shard ${event.key ?? `of round ${event.roundAt}`}: ${unknown.join(', ')} not in the cluster registry; the shard is refused, no cluster observed`,
    );
  const drift = await sweepDrift({ ...deps, logger: log }, { clusters });
  if (drift.drifted > 0 || drift.unobserved.length > 0) log.info('drift round', { ...drift, shard: clusters.length });
  return { mode: 'kept', clusters, drift };
}
