/**
 * Labels and annotations that mark what tricenter deployed. Pruning and listing select on the
 * labels only, so an object without them is never touched.
 */
export const LABEL_APP_NAME = 'app.oam.dev/name';
export const LABEL_APP_NAMESPACE = 'app.oam.dev/namespace';
export const LABEL_COMPONENT = 'app.oam.dev/component';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'tricenter';

export const ANNOTATION_PUBLISH_VERSION = 'app.oam.dev/publishVersion';
export const ANNOTATION_CONTENT_HASH = 'tricenter.io/content-hash';

/** The field manager used for every server-side apply. */
export const FIELD_MANAGER = 'tricenter';

export interface AppRef {
  namespace: string;
  name: string;
}

export function appKey(app: AppRef): string {
  return `${app.namespace}/${app.name}`;
}

/** The label selector (`k=v,k=v`) that lists exactly the objects tricenter owns for one application. */
export function ownerSelector(app: AppRef): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_APP_NAMESPACE}=${app.namespace},${LABEL_APP_NAME}=${app.name}`;
}

/**
 * KubeVela's annotation listing the applications sharing an object (`ns/name,ns/name`, the owner
 * first). Set only by the gateway: a bundle's own value is dropped at render.
 */
export const ANNOTATION_SHARED_BY = 'app.oam.dev/shared-by';
/**
 * What the application's `take-over` / `shared-resource` policies say about one rendered object.
 * Set only by render from those policies: a bundle's own value is dropped.
 */
export const ANNOTATION_RESOURCE_POLICY = 'tricenter.io/resource-policy';

/**
 * The paths of this object an `apply-once` policy lets drift (a JSON list of `{path, affect}`, see
 * drift.ts). Set only by render from the policy: a bundle's own value is dropped.
 */
export const ANNOTATION_APPLY_ONCE = 'tricenter.io/apply-once';

/** `take-over`: may adopt an object created outside tricenter; `shared`: may share it with other applications (KubeVela's shared-resource). */
export type ResourcePolicy = 'take-over' | 'shared' | 'take-over,shared';

/** Annotations and labels only tricenter writes: whatever a bundle says for them is dropped at render. */
/**
 * A `read-only` policy selects the object (the value is the policy's name): the gateway only reads
 * and health-checks it, never writes it, and refuses the step when it does not exist.
 */
export const ANNOTATION_READ_ONLY = 'tricenter.io/read-only';
/** A `garbage-collect` rule's strategy for the object: `onAppDelete` or `never` keep it when a release drops it. */
export const ANNOTATION_GC_STRATEGY = 'tricenter.io/gc-strategy';
/** `orphan`: a prune deletes the object but leaves what it owns (propagationPolicy Orphan). */
export const ANNOTATION_GC_PROPAGATION = 'tricenter.io/gc-propagation';
/** KubeVela's fixed placement label: the object goes to this cluster only. */
export const LABEL_PLACEMENT_CLUSTER = 'app.oam.dev/cluster';

export const RESERVED_ANNOTATIONS: ReadonlySet<string> = new Set([
  ANNOTATION_SHARED_BY,
  ANNOTATION_RESOURCE_POLICY,
  ANNOTATION_CONTENT_HASH,
  ANNOTATION_APPLY_ONCE,
  ANNOTATION_READ_ONLY,
  ANNOTATION_GC_STRATEGY,
  ANNOTATION_GC_PROPAGATION,
]);

export function parseSharedBy(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * What the gateway may do with one object, given what lives on the cluster (KubeVela's rule: an
 * object belongs to one application):
 * - `apply`: absent, ours, or created outside tricenter and adopted by a take-over policy;
 *   `sharedBy` is the annotation value to write when the object is shared;
 * - `join`: owned by another application that shares it, and we share it too: only our name is
 *   added to the sharers, the owner's content is left alone (the first application writes);
 * - `refuse`: anything else, with the reason.
 */
export type OwnershipDecision =
  | { kind: 'apply'; sharedBy?: string }
  | { kind: 'join'; sharedBy: string; unchanged: boolean }
  | { kind: 'refuse'; reason: string };

export interface LiveMetadata {
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

export function decideOwnership(app: AppRef, policy: string | undefined, live: LiveMetadata | undefined): OwnershipDecision {
  const shared = policy?.split(',').includes('shared') ?? false;
  const takeOver = policy?.split(',').includes('take-over') ?? false;
  const me = appKey(app);
  if (live === undefined) return shared ? { kind: 'apply', sharedBy: me } : { kind: 'apply' };
  const sharers = parseSharedBy(live.annotations?.[ANNOTATION_SHARED_BY]);
  const withMe = sharers.includes(me) ? sharers : [...sharers, me];
  const owner = ownerOf(live.labels);
  if (owner && appKey(owner) === me) {
    if (sharers.length > 0 || shared) return { kind: 'apply', sharedBy: (sharers.length > 0 ? sharers : withMe).join(',') };
    return { kind: 'apply' };
  }
  if (owner) {
    if (shared && sharers.length > 0) return { kind: 'join', sharedBy: withMe.join(','), unchanged: sharers.includes(me) };
    const hint = shared
      ? `${appKey(owner)} does not share it (both applications need a shared-resource policy for it)`
      : 'an object belongs to one application (a shared-resource policy on both applications lets them share it)';
    return { kind: 'refuse', reason: `is owned by application ${appKey(owner)}; ${hint}` };
  }
  if (takeOver) return shared ? { kind: 'apply', sharedBy: me } : { kind: 'apply' };
  return {
    kind: 'refuse',
    reason:
      'exists and was not created by tricenter; declare a take-over policy for it to adopt it (it will then be pruned with the application)',
  };
}

/** The application an object's ownership labels name, when it carries all of them. */
export function ownerOf(labels: Record<string, string> | undefined): AppRef | undefined {
  const namespace = labels?.[LABEL_APP_NAMESPACE];
  const name = labels?.[LABEL_APP_NAME];
  return labels?.[LABEL_MANAGED_BY] === MANAGED_BY && namespace && name ? { namespace, name } : undefined;
}
