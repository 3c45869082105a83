import type { KubeObject } from '../model/kube.ts';
import type { ClusterTarget } from '../model/plan.ts';
import { placeAt, type SourcePlace } from '../model/source.ts';

/**
 * Where the pieces of a rendered plan came from, so that checks made on the rendered output
 * (tenancy, names) name the file, the document and the field the author has to change, not only
 * the object. Kept as non-enumerable symbol properties of the manifests and targets: invisible to
 * JSON, `structuredClone` and equality, so the plan stays pure data and stores as before.
 */

/** Fields that something other than the object's own text may have set, and therefore are tracked. */
export const TRACKED_FIELDS = [
  'apiVersion',
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.labels',
  'metadata.annotations',
  'roleRef',
] as const;
export type TrackedField = (typeof TRACKED_FIELDS)[number];

export interface ManifestSource {
  /** The object as written: its own document (ref-objects) or its entry in a k8s-objects component. */
  object: SourcePlace;
  /** The last writer of a tracked field when it is not the object's own text: a trait, a topology's namespace, the Application's namespace. */
  fields: Partial<Record<TrackedField, SourcePlace>>;
}

const MANIFEST_SOURCE = Symbol('tricenter.manifestSource');
const TARGET_PLACEMENT = Symbol('tricenter.targetPlacement');

export function attachManifestSource(manifest: KubeObject, source: ManifestSource): void {
  Object.defineProperty(manifest, MANIFEST_SOURCE, { value: source, enumerable: false });
}

export function manifestSource(manifest: KubeObject): ManifestSource | undefined {
  return (manifest as { [MANIFEST_SOURCE]?: ManifestSource })[MANIFEST_SOURCE];
}

/** The topology field that sent the step to this cluster (`properties.clusters[1]`, `properties.clusterLabelSelector`). */
export function attachTargetPlacement(target: ClusterTarget, place: SourcePlace): void {
  Object.defineProperty(target, TARGET_PLACEMENT, { value: place, enumerable: false });
}

export function targetPlacement(target: ClusterTarget): SourcePlace | undefined {
  return (target as { [TARGET_PLACEMENT]?: SourcePlace })[TARGET_PLACEMENT];
}

/**
 * The place of `field` (e.g. `metadata.labels["team"]`) of a rendered manifest: the last writer of
 * the tracked field it sits in, else that field in the object's own text.
 */
export function placeOfField(source: ManifestSource, field: string): SourcePlace {
  const tracked = TRACKED_FIELDS.find((f) => field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`));
  const writer = tracked === undefined ? undefined : source.fields[tracked];
  return writer ?? placeAt(source.object, field);
}

const TRACKED_PATHS: ReadonlyMap<TrackedField, readonly string[]> = new Map(TRACKED_FIELDS.map((field) => [field, field.split('.')]));

/** A tracked field's value, compared by JSON to see whether a trait changed it. */
export function trackedValue(object: KubeObject, field: TrackedField): string {
  let value: unknown = object;
  for (const part of TRACKED_PATHS.get(field) ?? [])
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return JSON.stringify(value) ?? '';
}

/** Every tracked field's value (trackedValue), in TRACKED_FIELDS order. */
export function trackedValues(object: KubeObject): string[] {
  return TRACKED_FIELDS.map((field) => trackedValue(object, field));
}
