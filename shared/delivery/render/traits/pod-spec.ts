import type { KubeObject } from '../../model/kube.ts';
import { bundleError, placeAt, type SourcePlace } from '../../model/source.ts';
import { isPlainObject } from '../merge-patch.ts';

/**
 * The pod template of a workload, and KubeVela's `+patchKey=name` list merge, for the traits that
 * patch pods. Everything changes the given object in place (the caller owns a fresh copy).
 */

export type Json = Record<string, unknown>;

/** The pod spec of a workload: `spec.template.spec`, a CronJob's `spec.jobTemplate.spec.template.spec`, or a Pod's `spec`. */
function podSpecOf(object: KubeObject): Json | undefined {
  const spec = object.spec;
  if (!isPlainObject(spec)) return undefined;
  if (object.kind === 'Pod') return spec;
  const template = isPlainObject(spec.jobTemplate) && isPlainObject(spec.jobTemplate.spec) ? spec.jobTemplate.spec.template : spec.template;
  return isPlainObject(template) && isPlainObject(template.spec) ? template.spec : undefined;
}

/** The pod spec, or the error naming the trait and the object that has none. */
export function requirePodSpec(object: KubeObject, traitType: string, label: string, place: SourcePlace): Json {
  const podSpec = podSpecOf(object);
  if (!podSpec || !Array.isArray(podSpec.containers)) {
    throw bundleError(`${traitType} needs a workload with a pod template; ${label} has none`, place, 'RENDER');
  }
  return podSpec;
}

export function containersOf(podSpec: Json): Json[] {
  return (Array.isArray(podSpec.containers) ? podSpec.containers : []).filter(isPlainObject);
}

/**
 * The container named `name`, or the error KubeVela gives ("container x not found"), with the
 * containers there are and the field that chose the name (`field`, inside the trait's place).
 */
export function requireContainer(podSpec: Json, name: string, label: string, place: SourcePlace, field: string): Json {
  const containers = containersOf(podSpec);
  const found = containers.find((c) => c.name === name);
  if (found) return found;
  const names = containers.map((c) => String(c.name)).join(', ');
  throw bundleError(`container "${name}" not found in ${label} (containers: ${names})`, placeAt(place, field), 'RENDER');
}

/** `+patchKey=<key>`: an entry with the same key is merged field by field (the patch's fields win), a new one appended. */
function mergeByKey(list: unknown, entries: Json[], key = 'name'): Json[] {
  const out: Json[] = (Array.isArray(list) ? list : []).filter(isPlainObject).map((e) => ({ ...e }));
  for (const entry of entries) {
    const at = out.findIndex((e) => e[key] === entry[key]);
    if (at >= 0) out[at] = { ...out[at], ...entry };
    else out.push(entry);
  }
  return out;
}

/** Sets `target[key]` to the merged list, or removes it when the list is empty (as the API server would). */
export function setMerged(target: Json, key: string, entries: Json[], by = 'name'): void {
  const merged = mergeByKey(target[key], entries, by);
  if (merged.length > 0) target[key] = merged;
  else delete target[key];
}
