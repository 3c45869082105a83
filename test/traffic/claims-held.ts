import type { TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import type { TrafficClaim } from '#shared/traffic/domain/claims.ts';
import { normalizeDomain, targetResources } from '#shared/traffic/domain/claims.ts';

/** The claims a policy's application holds after its ingest: its instance and its domain, nothing else. */
export function claimsHeld(policy: TrafficPolicy, instanceId: string): Pick<RunStore, 'getTrafficClaim'> {
  const app = { namespace: policy.metadata.namespace, name: policy.metadata.name };
  const target = { app, instanceId, domain: normalizeDomain(policy.spec.domain) };
  const held = new Map<string, TrafficClaim>(
    targetResources(target).map((resource) => [resource, { resource, app, instanceId, domain: target.domain, claimedAt: 0 }]),
  );
  return { getTrafficClaim: async (resource) => held.get(resource) };
}
