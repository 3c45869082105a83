import { BundleError } from '../../platform/errors.ts';
import { appKey, type AppRef } from '../../delivery/model/ownership.ts';
import type { TrafficPolicy } from '../../delivery/model/traffic-policy.ts';

/**
 * Which GTM resources a TrafficPolicy writes, as claims (pure). GTM 2.0 serves one domain per
 * instance and the reconciler rewrites the instance's domain (UpdateDnsGtmInstanceGlobalConfig), so
 * the instance is as exclusive as the domain: a policy claims both, and another application naming
 * either is refused. Claims are made in the name of the application that ships the policy, whose
 * namespace and name the policy must carry (the reconciler knows the application only by them).
 */

/**
 * One GTM resource held by one application. GTM 2.0 serves one domain per instance, so both the
 * instance and the domain are exclusive: a TrafficPolicy claims `trafficClaimResource('instance', id)`
 * and `trafficClaimResource('domain', fqdn)`, and holds them until its application is deleted.
 */
export interface TrafficClaim {
  resource: string;
  app: AppRef;
  /** The pair the policy named when the claim was made (resolved instance id, normalised domain). */
  instanceId: string;
  domain: string;
  claimedAt: number;
}

type TrafficResource = { kind: 'instance'; instanceId: string } | { kind: 'domain'; domain: string };

export interface TrafficTarget {
  app: AppRef;
  /** The instance the policy names, or the deployment's default. */
  instanceId: string;
  domain: string;
}

function trafficClaimResource(resource: TrafficResource): string {
  return resource.kind === 'instance' ? `gtm-instance/${resource.instanceId}` : `domain/${normalizeDomain(resource.domain)}`;
}

/** Case and a final dot do not make another domain. */
export function normalizeDomain(domain: string): string {
  return domain.toLowerCase().replace(/\.$/, '');
}

export function targetResources(target: TrafficTarget): string[] {
  return [
    trafficClaimResource({ kind: 'instance', instanceId: target.instanceId }),
    trafficClaimResource({ kind: 'domain', domain: target.domain }),
  ];
}

/**
 * The (instance, domain) each policy of `app` writes. Refuses a policy that carries another
 * application's name, and one that names no instance when the deployment configures no default.
 */
export function trafficTargets(app: AppRef, policies: TrafficPolicy[], defaultInstanceId: string | undefined): TrafficTarget[] {
  return policies.map((policy) => {
    const object = `TrafficPolicy ${appKey(policy.metadata)}`;
    if (appKey(policy.metadata) !== appKey(app)) {
      throw new BundleError(
        `a TrafficPolicy belongs to its application: metadata must be namespace ${app.namespace}, name ${app.name}`,
        { object, field: 'metadata' },
        { code: 'VALIDATION' },
      );
    }
    const instanceId = policy.spec.gtmInstanceId ?? defaultInstanceId;
    if (!instanceId) {
      throw new BundleError(
        'names no GTM instance and this deployment has no default one (TRICENTER_GTM_INSTANCE_ID)',
        { object, field: 'spec.gtmInstanceId' },
        { code: 'VALIDATION' },
      );
    }
    return { app, instanceId, domain: normalizeDomain(policy.spec.domain) };
  });
}
