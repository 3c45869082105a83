import { BundleError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/log.ts';
import { appKey, type AppRef } from '../../delivery/model/ownership.ts';
import type { TrafficPolicy } from '../../delivery/model/traffic-policy.ts';
import type { RunStore } from '../../delivery/ports/run-store.port.ts';
import type { TrafficClaim } from '../domain/claims.ts';
import { targetResources, trafficTargets, type TrafficTarget } from '../domain/claims.ts';

/**
 * GTM claims (see shared/traffic/domain/claims.ts): made at ingest, before a release or a run exists, and
 * checked by the reconciler before every write.
 *
 * A claim made by an ingest that fails later stays with its application. Claims belong to the
 * application, not to one upload: a later upload of the same application needs the very same
 * claims, and releasing them on failure would race with that upload (which found them held and
 * relies on them). What a failed upload can squat is bounded by what its tenant may name at all.
 */
export async function claimTrafficAtIngest(
  store: Pick<RunStore, 'claimTraffic' | 'getTrafficClaim'>,
  app: AppRef,
  policies: TrafficPolicy[],
  defaultInstanceId: string | undefined,
  now: number,
  logger: Logger,
): Promise<void> {
  const targets = trafficTargets(app, policies, defaultInstanceId);
  // Read first: a refusal writes nothing.
  for (const target of targets) {
    for (const resource of targetResources(target)) refuseForeign(target, await store.getTrafficClaim(resource));
  }
  for (const target of targets) {
    for (const resource of targetResources(target)) {
      // Another application may have claimed it since the read: the conditional create decides.
      refuseForeign(
        target,
        await store.claimTraffic({ resource, app, instanceId: target.instanceId, domain: target.domain, claimedAt: now }),
      );
    }
  }
  if (targets.length > 0) logger.info('traffic claims held', { app: appKey(app), resources: targets.flatMap(targetResources) });
}

/** Why `app` may not write `target` now (empty when it holds every claim the target needs). */
export async function trafficClaimProblems(store: Pick<RunStore, 'getTrafficClaim'>, target: TrafficTarget): Promise<string[]> {
  const problems: string[] = [];
  for (const resource of targetResources(target)) {
    const holder = await store.getTrafficClaim(resource);
    if (!holder) problems.push(`${resource} is not claimed by ${appKey(target.app)} (upload its bundle again to claim it)`);
    else if (appKey(holder.app) !== appKey(target.app)) problems.push(`${resource} is claimed by application ${appKey(holder.app)}`);
  }
  return problems;
}

function refuseForeign(target: TrafficTarget, holder: TrafficClaim | undefined): void {
  if (!holder || appKey(holder.app) === appKey(target.app)) return;
  const isInstance = holder.resource.startsWith('gtm-instance/');
  const what = isInstance ? `GTM instance ${target.instanceId}` : `domain ${target.domain}`;
  throw new BundleError(
    `${what} is claimed by application ${appKey(holder.app)} (since ${new Date(holder.claimedAt).toISOString()}); a GTM instance and its domain serve one application`,
    { object: `TrafficPolicy ${appKey(target.app)}`, field: isInstance ? 'spec.gtmInstanceId' : 'spec.domain' },
    { code: 'VALIDATION' },
  );
}
