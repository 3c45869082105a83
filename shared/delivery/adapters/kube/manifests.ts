import { apiGroup, type KubeObject, type ObjectRef } from '../../model/kube.ts';
import { ownerOf, type AppRef } from '../../model/ownership.ts';

/** Pure helpers of the gateway: apply order, manifest defaults, identity and ownership checks. */

/** Kinds in the order they must exist: what a later kind refers to is applied before it. */
const APPLY_TIER: Record<string, number> = {
  Namespace: 0,
  ServiceAccount: 1,
  ConfigMap: 1,
  Secret: 1,
  Service: 2,
  Deployment: 3,
  StatefulSet: 3,
  DaemonSet: 3,
  Ingress: 4,
};
const LAST_TIER = 5;

function applyTier(kind: string): number {
  return APPLY_TIER[kind] ?? LAST_TIER;
}

/** Groups manifests into tiers applied one after the other; the order inside a tier is kept. */
export function applyTiers<T>(items: T[], kindOf: (item: T) => string = (item) => (item as { kind: string }).kind): T[][] {
  const tiers: T[][] = [];
  for (const item of items) {
    const tier = applyTier(kindOf(item));
    tiers[tier] ??= [];
    tiers[tier].push(item);
  }
  return tiers.filter((tier) => tier !== undefined && tier.length > 0);
}

/**
 * The kinds listOwned and prune look at (besides the kinds of the objects being kept): the kinds
 * tricenter deploys. Kinds the cluster does not serve are skipped.
 */
export const OWNED_KINDS: ReadonlyArray<{ apiVersion: string; kind: string }> = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  // What KubeVela's task, cron-task and storage render, and what k8s-objects users add most: pruned like the rest.
  // A kind a cluster does not serve (batch/v1 CronJob on 1.20) is skipped.
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
];

/**
 * A copy of the manifest ready for server-side apply: server-set fields are not ours to send, and a
 * Service port without `protocol` gets `TCP` (kube-apiserver 1.20 rejects it under server-side apply
 * because `protocol` is part of the list's merge key; fixed in 1.21).
 */
export function prepareForApply(manifest: KubeObject, namespace: string | undefined): KubeObject {
  // `namespace` is undefined for cluster-scoped kinds: a stray namespace there would change the URL.
  const copy = structuredClone(manifest);
  const metadata = copy.metadata as Record<string, unknown>;
  for (const field of ['resourceVersion', 'uid', 'managedFields', 'creationTimestamp', 'generation', 'selfLink']) delete metadata[field];
  if (namespace) copy.metadata.namespace = namespace;
  else delete copy.metadata.namespace;
  if (copy.kind === 'Service' && apiGroup(copy.apiVersion) === '') {
    const ports = (copy.spec as { ports?: unknown } | undefined)?.ports;
    if (Array.isArray(ports)) {
      for (const port of ports) {
        if (port && typeof port === 'object' && (port as { protocol?: unknown }).protocol === undefined) {
          (port as { protocol?: string }).protocol = 'TCP';
        }
      }
    }
  }
  return copy;
}

/** Identity of an object regardless of the version it is read through: group, kind, namespace, name. */
export function identityKey(ref: ObjectRef): string {
  return `${apiGroup(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

/** True when the labels carry every ownership label of the application: the one test before a delete. */
export function isOwnedBy(labels: Record<string, string> | undefined, app: AppRef): boolean {
  const owner = ownerOf(labels);
  return owner !== undefined && owner.namespace === app.namespace && owner.name === app.name;
}

type FieldsV1 = { [key: string]: FieldsV1 };

function countLeaves(fields: FieldsV1 | undefined): number {
  if (!fields || typeof fields !== 'object') return 0;
  const children = Object.entries(fields).filter(([key]) => key !== '.');
  if (children.length === 0) return 1;
  return children.reduce((sum, [, child]) => sum + countLeaves(child), 0);
}

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: FieldsV1;
}

/**
 * Field managers that owned fewer fields after our forced apply than before: the ones whose
 * conflicting changes the apply overrode. Needs the object as it was before the apply.
 */
export function managersOverridden(before: unknown, after: unknown, ourManager: string): string[] {
  const entries = (obj: unknown): ManagedFieldsEntry[] =>
    ((obj as { metadata?: { managedFields?: ManagedFieldsEntry[] } } | undefined)?.metadata?.managedFields ?? []).filter(
      (entry) => entry.manager !== ourManager && !entry.subresource,
    );
  const afterEntries = entries(after);
  const overridden = new Set<string>();
  for (const previous of entries(before)) {
    const now = afterEntries.find((entry) => entry.manager === previous.manager && entry.operation === previous.operation);
    if (countLeaves(now?.fieldsV1) < countLeaves(previous.fieldsV1)) overridden.add(previous.manager ?? '(unnamed)');
  }
  return [...overridden];
}
