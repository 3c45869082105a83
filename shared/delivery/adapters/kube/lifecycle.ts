import { objectRef, refKey, type KubeObject } from '../../model/kube.ts';
import { ANNOTATION_GC_PROPAGATION, ANNOTATION_GC_STRATEGY, ANNOTATION_READ_ONLY } from '../../model/ownership.ts';

/**
 * What `read-only` and `garbage-collect` policies ask of the gateway, read from the annotations
 * render stamps (a bundle cannot write them itself):
 * - a read-only object is never written (no apply, no dry run, no ownership change): it must exist,
 *   and is then only health-checked, like KubeVela's read-only policy;
 * - prune keeps an object whose garbage-collect rule says `onAppDelete` or `never`, and deletes
 *   with propagation `Orphan` when its rule says `orphan`.
 */

interface Annotated {
  metadata?: { annotations?: Record<string, string> | undefined } | undefined;
}

export function isReadOnly(manifest: KubeObject): boolean {
  return manifest.metadata.annotations?.[ANNOTATION_READ_ONLY] !== undefined;
}

/** Read-only objects the cluster does not have: each one refused, naming the policy. */
export function missingReadOnly(
  manifests: KubeObject[],
  live: Map<string, unknown>,
): Array<{ mode: 'refuse'; manifest: KubeObject; reason: string }> {
  return manifests
    .filter((m) => isReadOnly(m) && !live.has(refKey(objectRef(m))))
    .map((manifest) => ({
      mode: 'refuse' as const,
      manifest,
      reason: `is read-only (policy ${manifest.metadata.annotations?.[ANNOTATION_READ_ONLY]}) and does not exist: a read-only object is only read, never created`,
    }));
}

/** The garbage-collect strategy that keeps this live object when a release no longer has it, if any. */
export function retainedBy(live: Annotated | undefined): 'onAppDelete' | 'never' | undefined {
  const strategy = live?.metadata?.annotations?.[ANNOTATION_GC_STRATEGY];
  return strategy === 'onAppDelete' || strategy === 'never' ? strategy : undefined;
}

/** The propagation policy of a prune's delete: `Orphan` when the object's garbage-collect rule says so. */
export function prunePropagation(live: Annotated | undefined): 'Orphan' | 'Background' {
  return live?.metadata?.annotations?.[ANNOTATION_GC_PROPAGATION] === 'orphan' ? 'Orphan' : 'Background';
}
