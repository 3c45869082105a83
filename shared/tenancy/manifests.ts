import { TricenterError } from '../core/errors.ts';
import type { KubeObject } from '../model/kube.ts';
import type { ClusterTarget, Plan } from '../model/plan.ts';
import { objectLabel, type SourcePlace } from '../model/source.ts';
import { manifestSource, placeOfField, targetPlacement } from '../render/sources.ts';

/** Each manifest of a plan once: clusters of a step share their manifests, and steps may repeat them. */
export function* eachManifest(plan: Plan): Generator<{ manifest: KubeObject }> {
  const seen = new Set<KubeObject>();
  for (const step of plan.steps) {
    if (step.type !== 'deploy') continue;
    for (const target of step.targets) {
      for (const manifest of target.manifests) {
        if (seen.has(manifest)) continue;
        seen.add(manifest);
        yield { manifest };
      }
    }
  }
}

/** The place in the bundle of a rendered manifest's field (see render/sources.ts). */
export function placeOf(manifest: KubeObject, field: string): SourcePlace {
  const source = manifestSource(manifest);
  if (!source) throw new TricenterError('INTERNAL', `${describeManifest(manifest)} has no source place: admission takes a plan straight from render`);
  return placeOfField(source, field);
}

/** The topology field that sent a step to this target's cluster. */
export function placeOfTarget(target: ClusterTarget): SourcePlace {
  const place = targetPlacement(target);
  if (!place) throw new TricenterError('INTERNAL', `the target ${target.cluster} has no source place: admission takes a plan straight from render`);
  return place;
}

export function describeManifest(manifest: KubeObject): string {
  return objectLabel(manifest.kind, manifest.metadata.namespace, manifest.metadata.name) ?? manifest.kind;
}
