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
 */
const DEPLOYMENT_CONTROLLER = 'kube-controller-manager';
const INGRESS_CONTROLLER = 'sandbox-ingress-controller';

const DEPLOYMENTS = findResource('apps', 'v1', 'deployments') as ResourceType;
const INGRESSES = findResource('networking.k8s.io', 'v1', 'ingresses') as ResourceType;
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
