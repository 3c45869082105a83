import * as z from 'zod/mini';
import type { Clock } from '#shared/platform/clock.ts';
import { errorMessage, TricenterError } from '#shared/platform/errors.ts';
import type { Logger } from '#shared/platform/log.ts';
import { DEFAULT_GTM_INSTANCE, gtmVersionOf, type ClusterRegistry, type GtmVersion } from '#shared/delivery/model/clusters.ts';
import { appKey, type AppRef } from '#shared/delivery/model/ownership.ts';
import { fcHandler } from '#shared/platform/handler.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { stepFinishedEventSchema } from '#shared/platform/triggers/async-invocation.ts';
import { timerEventSchema } from '#shared/platform/triggers/timer.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { Gtm } from '#shared/traffic/ports/gtm.port.ts';
import type { Gtm3 } from '#shared/traffic/ports/gtm3.port.ts';
import type { AppRecord } from '#shared/delivery/model/records.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import { currentRelease } from '#shared/delivery/usecases/releases.ts';
import type { TrafficHistoryStore } from '#shared/traffic/ports/traffic-history.port.ts';
import { reconcileTraffic, type ReconcileTrafficResult } from '#shared/traffic/usecases/reconcile-traffic.ts';

export interface TrafficDeps {
  store: RunStore;
  registry: () => Promise<ClusterRegistry>;
  gateway: Pick<ClusterGateway, 'ingressAddresses'>;
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
}

const gtmReconcileEventSchema = z.union([timerEventSchema, stepFinishedEventSchema]);

/**
 * Timer (every minute) and "step finished" (right after a deploy step): for every application
 * whose current release has a TrafficPolicy, observe the Ingress addresses, plan and apply the
 * minimal GTM changes. Every application is reconciled even when one fails; then the invocation
 * fails loudly if any did.
 */
export function createGtmReconcileHandler(getDeps: (context: FcContext) => Promise<TrafficDeps>) {
  return fcHandler({
    fn: 'gtm-reconcile',
    trigger: gtmReconcileEventSchema,
    deps: getDeps,
    async handle(event, { deps, log }) {
      const apps: Array<AppRef | AppRecord> = 'app' in event ? [event.app] : await appsWithRuns(deps.store);
      const registry = await deps.registry();
      const results: ReconcileTrafficResult[] = [];
      const failures: string[] = [];
      for (const app of apps) {
        const release = await currentRelease(deps.store, app);
        for (const policy of release?.plan.traffic ?? []) {
          try {
            results.push(
              await reconcileTraffic({
                policy,
                registry,
                gateway: deps.gateway,
                gtm: deps.gtmFor(
                  policy.spec.gtmInstanceId,
                  gtmVersionOf(registry, policy.spec.gtmInstanceId ?? DEFAULT_GTM_INSTANCE) ?? '3.0',
                ),
                claims: deps.store,
                history: deps.history,
                logger: log,
                now: deps.clock.now(),
                dryRun: deps.dryRun,
              }),
            );
          } catch (err) {
            failures.push(`${appKey(policy.metadata)}: ${errorMessage(err)}`);
            log.error('traffic reconcile failed', { app: appKey(policy.metadata), error: errorMessage(err) });
          }
        }
      }
      if (failures.length > 0)
        throw new TricenterError('INTERNAL', `traffic reconcile failed for ${failures.length} application(s): ${failures.join('; ')}`);
      return results;
    },
  });
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
