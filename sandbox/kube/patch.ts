import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { ApiError, badRequest } from './status.ts';
import { deepEqual, isObject, type Json, type JsonObject } from './fieldpath.ts';
import { childPattern, itemPattern, listTypeAt } from './schema.ts';

/**
 * The non-apply patch types: JSON merge patch (RFC 7396), JSON patch (RFC 6902) and Kubernetes'
 * strategic merge patch (lists with a patch merge key merged by that key, `$patch: delete|replace`,
 * `$setElementOrder/...`, `$deleteFromPrimitiveList/...` as kubectl sends them).
 */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

export function jsonPatch(target: JsonObject, patch: Json): JsonObject {
  if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  try {
    const result = fastJsonPatch.applyPatch(structuredClone(target), patch as unknown as Operation[], true, false);
    return result.newDocument as JsonObject;
  } catch {
    // 1.20 does not say which operation failed, only this.
    throw new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
  }
}

export function strategicMergePatch(kind: string, target: JsonObject, patch: Json): JsonObject {
  if (!isObject(patch)) throw badRequest('the body of the request was not a JSON object');
  return smpObject(kind, target, patch, '');
}

function smpObject(kind: string, target: JsonObject, patch: JsonObject, pattern: string): JsonObject {
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return stripDirectives(rest) as JsonObject;
  }
  const out: JsonObject = { ...target };
  const orders = new Map<string, Json[]>();
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.set(key.slice('$setElementOrder/'.length), value);
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const current = out[field];
      if (Array.isArray(current) && Array.isArray(value)) out[field] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      continue;
    }
    if (value === null) {
      delete out[key];
      continue;
    }
    const merged = smpValue(kind, out[key], value, childPattern(pattern, key));
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  for (const [field, order] of orders) {
    const list = out[field];
    const type = listTypeAt(kind, childPattern(pattern, field));
    if (Array.isArray(list) && type.type === 'map') out[field] = orderBy(list, order, type.patchKey);
  }
  return out;
}

function smpValue(kind: string, target: Json | undefined, patch: Json, pattern: string): Json | undefined {
  if (isObject(patch)) {
    if (patch.$patch === 'delete') return undefined;
    return smpObject(kind, isObject(target) ? target : {}, patch, pattern);
  }
  if (Array.isArray(patch)) {
    const type = listTypeAt(kind, pattern);
    if (type.type === 'map' && Array.isArray(target)) return mergeList(kind, target, patch, type.patchKey, pattern);
    if (type.type === 'set' && Array.isArray(target)) return [...target, ...patch.filter((p) => !target.some((t) => deepEqual(t, p)))];
    return stripDirectives(patch);
  }
  return patch;
}

function mergeList(kind: string, target: Json[], patch: Json[], key: string, pattern: string): Json[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item.$patch === 'replace')).map(stripDirectives);
  }
  // Without an explicit order, kube-apiserver puts the patch's items first (in patch order), then the others.
  const fromPatch: Json[] = [];
  const rest = [...target];
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = rest.findIndex((t) => isObject(t) && deepEqual(t[key], item[key]));
    const original = index >= 0 ? (rest.splice(index, 1)[0] as JsonObject) : undefined;
    if (item.$patch === 'delete') continue;
    fromPatch.push(original ? smpObject(kind, original, item, itemPattern(pattern)) : stripDirectives(item));
  }
  return [...fromPatch, ...rest];
}

function orderBy(list: Json[], order: Json[], key: string): Json[] {
  const position = (item: Json): number => {
    const index = order.findIndex((o) => isObject(o) && isObject(item) && deepEqual(o[key], item[key]));
    return index < 0 ? order.length : index;
  };
  return [...list].sort((a, b) => position(a) - position(b));
}

function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !k.startsWith('$'))
      .map(([k, v]) => [k, stripDirectives(v)]),
  );
}
