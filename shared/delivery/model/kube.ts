/**
 * The part of a Kubernetes object every layer relies on; everything else is carried through
 * untouched. Validated by `kubeObjectSchema` (kube-schema.ts), kept apart so that code which only
 * handles objects does not load zod.
 */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string | undefined;
    labels?: Record<string, string> | undefined;
    annotations?: Record<string, string> | undefined;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Identifies one object: what ownership, pruning and duplicate detection compare. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export function objectRef(obj: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

/** `apps/v1 Deployment demo/web-demo`: stable, readable, used as a map key and in messages. */
export function refKey(ref: ObjectRef): string {
  return `${ref.apiVersion} ${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

/** `apps/v1` -> `apps`; `v1` -> `` (the core group). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}
