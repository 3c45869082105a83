import * as z from 'zod/mini';
import type { Clock } from '#shared/platform/clock.ts';
import { errorMessage, TricenterError } from '#shared/platform/errors.ts';
import type { Logger } from '#shared/platform/log.ts';
import { DEFAULT_GTM_INSTANCE, gtmVersionOf, type ClusterRegistry, type GtmVersion } from '#shared/delivery/model/clusters.ts';
import { appKey, type AppRef } from '#shared/delivery/model/ownership.ts';
import { fcHandler } from '#shared/platform/handler.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import {
  stepFinishedEventSchema,
  TRAFFIC_SHARD_MAX_APPS,
  trafficShardEventSchema,
  type TrafficShardEvent,
} from '#shared/platform/triggers/async-invocation.ts';
import { timerEventSchema } from '#shared/platform/triggers/timer.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { Gtm } from '#shared/traffic/ports/gtm.port.ts';
import type { Gtm3 } from '#shared/traffic/ports/gtm3.port.ts';
import type { AppRecord } from '#shared/delivery/model/records.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import type { QueueMessage, TaskQueue } from '#shared/delivery/ports/task-queue.port.ts';
import { currentRelease } from '#shared/delivery/usecases/releases.ts';
import type { TrafficHistoryStore } from '#shared/traffic/ports/traffic-history.port.ts';
import { reconcileTraffic } from '#shared/traffic/usecases/reconcile-traffic.ts';
import { roundObserver, type RoundObserverStats } from '#shared/traffic/usecases/round-observer.ts';
import { byNamespace, DEFAULT_ROUND, rotateForRound, runPool, shardsOf, type RoundOptions } from './round.ts';

export interface TrafficDeps {
  store: RunStore;
  registry: () => Promise<ClusterRegistry>;
  /** Ingresses are read a namespace at a time, once per cluster and namespace per round (round-observer.ts). */
  gateway: Pick<ClusterGateway, 'ingressAddressesIn'>;
  /**
   * A port bound to one GTM instance: the policy's, else the default; of the instance's version
   * (the cluster registry's tenants[].gtm[].version, 3.0 when it does not say): GTM 3.0 or GTM 2.0.
   */
  gtmFor: (instanceId: string | undefined, version: GtmVersion) => Gtm | Gtm3;
  history: TrafficHistoryStore;
  clock: Clock;
  logger: Logger;
  /** Plan and log only: nothing is written to GTM. */
  dryRun: boolean;
  /**
   * Where a timer round too large for one invocation sends its shards: gtm-reconcile's own async
   * invocations in the cloud, the twin's in-process reconcile locally. Absent: the timer's
   * invocation reconciles every application itself, within its budget.
   */
  shards?: TaskQueue<TrafficShardMessage>;
  /** Concurrency, budget, split size: DEFAULT_ROUND where not given. */
  round?: Partial<RoundOptions>;
}

/** A shard of a timer round as a queue message. */
export type TrafficShardMessage = TrafficShardEvent & QueueMessage;

/** What one invocation did: counts, not every plan (the plans are logged, one line per application). */
export interface RoundSummary {
  /** `split`: the round was sent on as shards and nothing was reconciled here. */
  mode: 'reconciled' | 'split' | 'stale-shard';
  apps: number;
  /** Applications whose reconcile ran (success or failure). */
  reconciled: number;
  /** Planned GTM changes over all of them. */
  changes: number;
  /** Applications not started before the round's budget ran out: the next round takes them. */
  deferred: AppRef[];
  /** Ingress lists sent to clusters, and the application asks they answered. */
  observed: RoundObserverStats;
  shards?: number;
}

const gtmReconcileEventSchema = z.union([timerEventSchema, stepFinishedEventSchema, trafficShardEventSchema]);

/**
 * Timer (every minute), "step finished" (right after a deploy step) and a shard of a split timer
 * round: for every application whose current release has a TrafficPolicy, observe the Ingress
 * addresses, plan and apply the minimal GTM changes.
 *
 * A round: the Ingresses of a cluster's namespace are read once and shared by the round's
 * applications (roundObserver); applications are reconciled `concurrency` at once and none is
 * started past the budget (those are logged and left for the next round, never half-applied).
 * A timer round with more applications than `appsPerInvocation` is not reconciled here: it is sent
 * on as shards, each its own invocation. Every application is reconciled even when one fails; then
 * the invocation fails loudly if any did.
 */
export function createGtmReconcileHandler(getDeps: (context: FcContext) => Promise<TrafficDeps>) {
  return fcHandler({
    fn: 'gtm-reconcile',
    trigger: gtmReconcileEventSchema,
    deps: getDeps,
    async handle(event, { deps, log }): Promise<RoundSummary> {
      const options: RoundOptions = { ...DEFAULT_ROUND, ...deps.round };
      const roundAt = deps.clock.now();
      const none: RoundObserverStats = { lists: 0, asks: 0 };
      if ('type' in event && event.type === 'traffic-shard') {
        const age = roundAt - event.roundAt;
        if (age > options.staleShardAfterMs) {
          log.warn('stale traffic shard skipped: a newer round has sent its applications again', { ageMs: age, apps: event.apps.length });
          return { mode: 'stale-shard', apps: event.apps.length, reconciled: 0, changes: 0, deferred: [], observed: none };
        }
        return reconcileRound(deps, log, options, event.apps, roundAt);
      }
      if ('app' in event) return reconcileRound(deps, log, options, [event.app], roundAt);

      const apps = byNamespace((await appsWithRuns(deps.store)).map((r) => r.app));
      if (deps.shards && apps.length > options.appsPerInvocation) {
        // The same shards every round (namespace by namespace), sent in an order that turns with the
        // round: when shards wait long enough to go stale, it is not always the same ones.
        const shards = rotateForRound(shardsOf(apps, Math.min(options.appsPerInvocation, TRAFFIC_SHARD_MAX_APPS)), roundAt);
        await deps.shards.send(
          shards.map((shard, i) => ({ key: `traffic-round/${roundAt}/${i}`, type: 'traffic-shard', roundAt, apps: shard })),
        );
        log.info('traffic round split into shards', {
          apps: apps.length,
          shards: shards.length,
          appsPerInvocation: options.appsPerInvocation,
        });
        return { mode: 'split', apps: apps.length, reconciled: 0, changes: 0, deferred: [], observed: none, shards: shards.length };
      }
      return reconcileRound(deps, log, options, rotateForRound(apps, roundAt), roundAt);
    },
  });
}

async function reconcileRound(
  deps: TrafficDeps,
  log: Logger,
  options: RoundOptions,
  apps: AppRef[],
  roundAt: number,
): Promise<RoundSummary> {
  // An application named twice (a hand-made shard) is reconciled once: two reconciles of one application must never overlap.
  apps = [...new Map(apps.map((app) => [appKey(app), app])).values()];
  const registry = await deps.registry();
  // One per round, dropped with it: never an observation of an earlier round.
  const gateway = roundObserver(deps.gateway);
  const failures: string[] = [];
  let changes = 0;
  const { started, notStarted } = await runPool(
    apps,
    { concurrency: options.concurrency, deadline: roundAt + options.budgetMs, now: () => deps.clock.now() },
    async (app) => {
      try {
        const release = await currentRelease(deps.store, app);
        for (const policy of release?.plan.traffic ?? []) {
          try {
            const result = await reconcileTraffic({
              policy,
              registry,
              gateway,
              gtm: deps.gtmFor(
                policy.spec.gtmInstanceId,
                gtmVersionOf(registry, policy.spec.gtmInstanceId ?? DEFAULT_GTM_INSTANCE) ?? '3.0',
              ),
              claims: deps.store,
              history: deps.history,
              logger: log,
              now: deps.clock.now(),
              dryRun: deps.dryRun,
            });
            changes += result.plan.changes.length;
          } catch (err) {
            failures.push(`${appKey(policy.metadata)}: ${errorMessage(err)}`);
            log.error('traffic reconcile failed', { app: appKey(policy.metadata), error: errorMessage(err) });
          }
        }
      } catch (err) {
        failures.push(`${appKey(app)}: ${errorMessage(err)}`);
        log.error('traffic reconcile failed', { app: appKey(app), error: errorMessage(err) });
      }
    },
  );
  if (notStarted.length > 0)
    log.warn('traffic round out of time: applications left for the next round', {
      budgetMs: options.budgetMs,
      reconciled: started.length,
      deferred: notStarted.length,
      apps: notStarted.slice(0, 50).map(appKey),
    });
  if (failures.length > 0)
    throw new TricenterError('INTERNAL', `traffic reconcile failed for ${failures.length} application(s): ${failures.join('; ')}`);
  return {
    mode: 'reconciled',
    apps: apps.length,
    reconciled: started.length,
    changes,
    deferred: notStarted,
    observed: { ...gateway.stats },
  };
}
/** Every application record that points at a run (read once, page by page). */
async function appsWithRuns(store: RunStore): Promise<AppRecord[]> {
  const records: AppRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listApps({ limit: 100, ...(cursor ? { cursor } : {}) });
    records.push(...page.items.filter((r) => r.currentRunId));
    cursor = page.nextCursor;
  } while (cursor);
  return records;
}
