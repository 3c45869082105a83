import * as z from 'zod/mini';
import type { Clock } from '#shared/core/clock.ts';
import { errorMessage, TricenterError } from '#shared/core/errors.ts';
import type { Logger } from '#shared/core/log.ts';
import type { ClusterRegistry } from '#shared/model/clusters.ts';
import { decodeEvent, stepFinishedEventSchema, timerEventSchema, type FcContext } from '#shared/model/events.ts';
import type { AppRef } from '#shared/model/ownership.ts';
import type { ClusterGateway } from '#shared/ports/cluster-gateway.port.ts';
import type { Gtm } from '#shared/ports/gtm.port.ts';
import type { RunStore } from '#shared/ports/run-store.port.ts';
import type { TrafficHistoryStore } from '#shared/ports/traffic-history.port.ts';
import { reconcileTraffic, type ReconcileTrafficResult } from '#shared/usecases/reconcile-traffic.ts';

export interface TrafficDeps {
  store: RunStore;
  registry: () => Promise<ClusterRegistry>;
  gateway: Pick<ClusterGateway, 'ingressAddresses'>;
  /** A Gtm bound to one GTM 2.0 instance (one instance serves one domain): the policy's, else the default. */
  gtmFor: (instanceId: string | undefined) => Gtm;
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
export function createGtmReconcileHandler(getDeps: () => Promise<TrafficDeps>) {
  return async (event: Buffer, context: FcContext): Promise<ReconcileTrafficResult[]> => {
    const deps = await getDeps();
    const log = deps.logger.child({ fn: 'gtm-reconcile', requestId: context.requestId });
    const parsed = gtmReconcileEventSchema.parse(decodeEvent(event));
    const apps = 'app' in parsed ? [parsed.app] : await allApps(deps.store);
    const registry = await deps.registry();
    const results: ReconcileTrafficResult[] = [];
    const failures: string[] = [];
    for (const app of apps) {
      for (const policy of await trafficPolicies(deps.store, app)) {
        try {
          results.push(
            await reconcileTraffic({ policy, registry, gateway: deps.gateway, gtm: deps.gtmFor(policy.spec.gtmInstanceId), history: deps.history, logger: log, now: deps.clock.now(), dryRun: deps.dryRun }),
          );
        } catch (err) {
          failures.push(`${app.namespace}/${app.name}: ${errorMessage(err)}`);
          log.error('traffic reconcile failed', { app, error: errorMessage(err) });
        }
      }
    }
    if (failures.length > 0) throw new TricenterError('INTERNAL', `traffic reconcile failed for ${failures.length} application(s): ${failures.join('; ')}`);
    return results;
  };
}

async function allApps(store: RunStore): Promise<AppRef[]> {
  const apps: AppRef[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listApps({ limit: 100, ...(cursor ? { cursor } : {}) });
    apps.push(...page.items.filter((r) => r.currentRunId).map((r) => r.app));
    cursor = page.nextCursor;
  } while (cursor);
  return apps;
}

/** The TrafficPolicies of the release the application currently runs. */
async function trafficPolicies(store: RunStore, app: AppRef) {
  const record = await store.getApp(app);
  const run = record?.currentRunId ? await store.getRun(record.currentRunId) : undefined;
  const release = run ? await store.getRelease(run.releaseId) : undefined;
  return release?.plan.traffic ?? [];
}
