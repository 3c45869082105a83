import { objectRef, refKey, type KubeObject, type ObjectRef } from './kube.ts';
import { formatFieldPath, isPrefixOf, parseFieldPath, readAt, writeAt, type PathSegment } from './field-path.ts';
import { appliedHash } from './applied-hash.ts';
import {
  ANNOTATION_APPLY_ONCE,
  ANNOTATION_CONTENT_HASH,
  ANNOTATION_SHARED_BY,
  appKey,
  ownerOf,
  parseSharedBy,
  type AppRef,
} from './ownership.ts';
import { bundleError, placeAt, type SourcePlace } from './source.ts';

/**
 * Drift: what a cluster runs compared with what the current release says it should run. Pure: the
 * gateway reads the live objects, this decides per object.
 *
 * The comparison is "everything we declare is there, with our value": the fields of the rendered
 * manifest must be found in the live object (the API server adds defaults, status and metadata of its
 * own, which are not drift), list lengths must match (a container removed or added is drift), and
 * the paths an apply-once policy lists are not compared. An object that is gone is `missing`; one
 * that no longer carries this application's ownership labels (deleted and re-created by someone
 * else, or its labels edited) is `foreign` and is never healed: a heal touches only what the
 * application owns.
 */

export type DriftState = 'in-sync' | 'missing' | 'modified' | 'foreign';

export interface ObjectDrift {
  ref: ObjectRef;
  state: DriftState;
  /** For `modified`: the first differing fields (at most MAX_REPORTED_FIELDS), e.g. `spec.replicas`. */
  fields?: string[];
}

/**
 * KubeVela's apply-once `affect`: at a new release's apply (`onUpdate`), at state keeping (`onStateKeep`), or
 * both (`always`). Unlike KubeVela, `onUpdate` paths are kept at state keeping too (see applyOncePaths).
 */
export const APPLY_ONCE_AFFECTS = ['onUpdate', 'onStateKeep', 'always'] as const;
export type ApplyOnceAffect = (typeof APPLY_ONCE_AFFECTS)[number];

/** One apply-once path of one object, as render stamps it in ANNOTATION_APPLY_ONCE (a JSON list). */
export interface ApplyOnceStamp {
  path: string;
  affect: ApplyOnceAffect;
}

/** When a comparison or an apply happens: the periodic sweep (state keeping) or a release's own apply. */
export type ApplyMoment = 'state-keep' | 'update';

const MAX_REPORTED_FIELDS = 5;

export function applyOnceAnnotation(stamps: readonly ApplyOnceStamp[]): string {
  return JSON.stringify(stamps.map(({ path, affect }) => ({ path, affect })));
}

/**
 * The apply-once paths that hold at this moment, from the manifest's annotation. A value that does not
 * parse (render writes it; a hand-made manifest might not) holds nothing: the object is then compared
 * whole, which reports drift rather than hiding it.
 */
export function applyOncePaths(manifest: Pick<KubeObject, 'metadata'>, moment: ApplyMoment): PathSegment[][] {
  const raw = manifest.metadata.annotations?.[ANNOTATION_APPLY_ONCE];
  if (!raw) return [];
  let stamps: unknown;
  try {
    stamps = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(stamps)) return [];
  const paths: PathSegment[][] = [];
  for (const stamp of stamps as Array<Partial<ApplyOnceStamp>>) {
    if (typeof stamp?.path !== 'string') continue;
    const affect = stamp.affect ?? 'always';
    // A heal is an apply, and every apply keeps `onUpdate` paths (the gateway cannot tell a heal from a
    // release): state keeping honours them too, or it would "heal" them every round without effect.
    if (moment === 'update' && affect === 'onStateKeep') continue;
    const segments = parseFieldPath(stamp.path);
    if (typeof segments !== 'string') paths.push(segments);
  }
  return paths;
}

/**
 * Compares one desired manifest (as the gateway prepares it for apply: namespace filled in, Service
 * port protocols) with the object the cluster has now. Built on applied-hash.ts: an object without
 * apply-once paths whose content hash annotation is not the hash of what we would apply was last
 * applied from other content (another release, a hand-made apply). Unlike the gateway's own
 * compareLive (is a write needed?), drift names every differing field, leaves apply-once paths out
 * and compares quantities as quantities, so a value the server canonicalised is no drift and is not
 * healed again every round.
 */
export function detectDrift(desired: KubeObject, live: unknown, app: AppRef): ObjectDrift {
  const ref = objectRef(desired);
  if (live === undefined || live === null) return { ref, state: 'missing' };
  const metadata = (live as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } }).metadata;
  const owner = ownerOf(metadata?.labels);
  if (!owner || appKey(owner) !== appKey(app)) {
    // Joined as a sharer: the content is its owner's to say (KubeVela's shared-resource), only our membership counts.
    const sharers = parseSharedBy(metadata?.annotations?.[ANNOTATION_SHARED_BY]);
    return owner && sharers.includes(appKey(app)) ? { ref, state: 'in-sync' } : { ref, state: 'foreign' };
  }
  const ignored = applyOncePaths(desired, 'state-keep');
  if (ignored.some((path) => path.length === 0)) return { ref, state: 'in-sync' };
  const fields: string[] = [];
  const liveHash = metadata?.annotations?.[ANNOTATION_CONTENT_HASH];
  // With apply-once paths the last apply kept live values there, so its hash is not the release's.
  if (ignored.length === 0 && liveHash !== appliedHash(desired))
    fields.push(formatFieldPath(['metadata', 'annotations', ANNOTATION_CONTENT_HASH]));
  // The items of a list carry no apiVersion and kind: the object was found by that identity.
  const { metadata: desiredMetadata, apiVersion: _apiVersion, kind: _kind, ...body } = normalised(desired);
  const annotations = { ...desiredMetadata.annotations };
  delete annotations[ANNOTATION_CONTENT_HASH];
  const declared = { metadata: { labels: desiredMetadata.labels, annotations }, ...body };
  delete (declared as { status?: unknown }).status;
  collectDifferences(declared, live, [], ignored, fields);
  return fields.length === 0 ? { ref, state: 'in-sync' } : { ref, state: 'modified', fields };
}

/** Secrets: `stringData` is written into `data` (base64) by the API server and never read back. */
function normalised(desired: KubeObject): KubeObject {
  const stringData = desired.kind === 'Secret' ? (desired as { stringData?: unknown }).stringData : undefined;
  if (!stringData || typeof stringData !== 'object') return desired;
  const data: Record<string, unknown> = { ...((desired as { data?: Record<string, unknown> }).data ?? {}) };
  for (const [key, value] of Object.entries(stringData)) {
    if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  const { stringData: _written, ...rest } = desired as KubeObject & { stringData?: unknown };
  return { ...rest, data } as KubeObject;
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function collectDifferences(desired: unknown, live: unknown, path: PathSegment[], ignored: PathSegment[][], out: string[]): void {
  if (out.length >= MAX_REPORTED_FIELDS) return;
  if (ignored.some((prefix) => isPrefixOf(prefix, path))) return;
  // `null` in a manifest asks for nothing; an empty map or list declares no field (the server drops them).
  if (desired === null || desired === undefined) return;
  if (isMap(desired)) {
    if (live === undefined && Object.keys(desired).length === 0) return;
    if (!isMap(live)) {
      out.push(formatFieldPath(path));
      return;
    }
    for (const [key, value] of Object.entries(desired)) collectDifferences(value, live[key], [...path, key], ignored, out);
    return;
  }
  if (Array.isArray(desired)) {
    if (live === undefined && desired.length === 0) return;
    if (!Array.isArray(live) || live.length !== desired.length) {
      out.push(formatFieldPath(path));
      return;
    }
    desired.forEach((item, i) => {
      collectDifferences(item, live[i], [...path, i], ignored, out);
    });
    return;
  }
  if (!sameScalar(desired, live, path)) out.push(formatFieldPath(path));
}

function sameScalar(desired: unknown, live: unknown, path: PathSegment[]): boolean {
  if (desired === live) return true;
  // The API server canonicalises quantities (`0.5` -> `500m`, `1024Mi` -> `1Gi`) under `resources`.
  if (path.includes('resources') && (typeof desired === 'string' || typeof desired === 'number')) {
    const a = quantity(String(desired));
    const b = typeof live === 'string' || typeof live === 'number' ? quantity(String(live)) : undefined;
    return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-9;
  }
  return false;
}

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

function quantity(text: string): number | undefined {
  const match = /^([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?:e([+-]?\d+))?([a-zA-Z]*)$/.exec(text.trim());
  if (!match) return undefined;
  const factor = QUANTITY_SUFFIX[match[3] ?? ''];
  if (factor === undefined) return undefined;
  return Number(match[1]) * 10 ** Number(match[2] ?? 0) * factor;
}

/**
 * The manifest to apply so that its apply-once paths keep what the cluster has (KubeVela's rule: those
 * fields may drift): each listed path takes the live value, or is left out when the live object has
 * none. `undefined` when the whole object is apply-once and exists: then nothing is applied at all.
 * A missing object is applied as declared.
 */
export function keepApplyOnceFields(desired: KubeObject, live: unknown, moment: ApplyMoment): KubeObject | undefined {
  const paths = applyOncePaths(desired, moment);
  if (paths.length === 0 || live === undefined || live === null) return desired;
  if (paths.some((path) => path.length === 0)) return undefined;
  const copy = structuredClone(desired);
  for (const path of paths) writeAt(copy, path, readAt(live, path));
  return copy;
}

/** `apps/v1 Deployment demo/web: spec.replicas, ...` — how a drifted object is named in logs and history. */
export function describeDrift(drift: ObjectDrift): string {
  const fields = drift.fields?.length ? `: ${drift.fields.join(', ')}` : '';
  return `${refKey(drift.ref)} ${drift.state}${fields}`;
}

/**
 * The Application annotation that turns self-heal off for the whole application (Argo CD's
 * `syncPolicy.automated.selfHeal`): drift is still found and reported, never re-applied. An
 * annotation rather than a policy type, because it has no selector (it is about the application,
 * not some of its objects) and a KubeVela controller reading the same bundle ignores an annotation
 * it does not know but refuses a policy type it does not know.
 */
const ANNOTATION_SELF_HEAL = 'tricenter.io/self-heal';

/** `{ selfHeal: false }` for the plan when the Application turns self-heal off; {} otherwise. Anything but "true"/"false" is refused. */
export function parseSelfHeal(application: { annotations: Record<string, string>; place: SourcePlace }): { selfHeal?: false } {
  const value = application.annotations[ANNOTATION_SELF_HEAL];
  if (value === undefined || value === 'true') return {};
  if (value === 'false') return { selfHeal: false };
  throw bundleError(
    `must be "true" or "false", not ${JSON.stringify(value.slice(0, 40))}`,
    placeAt(application.place, ['metadata', 'annotations', ANNOTATION_SELF_HEAL]),
  );
}

/** One object as the gateway observed it for drift; `live` only for a `modified` object (a heal keeps its apply-once fields). */
export interface ObservedObject extends ObjectDrift {
  live?: unknown;
}
