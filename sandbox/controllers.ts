import { createHash } from 'node:crypto';
import type { Clock } from '#shared/platform/clock.ts';
import { deepEqual, isObject, type Json, type JsonObject } from './kube/fieldpath.ts';
import { managedTime } from './kube/managed-fields.ts';
import type { ClusterJournal } from './kube/journal.ts';
import type { Registry } from './kube/registry.ts';
import { findResource, type ResourceType } from './kube/resources.ts';
import type { StoreEvent } from './kube/store.ts';

/**
 * What a real cluster's controllers and kubelets would do, in the small: a Deployment's rollout
 * completes `readyDelayMs` after each spec change (status replicas, conditions, observedGeneration,
 * written through the status subresource by `kube-controller-manager`), except when a container
 * image is tagged `fail`, which never becomes ready; every Ingress gets the cluster's address.
 * With a journal, the serving templates are saved too, and `start` picks up rollouts and Ingresses
 * that a restart interrupted (a timer does not survive a process).
 *
 * The same delay settles the other kinds: a StatefulSet or DaemonSet (one node) reports its pods
 * ready for each new generation; a Job's pod starts at once and succeeds after the delay (status
 * succeeded and condition Complete), or, when an image is tagged `fail`, the Job fails with
 * BackoffLimitExceeded; a PersistentVolumeClaim is bound to a volume named after its uid, except a
 * claim that asks for a particular volume (spec.volumeName or spec.selector): the sandbox has no
 * PersistentVolumes, so it stays Pending, as on a cluster without that volume. CronJobs get no
 * controller: no Jobs are created on their schedule.
 */
const DEPLOYMENT_CONTROLLER = 'kube-controller-manager';
const INGRESS_CONTROLLER = 'sandbox-ingress-controller';

const DEPLOYMENTS = findResource('apps', 'v1', 'deployments') as ResourceType;
const INGRESSES = findResource('networking.k8s.io', 'v1', 'ingresses') as ResourceType;
const STATEFUL_SETS = findResource('apps', 'v1', 'statefulsets') as ResourceType;
const DAEMON_SETS = findResource('apps', 'v1', 'daemonsets') as ResourceType;
const JOBS = findResource('batch', 'v1', 'jobs') as ResourceType;
const CLAIMS = findResource('', 'v1', 'persistentvolumeclaims') as ResourceType;
/** The kinds the generic controllers below look after (a restart resumes them from the store). */
const SETTLED_TYPES = [STATEFUL_SETS, DAEMON_SETS, JOBS, CLAIMS];
const HASH_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

const o = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});

function keyOf(obj: JsonObject): string {
  return `${String(o(obj.metadata).namespace)}/${String(o(obj.metadata).name)}`;
}

/** A pod-template-hash-like suffix, stable for a template, as ReplicaSet names carry. */
function templateHash(template: Json | undefined): string {
  const digest = createHash('sha1')
    .update(JSON.stringify(template ?? null))
    .digest();
  return [...digest.subarray(0, 10)].map((b) => HASH_ALPHABET[b % HASH_ALPHABET.length]).join('');
}

function neverReady(deployment: JsonObject): boolean {
  const containers = o(o(o(deployment.spec).template).spec).containers;
  return (Array.isArray(containers) ? containers : []).some((c) => {
    const image = String(o(c).image ?? '');
    const last = image.split('/').pop() ?? '';
    return last.includes(':') && last.slice(last.lastIndexOf(':') + 1) === 'fail';
  });
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export class Controllers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** The pod template that is serving for each Deployment: what the data plane answers with. */
  private readonly serving = new Map<string, JsonObject>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly readyDelayMs: number,
    private readonly ingressAddress: string,
    private readonly journal?: Pick<ClusterJournal, 'loadServing' | 'setServing'>,
  ) {}

  start(): void {
    for (const [key, template] of this.journal?.loadServing() ?? []) this.serving.set(key, template);
    this.unsubscribe = this.registry.store.subscribe((event) => this.onEvent(event));
    for (const deployment of this.registry.store.list(DEPLOYMENTS)) {
      const key = keyOf(deployment);
      const generation = Number(o(deployment.metadata).generation ?? 0);
      const settled =
        Number(o(deployment.status).observedGeneration ?? 0) === generation &&
        deepEqual(this.serving.get(key), o(o(deployment.spec).template));
      if (!settled) setImmediate(() => this.observe(key, generation));
    }
    for (const ingress of this.registry.store.list(INGRESSES)) setImmediate(() => this.assignAddress(keyOf(ingress)));
    for (const type of SETTLED_TYPES) for (const obj of this.registry.store.list(type)) this.onSettled(type, 'ADDED', obj);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  servingTemplate(namespace: string, name: string): JsonObject | undefined {
    return this.serving.get(`${namespace}/${name}`);
  }

  // Reactions are deferred: a write inside a store notification would reach watchers before the event that caused it.
  private onEvent(event: StoreEvent): void {
    if (event.resource === DEPLOYMENTS) this.onDeployment(event);
    else if (event.resource === INGRESSES && event.type !== 'DELETED') setImmediate(() => this.assignAddress(keyOf(event.object)));
    else if (SETTLED_TYPES.includes(event.resource)) this.onSettled(event.resource, event.type, event.object);
  }

  /** Schedules the next step of a StatefulSet, DaemonSet, Job or claim that has not settled yet. */
  private onSettled(type: ResourceType, eventType: StoreEvent['type'], obj: JsonObject): void {
    const key = keyOf(obj);
    const timer = `${type.plural}:${key}`;
    if (eventType === 'DELETED') {
      clearTimeout(this.timers.get(timer));
      this.timers.delete(timer);
      return;
    }
    const uid = String(o(obj.metadata).uid);
    const generation = Number(o(obj.metadata).generation ?? 0);
    const status = o(obj.status);
    if (type === JOBS) {
      const finished = (Array.isArray(status.conditions) ? status.conditions : []).some(
        (c) => ['Complete', 'Failed'].includes(String(o(c).type)) && o(c).status === 'True',
      );
      if (finished || this.timers.has(timer)) return;
      this.later(timer, 0, () => this.startJob(key, uid));
    } else if (type === CLAIMS) {
      const wantsVolume = Boolean(o(obj.spec).volumeName) || o(obj.spec).selector !== undefined;
      if (status.phase === 'Bound' || wantsVolume || this.timers.has(timer)) return;
      this.later(timer, this.readyDelayMs, () => this.bindClaim(key, uid));
    } else {
      if (Number(status.observedGeneration ?? 0) === generation) return;
      this.later(timer, this.readyDelayMs, () => this.settleWorkload(type, key, generation));
    }
  }

  /** Runs `step` after `delayMs` (never inside a store notification); the timer stays listed while it runs. */
  private later(timer: string, delayMs: number, step: () => void): void {
    clearTimeout(this.timers.get(timer));
    const handle = setTimeout(() => {
      if (!this.stopped) step();
      // A step may have scheduled the next one under the same name: only this timer is forgotten.
      if (this.timers.get(timer) === handle) this.timers.delete(timer);
    }, delayMs);
    this.timers.set(timer, handle);
  }

  /** The Job's pod starts (status active), and succeeds or fails after the ready delay. */
  private startJob(key: string, uid: string): void {
    const job = this.live(JOBS, key);
    if (!job || String(o(job.metadata).uid) !== uid) return;
    const timer = `${JOBS.plural}:${key}`;
    const startTime = String(o(job.status).startTime ?? managedTime(this.clock.now()));
    // Listed before the write: the write's own event must not start the Job again.
    this.timers.set(
      timer,
      setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopped) this.finishJob(key, uid);
      }, this.readyDelayMs),
    );
    if (o(job.status).startTime === undefined) this.registry.writeStatus(JOBS, job, { startTime, active: 1 }, DEPLOYMENT_CONTROLLER);
  }

  private finishJob(key: string, uid: string): void {
    const job = this.live(JOBS, key);
    if (!job || String(o(job.metadata).uid) !== uid) return;
    const now = managedTime(this.clock.now());
    const spec = o(job.spec);
    const startTime = String(o(job.status).startTime ?? now);
    const condition = (type: string, extra: JsonObject = {}): JsonObject => ({
      type,
      status: 'True',
      lastProbeTime: now,
      lastTransitionTime: now,
      ...extra,
    });
    const status: JsonObject = neverReady(job)
      ? {
          startTime,
          failed: Number(spec.backoffLimit ?? 6) + 1,
          conditions: [condition('Failed', { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' })],
        }
      : { startTime, completionTime: now, succeeded: Number(spec.completions ?? 1), conditions: [condition('Complete')] };
    this.registry.writeStatus(JOBS, job, status, DEPLOYMENT_CONTROLLER);
  }

  /** Binds the claim to a volume as the PV controller and a dynamic provisioner would. */
  private bindClaim(key: string, uid: string): void {
    const claim = this.live(CLAIMS, key);
    if (!claim || String(o(claim.metadata).uid) !== uid || o(claim.status).phase === 'Bound') return;
    const [namespace, name = ''] = key.split('/');
    const bound = structuredClone(claim);
    const metadata = o(bound.metadata);
    metadata.annotations = {
      ...o(metadata.annotations),
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    };
    o(bound.spec).volumeName = `pvc-${uid}`;
    const updated = this.registry.update(CLAIMS, namespace, name, bound, { manager: DEPLOYMENT_CONTROLLER, dryRun: false });
    const spec = o(updated.spec);
    const requested = o(o(spec.resources).requests).storage;
    const status: JsonObject = { phase: 'Bound', accessModes: spec.accessModes ?? [], capacity: { storage: requested ?? '0' } };
    this.registry.writeStatus(CLAIMS, updated, status, DEPLOYMENT_CONTROLLER);
  }

  /** A StatefulSet's or DaemonSet's pods (one per node, one node) are ready for this generation, unless an image fails. */
  private settleWorkload(type: ResourceType, key: string, generation: number): void {
    const obj = this.live(type, key);
    if (!obj || Number(o(obj.metadata).generation ?? 0) !== generation) return;
    const ready = neverReady(obj) ? 0 : 1;
    const status: JsonObject = { observedGeneration: generation };
    if (type === DAEMON_SETS) {
      Object.assign(status, { currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: 1, numberReady: ready });
      Object.assign(status, { updatedNumberScheduled: 1, ...(ready ? { numberAvailable: 1 } : { numberUnavailable: 1 }) });
    } else {
      const replicas = Number(o(obj.spec).replicas ?? 1);
      const revision = `${String(o(obj.metadata).name)}-${templateHash(o(obj.spec).template).slice(0, 10)}`;
      Object.assign(status, { replicas, currentReplicas: replicas, updatedReplicas: replicas });
      if (ready) status.readyReplicas = replicas;
      Object.assign(status, { currentRevision: revision, updateRevision: revision, collisionCount: 0 });
    }
    this.registry.writeStatus(type, obj, status, DEPLOYMENT_CONTROLLER);
  }

  private onDeployment(event: StoreEvent): void {
    const key = keyOf(event.object);
    if (event.type === 'DELETED') {
      clearTimeout(this.timers.get(key));
      this.timers.delete(key);
      this.serving.delete(key);
      this.journal?.setServing(key, undefined);
      return;
    }
    const generation = Number(o(event.object.metadata).generation ?? 0);
    if (Number(o(event.object.status).observedGeneration ?? 0) === generation) return;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    setImmediate(() => this.observe(key, generation));
  }

  private live(type: ResourceType, key: string): JsonObject | undefined {
    const [namespace = '', name = ''] = key.split('/');
    return this.registry.store.get(type, namespace, name);
  }

  private observe(key: string, generation: number): void {
    const deployment = this.live(DEPLOYMENTS, key);
    if (this.stopped || !deployment || Number(o(deployment.metadata).generation ?? 0) !== generation) return;
    const failing = neverReady(deployment);
    if (this.readyDelayMs === 0 && !failing) return this.complete(key, generation);
    this.writeDeploymentStatus(deployment, 'progressing');
    if (failing) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.complete(key, generation);
      }, this.readyDelayMs),
    );
  }

  private complete(key: string, generation: number): void {
    const deployment = this.live(DEPLOYMENTS, key);
    if (this.stopped || !deployment || Number(o(deployment.metadata).generation ?? 0) !== generation) return;
    this.writeDeploymentStatus(deployment, 'ready');
    const template = structuredClone(o(o(deployment.spec).template));
    this.journal?.setServing(key, template);
    this.serving.set(key, template);
  }

  private writeDeploymentStatus(deployment: JsonObject, phase: 'progressing' | 'ready'): void {
    const spec = o(deployment.spec);
    const previous = o(deployment.status);
    const replicas = Number(spec.replicas ?? 1);
    const rsName = `${String(o(deployment.metadata).name)}-${templateHash(spec.template)}`;
    const wasAvailable = Number(previous.availableReplicas ?? 0) > 0;
    const counts: Record<string, number> =
      phase === 'ready'
        ? { replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas }
        : wasAvailable
          ? {
              replicas,
              updatedReplicas: 0,
              readyReplicas: Number(previous.readyReplicas ?? 0),
              availableReplicas: Number(previous.availableReplicas ?? 0),
            }
          : { replicas, updatedReplicas: replicas, unavailableReplicas: replicas };
    if (phase === 'progressing' && wasAvailable) counts.unavailableReplicas = Math.max(0, replicas - (counts.availableReplicas ?? 0));
    const available: Condition =
      phase === 'ready' || wasAvailable
        ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
        : {
            type: 'Available',
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          };
    const progressing: Condition =
      phase === 'ready'
        ? {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${rsName}" has successfully progressed.`,
          }
        : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: `ReplicaSet "${rsName}" is progressing.` };
    const status: JsonObject = { observedGeneration: Number(o(deployment.metadata).generation ?? 1) };
    for (const [field, value] of Object.entries(counts)) if (value > 0) status[field] = value;
    status.conditions = [available, progressing].map((c) => this.condition(previous, c));
    this.registry.writeStatus(DEPLOYMENTS, deployment, status, DEPLOYMENT_CONTROLLER);
  }

  /** Keeps lastTransitionTime while the condition's status holds, as the deployment controller does. */
  private condition(previous: JsonObject, next: Condition): JsonObject {
    const now = managedTime(this.clock.now());
    const old = (Array.isArray(previous.conditions) ? previous.conditions : []).map(o).find((c) => c.type === next.type);
    const unchanged = old && old.status === next.status && old.reason === next.reason && old.message === next.message;
    return {
      type: next.type,
      status: next.status,
      lastUpdateTime: unchanged ? String(old.lastUpdateTime ?? now) : now,
      lastTransitionTime: old && old.status === next.status ? String(old.lastTransitionTime ?? now) : now,
      reason: next.reason,
      message: next.message,
    };
  }

  private assignAddress(key: string): void {
    const ingress = this.live(INGRESSES, key);
    if (this.stopped || !ingress) return;
    const wanted = { loadBalancer: { ingress: [{ ip: this.ingressAddress }] } };
    if (deepEqual(ingress.status, wanted)) return;
    this.registry.writeStatus(INGRESSES, ingress, wanted, INGRESS_CONTROLLER);
  }
}
