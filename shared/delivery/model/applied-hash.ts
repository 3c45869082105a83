import { contentHash } from './canonical.ts';
import type { KubeObject } from './kube.ts';
import { ANNOTATION_CONTENT_HASH, ANNOTATION_SHARED_BY, FIELD_MANAGER } from './ownership.ts';

/**
 * Whether applying an object again would change anything, decided from the live object alone, so
 * that a step whose objects have not changed since the last successful apply sends no write.
 *
 * Three tests, all needed:
 * - the live `tricenter.io/content-hash` annotation equals the hash of what we would apply now
 *   (`appliedHash`): the last apply sent this very content. Only the hash tells that a field we
 *   set before and no longer set is still there: the live object still contains everything we
 *   send, but a server-side apply would remove that field;
 * - every field we send has the same value in the live object (`containsDesired`): someone who
 *   edits the object by hand (`kubectl edit`, `kubectl scale`) leaves our annotation in place, so
 *   the annotation alone proves nothing about the content; deleting the object makes it absent;
 * - our field manager holds an `Apply` entry in managedFields: the annotation can be copied onto
 *   an object whose content someone else wrote, and then we would not own the fields a later
 *   apply must remove.
 * Fields others added (a sidecar, a restartedAt annotation) do not count: our forced apply would
 * leave them in place, so it would change nothing either. Whose the object is stays the ownership
 * check's (decideOwnership) to say, before any of this: a matching object owned by someone else is
 * still refused.
 *
 * Errors go one way only: a value the API server normalises (a quantity `0.5` stored as `500m`)
 * makes an unchanged object look changed, and costs one apply that changes nothing; nothing here
 * makes a changed object look unchanged.
 */

/** Server-set metadata: never part of what we apply. */
const SERVER_SET_METADATA = ['resourceVersion', 'uid', 'managedFields', 'creationTimestamp', 'generation', 'selfLink'];

/**
 * The hash of an object as the gateway applies it, written by the gateway into the
 * `tricenter.io/content-hash` annotation. It leaves out the annotation itself, the sharers
 * annotation (other applications write it when they join), server-set metadata and `status`
 * (an apply never writes it).
 */
export function appliedHash(object: KubeObject): string {
  const { status: _status, ...content } = object;
  const metadata: Record<string, unknown> = { ...object.metadata };
  for (const field of SERVER_SET_METADATA) delete metadata[field];
  const annotations = { ...object.metadata.annotations };
  delete annotations[ANNOTATION_CONTENT_HASH];
  delete annotations[ANNOTATION_SHARED_BY];
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  return contentHash({ ...content, metadata });
}

/** The object with its content hash annotation set: what the gateway sends. */
export function withAppliedHash(object: KubeObject): KubeObject {
  return {
    ...object,
    metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [ANNOTATION_CONTENT_HASH]: appliedHash(object) } },
  };
}

/** How a live object may differ from `desired` without an apply being needed, or the reason it may not. */
export type LiveComparison = { matches: true } | { matches: false; reason: string };

interface LiveShape {
  metadata?: {
    annotations?: Record<string, string>;
    managedFields?: Array<{ manager?: string; operation?: string; subresource?: string }>;
  };
}

/**
 * Compares a live object (as read or listed from the API server; undefined = absent) with the
 * object as the gateway would apply it (namespace filled in, Service port protocols defaulted,
 * sharers set: see the gateway's prepareForApply), and says why an apply is needed, if it is. The
 * caller found the live object by the desired one's identity (a list's items carry no apiVersion
 * and kind). `hash` is the content hash the apply would write, when it is not the desired object's
 * own (the gateway hashes what a release declares, before apply-once fields take the live values).
 */
export function compareLive(live: unknown, desired: KubeObject, hash: string = appliedHash(desired)): LiveComparison {
  if (live === undefined || live === null) return { matches: false, reason: 'absent' };
  const metadata = (live as LiveShape).metadata;
  if (metadata?.annotations?.[ANNOTATION_CONTENT_HASH] !== hash) return { matches: false, reason: 'last applied from other content' };
  const ours = metadata.managedFields?.some(
    (entry) => entry.manager === FIELD_MANAGER && entry.operation === 'Apply' && !entry.subresource,
  );
  if (!ours) return { matches: false, reason: `no server-side apply by ${FIELD_MANAGER} on record` };
  const { status: _status, apiVersion: _apiVersion, kind: _kind, ...content } = comparable(desired);
  const path = firstDifference(content, live, '');
  return path === undefined ? { matches: true } : { matches: false, reason: `${path || '(object)'} differs` };
}

/** True when applying `desired` again would change nothing on `live` (see compareLive). */
export function liveMatches(live: unknown, desired: KubeObject): boolean {
  return compareLive(live, desired).matches;
}

/**
 * What to look for in the live object: the content hash annotation is checked apart (the live one
 * is what we wrote), and a Secret's `stringData` is stored by the API server as base64 `data`.
 */
function comparable(desired: KubeObject): KubeObject {
  const annotations = { ...desired.metadata.annotations };
  delete annotations[ANNOTATION_CONTENT_HASH];
  const object: KubeObject = { ...desired, metadata: { ...desired.metadata, annotations } };
  const stringData = desired.stringData;
  if (desired.kind === 'Secret' && desired.apiVersion === 'v1' && stringData && typeof stringData === 'object') {
    const encoded = Object.entries(stringData as Record<string, unknown>).map(([key, value]) => [
      key,
      Buffer.from(String(value), 'utf8').toString('base64'),
    ]);
    const { stringData: _stringData, ...rest } = object;
    return { ...rest, data: { ...(desired.data as Record<string, string> | undefined), ...Object.fromEntries(encoded) } } as KubeObject;
  }
  return object;
}

function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return value !== null && typeof value === 'object' && Object.keys(value).length === 0;
}

/**
 * The first path where `live` does not contain `desired`: objects compare the desired members
 * only, lists element by element and with the same length (a list we send replaces or merges by
 * key, either way one of another length differs), scalars exactly. An empty map or list we send
 * matches an absent one (the API server drops them); a number we send matches the same number
 * written as a string (a quantity `cpu: 1` is stored as "1").
 */
function firstDifference(desired: unknown, live: unknown, path: string): string | undefined {
  if (desired === undefined) return undefined;
  if (desired === null) return live === undefined || live === null ? undefined : path;
  if (Array.isArray(desired)) {
    if (live === undefined && desired.length === 0) return undefined;
    if (!Array.isArray(live) || live.length !== desired.length) return path;
    for (const [index, item] of desired.entries()) {
      const difference = firstDifference(item, live[index], `${path}[${index}]`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (typeof desired === 'object') {
    if (live === undefined && isEmpty(desired)) return undefined;
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return path;
    for (const [key, value] of Object.entries(desired)) {
      const difference = firstDifference(value, (live as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (typeof desired === 'number' && typeof live === 'string') return String(desired) === live ? undefined : path;
  return desired === live ? undefined : path;
}
