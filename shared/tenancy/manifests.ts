import { TricenterError } from '../platform/errors.ts';
import type { KubeObject } from '../delivery/model/kube.ts';
import type { ClusterTarget, Plan } from '../delivery/model/plan.ts';
import { objectLabel, type SourcePlace } from '../delivery/model/source.ts';
import { manifestSource, placeOfField, targetPlacement } from '../delivery/render/sources.ts';

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
  if (!source)
    throw new TricenterError('INTERNAL', `${describeManifest(manifest)} has no source place: admission takes a plan straight from render`);
  return placeOfField(source, field);
}

/** The topology field that sent a step to this target's cluster. */
export function placeOfTarget(target: ClusterTarget): SourcePlace {
  const place = targetPlacement(target);
  if (!place)
    throw new TricenterError('INTERNAL', `the target ${target.cluster} has no source place: admission takes a plan straight from render`);
  return place;
}

/** `ConfigMap prod/web`, control characters escaped and cut at 80 characters: the names come from the bundle. */
export function describeManifest(manifest: KubeObject): string {
  return printable(objectLabel(manifest.kind, manifest.metadata.namespace, manifest.metadata.name) ?? manifest.kind);
}

/** Control characters (C0, DEL, C1) as `\uXXXX`, cut at 80 characters. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: it escapes control characters, so it must match them.
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return escaped.length > 80 ? `${escaped.slice(0, 80)}...` : escaped;
}
