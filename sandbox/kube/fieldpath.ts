import { isDeepStrictEqual } from 'node:util';
import { childPattern, isAtomicStruct, itemPattern, listTypeAt } from './schema.ts';

/**
 * Field paths and field sets in structured-merge-diff's terms, the model behind managedFields:
 * a path is a list of elements (`f:name` a field, `k:{"name":"web"}` an associative-list item,
 * `v:"x"` a set member); a set holds the paths a manager owns and serializes to `fieldsV1`.
 */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const deepEqual = isDeepStrictEqual;

const SEP = '\n';

function joinPath(prefix: string, element: string): string {
  return prefix ? `${prefix}${SEP}${element}` : element;
}

export function splitPath(path: string): string[] {
  return path ? path.split(SEP) : [];
}

/** Raised when an associative-list item lacks a key field: kube-apiserver 1.20 rejects such applies. */
export class MissingKeyError extends Error {}

function keyElement(
  keys: string[],
  item: JsonObject,
  where: string,
  index: number,
  strict: boolean,
  defaults: Record<string, string> = {},
): string {
  const key: JsonObject = {};
  for (const field of [...keys].sort()) {
    const value = item[field] ?? defaults[field];
    if (value === undefined || value === null) {
      // Typed objects always carry their keys (a missing number is 0); only an applied configuration can omit one.
      if (!strict) continue;
      throw new MissingKeyError(
        `${where}: element ${index}: associative list with keys has an element that omits key field "${field}" (and doesn't have default value)`,
      );
    }
    key[field] = value;
  }
  return `k:${JSON.stringify(key)}`;
}

function keyMatches(element: string, keys: string[], item: Json, defaults: Record<string, string> = {}): boolean {
  if (!isObject(item)) return false;
  const want = JSON.parse(element.slice(2)) as JsonObject;
  return keys.every((k) => deepEqual(item[k] ?? defaults[k], want[k]));
}

/** `.spec.template.spec.containers[name="web"].image`: how conflicts are reported. */
export function prettyPath(path: string): string {
  return splitPath(path)
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      if (el.startsWith('v:')) return `[=${el.slice(2)}]`;
      const key = JSON.parse(el.slice(2)) as JsonObject;
      return `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    })
    .join('');
}

/** Metadata the API server never records as owned: identity and server-set bookkeeping. */
const UNOWNED_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

/**
 * Nodes that a typed object always has (Go non-pointer structs, lists without omitempty): an update
 * that fills them in does not record them as added. Every other map, list or struct it adds is
 * recorded itself (`.` in fieldsV1), as kube-apiserver does for Update operations.
 */
const ALWAYS_PRESENT = new Set([
  'metadata',
  'spec',
  'status',
  'spec.strategy',
  'spec.template',
  'spec.template.metadata',
  'spec.template.spec',
  'spec.template.spec.containers',
  'spec.template.spec.containers[].resources',
  'spec.template.spec.initContainers[].resources',
  'spec.rules[].http.paths',
  'spec.rules[].http.paths[].backend',
  'spec.rules[].http.paths[].backend.service.port',
]);

/**
 * Every owned path of an object with the value found there: leaves, atomic lists and structs,
 * associative-list items (the item itself and its fields), set members. Pattern names the schema position.
 */
export function members(kind: string, root: JsonObject, strict = false): Map<string, Json> {
  const out = new Map<string, Json>();
  const visitObject = (obj: JsonObject, path: string, pattern: string): void => {
    for (const [field, raw] of Object.entries(obj)) {
      if (raw === null || raw === undefined) continue;
      let value: Json = raw;
      if (!pattern) {
        if (field === 'apiVersion' || field === 'kind') continue;
        if (field === 'metadata' && isObject(raw)) {
          value = Object.fromEntries(Object.entries(raw).filter(([k]) => !UNOWNED_METADATA.includes(k)));
          if (Object.keys(value).length === 0) continue;
        }
      }
      visitValue(value, joinPath(path, `f:${field}`), childPattern(pattern, field));
    }
  };
  const visitValue = (value: Json, path: string, pattern: string): void => {
    if (isObject(value)) {
      if (Object.keys(value).length === 0 || isAtomicStruct(kind, pattern)) out.set(path, value);
      else visitObject(value, path, pattern);
      return;
    }
    if (Array.isArray(value) && value.length > 0) {
      const type = listTypeAt(kind, pattern);
      if (type.type === 'map' && value.every(isObject)) {
        value.forEach((item, index) => {
          const itemPath = joinPath(path, keyElement(type.keys, item as JsonObject, prettyPath(path), index, strict, type.keyDefaults));
          out.set(itemPath, item);
          visitObject(item as JsonObject, itemPath, itemPattern(pattern));
        });
        return;
      }
      if (type.type === 'set') {
        for (const item of value) out.set(joinPath(path, `v:${JSON.stringify(item)}`), item);
        return;
      }
    }
    out.set(path, value);
  };
  visitObject(root, '', '');
  return out;
}

/** Walks a path through an object; undefined when any step is missing. */
export function valueAt(kind: string, root: JsonObject, path: string): Json | undefined {
  let current: Json | undefined = root;
  let pattern = '';
  for (const el of splitPath(path)) {
    if (el.startsWith('f:')) {
      if (!isObject(current)) return undefined;
      const field = el.slice(2);
      current = current[field];
      pattern = childPattern(pattern, field);
    } else {
      if (!Array.isArray(current)) return undefined;
      const type = listTypeAt(kind, pattern);
      if (el.startsWith('k:') && type.type === 'map') current = current.find((item) => keyMatches(el, type.keys, item, type.keyDefaults));
      else if (el.startsWith('v:')) current = current.find((item) => JSON.stringify(item) === el.slice(2));
      else return undefined;
      pattern = itemPattern(pattern);
    }
    if (current === undefined) return undefined;
  }
  return current;
}

/** Removes what a path points at, then empty maps it leaves behind (an empty map is omitted by the real server). */
export function removePath(kind: string, root: JsonObject, path: string): void {
  const elements = splitPath(path);
  const last = elements.pop();
  if (last === undefined) return;
  const parentPath = elements.join(SEP);
  const parent = valueAt(kind, root, parentPath);
  if (last.startsWith('f:')) {
    if (isObject(parent)) delete parent[last.slice(2)];
  } else if (Array.isArray(parent)) {
    const type = listTypeAt(kind, patternOf(parentPath));
    const index = parent.findIndex((item) =>
      last.startsWith('v:')
        ? JSON.stringify(item) === last.slice(2)
        : type.type === 'map' && keyMatches(last, type.keys, item, type.keyDefaults),
    );
    if (index >= 0) parent.splice(index, 1);
  }
  const keepEvenEmpty = elements.length === 0 || (elements.length === 1 && (elements[0] === 'f:spec' || elements[0] === 'f:metadata'));
  if (!keepEvenEmpty && isObject(parent) && Object.keys(parent).length === 0 && elements[elements.length - 1]?.startsWith('f:')) {
    removePath(kind, root, parentPath);
  }
}

function patternOf(path: string): string {
  let pattern = '';
  for (const el of splitPath(path)) pattern = el.startsWith('f:') ? childPattern(pattern, el.slice(2)) : itemPattern(pattern);
  return pattern;
}

/** The paths an update adds or changes (what its manager comes to own) and the paths it removes. */
export function diffMembers(kind: string, before: JsonObject, after: JsonObject): { changed: Set<string>; removed: Set<string> } {
  const old = members(kind, before);
  const now = members(kind, after);
  const changed = new Set<string>();
  for (const [path, value] of now) {
    if (path.split(SEP).pop()?.startsWith('k:')) {
      if (!old.has(path)) changed.add(path);
    } else if (!old.has(path) || !deepEqual(old.get(path), value)) {
      changed.add(path);
    }
    addNewMapMarkers(kind, before, path, changed);
  }
  const removed = new Set([...old.keys()].filter((p) => !now.has(p)));
  return { changed, removed };
}

function addNewMapMarkers(kind: string, before: JsonObject, path: string, changed: Set<string>): void {
  const elements = splitPath(path);
  for (let i = 1; i < elements.length; i++) {
    const prefix = elements.slice(0, i).join(SEP);
    if (!elements[i - 1]?.startsWith('f:') || changed.has(prefix) || ALWAYS_PRESENT.has(patternOf(prefix))) continue;
    if (valueAt(kind, before, prefix) === undefined) changed.add(prefix);
  }
}

interface FieldsNode {
  member: boolean;
  children: Map<string, FieldsNode>;
}

export function toFieldsV1(paths: Iterable<string>): JsonObject {
  const root: FieldsNode = { member: false, children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const el of splitPath(path)) {
      let next = node.children.get(el);
      if (!next) {
        next = { member: false, children: new Map() };
        node.children.set(el, next);
      }
      node = next;
    }
    node.member = true;
  }
  const render = (node: FieldsNode): JsonObject => {
    const out: JsonObject = {};
    if (node.member && node.children.size > 0) out['.'] = {};
    for (const key of [...node.children.keys()].sort()) out[key] = render(node.children.get(key) as FieldsNode);
    return out;
  };
  return render(root);
}

export function fromFieldsV1(tree: Json | undefined): Set<string> {
  const out = new Set<string>();
  const visit = (node: JsonObject, path: string): void => {
    for (const [key, child] of Object.entries(node)) {
      if (key === '.' || !isObject(child)) continue;
      const childPath = joinPath(path, key);
      const keys = Object.keys(child);
      if (keys.length === 0 || keys.includes('.')) out.add(childPath);
      visit(child, childPath);
    }
  };
  if (isObject(tree)) visit(tree, '');
  return out;
}
