import type { ObjectRef } from '../../model/kube.ts';
import type { ObjectHealth, WorkloadStatus } from '../../ports/cluster-gateway.port.ts';

/**
 * Pure health rules (../shared/DESIGN.md): a Deployment is healthy when its controller has observed
 * the latest generation and replicas == updated == ready == available (== desired); an Ingress
 * when it has an address; a Job when Complete; a PersistentVolumeClaim when Bound; any other kind
 * (a CronJob included: its Jobs come and go on its schedule) when it exists.
 */

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface LiveObject {
  metadata?: { generation?: number };
  spec?: { replicas?: number; template?: { spec?: { containers?: Array<{ image?: string }> } } };
  status?: Record<string, unknown> & { observedGeneration?: number; conditions?: Condition[] };
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/** The condition that explains a stuck rollout, e.g. `ProgressDeadlineExceeded: ...`. */
function failingCondition(conditions: Condition[] | undefined): string | undefined {
  const bad = (conditions ?? []).find(
    (c) =>
      (c.type === 'Progressing' && c.status === 'False') ||
      (c.type === 'ReplicaFailure' && c.status === 'True') ||
      (c.type === 'Available' && c.status === 'False'),
  );
  if (!bad) return undefined;
  return [bad.reason, bad.message].filter(Boolean).join(': ') || undefined;
}

function notObserved(live: LiveObject): string | undefined {
  const generation = num(live.metadata?.generation);
  const observed = num(live.status?.observedGeneration);
  return observed < generation ? `rollout of generation ${generation} not yet observed (observed ${observed})` : undefined;
}

function deploymentHealth(live: LiveObject): { healthy: boolean; reason?: string } {
  const pending = notObserved(live);
  if (pending) return { healthy: false, reason: pending };
  const desired = live.spec?.replicas ?? 1;
  const status = live.status ?? {};
  const replicas = num(status.replicas);
  const updated = num(status.updatedReplicas);
  const ready = num(status.readyReplicas);
  const available = num(status.availableReplicas);
  if (replicas === desired && updated === desired && ready === desired && available === desired) return { healthy: true };
  const parts = [`${ready}/${desired} ready`];
  if (updated !== desired) parts.push(`${updated}/${desired} up to date`);
  if (available !== desired) parts.push(`${available}/${desired} available`);
  if (replicas > desired) parts.push(`${replicas - desired} old replicas terminating`);
  const condition = failingCondition(status.conditions);
  if (condition) parts.push(condition);
  return { healthy: false, reason: parts.join(', ') };
}

function statefulSetHealth(live: LiveObject): { healthy: boolean; reason?: string } {
  const pending = notObserved(live);
  if (pending) return { healthy: false, reason: pending };
  const desired = live.spec?.replicas ?? 1;
  const ready = num(live.status?.readyReplicas);
  const updated = num(live.status?.updatedReplicas);
  if (ready === desired && updated === desired) return { healthy: true };
  return { healthy: false, reason: `${ready}/${desired} ready, ${updated}/${desired} up to date` };
}

function daemonSetHealth(live: LiveObject): { healthy: boolean; reason?: string } {
  const pending = notObserved(live);
  if (pending) return { healthy: false, reason: pending };
  const status = live.status ?? {};
  const desired = num(status.desiredNumberScheduled);
  const updated = num(status.updatedNumberScheduled);
  const ready = num(status.numberReady);
  const available = num(status.numberAvailable);
  if (updated === desired && ready === desired && available === desired) return { healthy: true };
  return { healthy: false, reason: `${ready}/${desired} ready, ${updated}/${desired} up to date, ${available}/${desired} available` };
}

/** A Job is healthy once Complete, and reports why when Failed (or how far it got while running). */
function jobHealth(live: LiveObject): { healthy: boolean; reason?: string } {
  const conditions = live.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { healthy: true };
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { healthy: false, reason: ['failed', failed.reason, failed.message].filter(Boolean).join(': ') };
  const completions = (live.spec as { completions?: number } | undefined)?.completions ?? 1;
  return { healthy: false, reason: `${num(live.status?.succeeded)}/${completions} succeeded, ${num(live.status?.active)} active` };
}

/** A PersistentVolumeClaim is healthy once Bound to a volume. */
function claimHealth(live: LiveObject): { healthy: boolean; reason?: string } {
  const phase = typeof live.status?.phase === 'string' ? live.status.phase : 'Pending';
  return phase === 'Bound' ? { healthy: true } : { healthy: false, reason: `claim is ${phase}` };
}

/** Addresses in an Ingress's status (IP, else host name). */
export function ingressAddressesOf(live: unknown): string[] {
  const entries =
    (live as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string; hostname?: string }> } } } | undefined)?.status?.loadBalancer
      ?.ingress ?? [];
  return entries.map((entry) => entry.ip ?? entry.hostname).filter((address): address is string => Boolean(address));
}

/** Health of one object from what the API server returned (undefined = it does not exist). */
export function evaluateHealth(ref: ObjectRef, live: unknown): ObjectHealth {
  if (live === undefined) return { ref, healthy: false, reason: 'not found' };
  const object = live as LiveObject;
  let verdict: { healthy: boolean; reason?: string } = { healthy: true };
  if (ref.kind === 'Deployment') verdict = deploymentHealth(object);
  else if (ref.kind === 'StatefulSet') verdict = statefulSetHealth(object);
  else if (ref.kind === 'DaemonSet') verdict = daemonSetHealth(object);
  else if (ref.kind === 'Job') verdict = jobHealth(object);
  else if (ref.kind === 'PersistentVolumeClaim') verdict = claimHealth(object);
  else if (ref.kind === 'Ingress')
    verdict = ingressAddressesOf(live).length > 0 ? { healthy: true } : { healthy: false, reason: 'no address yet' };
  return verdict.reason === undefined ? { ref, healthy: verdict.healthy } : { ref, healthy: verdict.healthy, reason: verdict.reason };
}

/** `kubectl get deploy` figures of a Deployment. */
export function workloadStatus(ref: ObjectRef, live: unknown): WorkloadStatus {
  const object = live as LiveObject;
  const status = object.status ?? {};
  const image = object.spec?.template?.spec?.containers?.[0]?.image;
  return {
    ref,
    desired: object.spec?.replicas ?? 1,
    ready: num(status.readyReplicas),
    upToDate: num(status.updatedReplicas),
    available: num(status.availableReplicas),
    ...(image ? { image } : {}),
  };
}
