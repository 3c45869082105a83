import { ApiError } from './status.ts';
import type { ResourceType } from './resources.ts';
import {
  deepEqual,
  diffMembers,
  fromFieldsV1,
  isObject,
  type Json,
  type JsonObject,
  members,
  MissingKeyError,
  prettyPath,
  removePath,
  splitPath,
  toFieldsV1,
  valueAt,
} from './fieldpath.ts';
import { childPattern, isAtomicStruct, itemPattern, listTypeAt } from './schema.ts';

/**
 * managedFields and server-side apply, after structured-merge-diff: each (manager, operation)
 * owns a set of fields; an apply merges the applied configuration into the live object, fails
 * on fields another manager owns with a different value (unless forced, which takes them over),
 * and removes fields the applier set before, no longer sets, and nobody else owns. An update
 * (create, PUT, non-apply patch) makes its manager the owner of what it changed.
 */
interface ManagerEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fields: Set<string>;
}

function readManagers(obj: JsonObject): ManagerEntry[] {
  const raw = isObject(obj.metadata) ? obj.metadata.managedFields : undefined;
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((entry) => ({
    manager: String(entry.manager ?? ''),
    operation: entry.operation === 'Apply' ? 'Apply' : 'Update',
    apiVersion: String(entry.apiVersion ?? ''),
    time: String(entry.time ?? ''),
    fields: fromFieldsV1(entry.fieldsV1),
  }));
}

function writeManagers(obj: JsonObject, entries: ManagerEntry[]): void {
  const metadata = obj.metadata as JsonObject;
  const kept = entries.filter((e) => e.fields.size > 0);
  if (kept.length === 0) {
    delete metadata.managedFields;
    return;
  }
  metadata.managedFields = kept.map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    time: e.time,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(e.fields),
  }));
}

function entryFor(entries: ManagerEntry[], manager: string, operation: 'Apply' | 'Update', apiVersion: string, time: string): ManagerEntry {
  let entry = entries.find((e) => e.manager === manager && e.operation === operation);
  if (!entry) {
    entry = { manager, operation, apiVersion, time, fields: new Set() };
    entries.push(entry);
  }
  return entry;
}

/** Time precision of managedFields: whole seconds, RFC 3339. */
export function managedTime(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function setsEqual(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

/** Updates ownership after a non-apply write. Entries whose fields did not change keep their time. */
export function recordUpdate(
  kind: string,
  before: JsonObject | undefined,
  after: JsonObject,
  manager: string,
  apiVersion: string,
  nowMs: number,
  scope: (o: JsonObject) => JsonObject = (o) => o,
): void {
  const entries = readManagers(before ?? {});
  const { changed, removed } = diffMembers(kind, scope(before ?? {}), scope(after));
  const time = managedTime(nowMs);
  for (const entry of entries) {
    const next = new Set(
      [...entry.fields].filter((p) => !removed.has(p) && !(changed.has(p) && !(entry.manager === manager && entry.operation === 'Update'))),
    );
    if (!setsEqual(next, entry.fields)) {
      entry.fields = next;
      entry.time = time;
    }
  }
  if (changed.size > 0) {
    const mine = entryFor(entries, manager, 'Update', apiVersion, time);
    const before = mine.fields.size;
    for (const p of changed) mine.fields.add(p);
    if (mine.fields.size !== before) mine.time = time;
    mine.apiVersion = apiVersion;
  }
  writeManagers(after, entries);
}

function mergeApplied(kind: string, live: Json | undefined, config: Json, pattern: string): Json {
  if (isObject(config) && isObject(live) && !isAtomicStruct(kind, pattern)) {
    const out: JsonObject = { ...live };
    for (const [field, value] of Object.entries(config)) {
      if (value === null) delete out[field];
      else out[field] = mergeApplied(kind, live[field], value, childPattern(pattern, field));
    }
    return out;
  }
  if (Array.isArray(config) && Array.isArray(live)) {
    const type = listTypeAt(kind, pattern);
    if (type.type === 'map') {
      const out = [...live];
      for (const item of config) {
        const defaults = type.keyDefaults ?? {};
        const index = out.findIndex(
          (l) => isObject(l) && isObject(item) && type.keys.every((k) => deepEqual(l[k] ?? defaults[k], item[k] ?? defaults[k])),
        );
        if (index >= 0) out[index] = mergeApplied(kind, out[index], item, itemPattern(pattern));
        else out.push(structuredClone(item));
      }
      return out;
    }
    if (type.type === 'set') return [...live, ...config.filter((item) => !live.some((l) => deepEqual(l, item)))];
  }
  return structuredClone(config);
}

/**
 * Server-side apply of `config` by `manager` onto `live` (undefined when the object is new).
 * Returns the merged object with its managedFields; defaulting and validation are the caller's.
 */
export function serverSideApply(
  type: ResourceType,
  live: JsonObject | undefined,
  config: JsonObject,
  options: { manager: string; force: boolean; apiVersion: string; nowMs: number },
): JsonObject {
  const kind = type.kind;
  let applied: Map<string, Json>;
  try {
    applied = members(kind, config, true);
  } catch (err) {
    if (err instanceof MissingKeyError) throw new ApiError(500, undefined, `failed to create typed patch object: ${err.message}`);
    throw err;
  }
  const entries = readManagers(live ?? {});
  const base: JsonObject = live ? structuredClone(live) : {};
  const merged = mergeApplied(kind, base, stripConfig(config), '') as JsonObject;

  const conflicts: Array<{ entry: ManagerEntry; path: string }> = [];
  if (live) {
    for (const [path, value] of applied) {
      if (splitPath(path).pop()?.startsWith('k:')) continue;
      const current = valueAt(kind, live, path);
      if (current === undefined || deepEqual(current, value)) continue;
      for (const entry of entries) {
        if (entry.manager === options.manager && entry.operation === 'Apply') continue;
        if (entry.fields.has(path)) conflicts.push({ entry, path });
      }
    }
  }
  if (conflicts.length > 0 && !options.force) throw applyConflict(conflicts);

  const time = managedTime(options.nowMs);
  for (const { entry, path } of conflicts) entry.fields.delete(path);

  const mine = entryFor(entries, options.manager, 'Apply', options.apiVersion, time);
  const appliedPaths = new Set(applied.keys());
  const othersOwn = (path: string): boolean =>
    entries.some((e) => e !== mine && [...e.fields].some((p) => p === path || p.startsWith(`${path}\n`)));
  const dropped = [...mine.fields].filter((p) => !appliedPaths.has(p) && !othersOwn(p));
  // Parents first: an item must go while its key fields are still there to find it by.
  for (const path of dropped.sort((a, b) => a.length - b.length)) removePath(kind, merged, path);
  if (!setsEqual(mine.fields, appliedPaths)) {
    mine.fields = appliedPaths;
    mine.time = time;
  }
  mine.apiVersion = options.apiVersion;
  writeManagers(merged, entries);
  return merged;
}

function stripConfig(config: JsonObject): JsonObject {
  const out = structuredClone(config);
  if (isObject(out.metadata)) {
    for (const field of ['managedFields', 'resourceVersion', 'uid', 'creationTimestamp', 'generation', 'selfLink'])
      delete out.metadata[field];
  }
  return out;
}

/** Wording of structured-merge-diff's conflict errors as kube-apiserver returns them. */
function applyConflict(conflicts: Array<{ entry: ManagerEntry; path: string }>): ApiError {
  const printManager = (e: ManagerEntry): string => (e.operation === 'Update' ? `"${e.manager}" using ${e.apiVersion}` : `"${e.manager}"`);
  let message: string;
  const first = conflicts[0];
  if (conflicts.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(first.entry)}: ${prettyPath(first.path)}`;
  } else {
    const byManager = new Map<string, string[]>();
    for (const c of conflicts) {
      const key = printManager(c.entry);
      byManager.set(key, [...(byManager.get(key) ?? []), `- ${prettyPath(c.path)}`]);
    }
    const parts = [...byManager.keys()].sort().flatMap((m) => [`conflicts with ${m}:`, ...(byManager.get(m) ?? [])]);
    message = `Apply failed with ${conflicts.length} conflicts: ${parts.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, {
    causes: conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with ${printManager(c.entry)}`,
      field: prettyPath(c.path),
    })),
  });
}
