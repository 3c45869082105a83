import type { ObjectRef } from './kube.ts';

/**
 * What a step would change on one cluster, object by object (the review page): the object as the
 * API server's dry run would leave it, against the object living there now, field by field.
 * Pure; the gateway's `preview` supplies the two sides.
 */
type PreviewAction = 'add' | 'change' | 'prune' | 'same';

export interface FieldChange {
  /** `spec.template.spec.containers[web].image`: list items with a `name` are named, others indexed. */
  path: string;
  before?: unknown;
  after?: unknown;
  /** Images and replica counts: what a reviewer looks at first. */
  notable: boolean;
}

export interface ObjectPreview {
  ref: ObjectRef;
  action: PreviewAction;
  fields: FieldChange[];
  /** The live object's resourceVersion ('' when absent): what the review's digest binds. */
  liveVersion: string;
}

/** Written by the API server, never by the author: left out of every comparison. */
const SERVER_METADATA = new Set(['managedFields', 'resourceVersion', 'uid', 'generation', 'creationTimestamp', 'selfLink']);
const SERVER_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object without status and server-managed metadata. */
function authoredPart(object: unknown): Record<string, unknown> {
  if (!isRecord(object)) return {};
  const { status: _status, metadata, ...rest } = object;
  if (!isRecord(metadata)) return rest;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (SERVER_METADATA.has(key)) continue;
    if (key === 'annotations' && isRecord(value)) {
      const annotations = Object.fromEntries(Object.entries(value).filter(([name]) => !SERVER_ANNOTATIONS.has(name)));
      if (Object.keys(annotations).length > 0) kept.annotations = annotations;
      continue;
    }
    kept[key] = value;
  }
  return { ...rest, metadata: kept };
}

function isNotable(path: string): boolean {
  return /(^|\.)image$/.test(path) || /(^|\.)replicas$/.test(path);
}

/** Lists whose items all have a distinct string `name` are matched by name (containers, env, ports). */
function namedItems(list: unknown[]): Map<string, unknown> | undefined {
  const byName = new Map<string, unknown>();
  for (const item of list) {
    if (!isRecord(item) || typeof item.name !== 'string' || byName.has(item.name)) return undefined;
    byName.set(item.name, item);
  }
  return byName;
}

function walk(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  // A side that is absent is an empty one of the other's shape, so an added object lists its leaves.
  if (before === undefined && (isRecord(after) || Array.isArray(after))) return walk(Array.isArray(after) ? [] : {}, after, path, out);
  if (after === undefined && (isRecord(before) || Array.isArray(before))) return walk(before, Array.isArray(before) ? [] : {}, path, out);
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) walk(before[key], after[key], path ? `${path}.${key}` : key, out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const left = namedItems(before);
    const right = namedItems(after);
    if (left && right) {
      for (const name of new Set([...left.keys(), ...right.keys()])) walk(left.get(name), right.get(name), `${path}[${name}]`, out);
      return;
    }
    for (let i = 0; i < Math.max(before.length, after.length); i++) walk(before[i], after[i], `${path}[${i}]`, out);
    return;
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  out.push({
    path,
    ...(before !== undefined ? { before } : {}),
    ...(after !== undefined ? { after } : {}),
    notable: isNotable(path),
  });
}

/** Field-level differences between two objects, server-managed fields ignored, sorted by path. */
export function fieldDiff(live: unknown, desired: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk(live === undefined ? {} : authoredPart(live), authoredPart(desired), '', out);
  return out;
}

/**
 * One object's preview. `after` is what the dry run returned (or, where none could run, the
 * manifest), `live` what the cluster holds (undefined: absent).
 */
export function previewObject(ref: ObjectRef, live: unknown, after: unknown): ObjectPreview {
  const liveVersion = liveVersionOf(live);
  if (live === undefined) return { ref, action: 'add', fields: fieldDiff(undefined, after), liveVersion };
  const fields = fieldDiff(live, after);
  return { ref, action: fields.length === 0 ? 'same' : 'change', fields, liveVersion };
}

/** An owned object the release no longer declares: the end of the run deletes it. */
export function prunedObject(ref: ObjectRef, live: unknown): ObjectPreview {
  return { ref, action: 'prune', fields: [], liveVersion: liveVersionOf(live) };
}

function liveVersionOf(live: unknown): string {
  if (!isRecord(live) || !isRecord(live.metadata)) return '';
  return typeof live.metadata.resourceVersion === 'string' ? live.metadata.resourceVersion : '';
}
