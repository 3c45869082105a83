/**
 * Field paths as KubeVela's apply-once policy writes them: `spec.replicas`,
 * `spec.template.spec.containers[0].resources`, `metadata.annotations[example.com/key]`, or `*` for
 * the whole object. Pure: parsing, reading and writing a value at a path.
 */

export type PathSegment = string | number;

/** `*`: the whole object. */
export const WHOLE_OBJECT = '*';

/** The segments of a path, or a sentence saying what is wrong with it. `*` gives []. */
export function parseFieldPath(path: string): PathSegment[] | string {
  if (path === WHOLE_OBJECT) return [];
  if (path.length === 0) return 'a path cannot be empty';
  if (path.length > 512) return 'a path is at most 512 characters';
  const segments: PathSegment[] = [];
  let rest = path;
  let expectName = true;
  while (rest.length > 0) {
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close < 0) return `"${path}": "[" without "]"`;
      const inner = rest.slice(1, close);
      if (inner.length === 0) return `"${path}": empty brackets`;
      segments.push(/^\d+$/.test(inner) ? Number(inner) : inner);
      rest = rest.slice(close + 1);
      expectName = false;
      continue;
    }
    if (rest.startsWith('.')) {
      if (expectName) return `"${path}": a field name is missing before "."`;
      rest = rest.slice(1);
      expectName = true;
      if (rest.length === 0) return `"${path}": ends with "."`;
      continue;
    }
    if (!expectName) return `"${path}": expected "." or "[" after "${String(segments.at(-1))}"`;
    const name = /^[^.[\]]+/.exec(rest)?.[0];
    if (!name) return `"${path}": unexpected "${rest[0]}"`;
    if (name === WHOLE_OBJECT || name.includes('*')) return `"${path}": "*" stands alone for the whole object, never inside a path`;
    segments.push(name);
    rest = rest.slice(name.length);
    expectName = false;
  }
  return segments;
}

/** `['spec', 'containers', 0, 'image']` -> `spec.containers[0].image`. */
export function formatFieldPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${segment}]`;
  }
  return out || WHOLE_OBJECT;
}

/** True when `prefix` is `path` or one of its ancestors. */
export function isPrefixOf(prefix: readonly PathSegment[], path: readonly PathSegment[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => segment === path[i]);
}

/** The value at a path; `present` false when some segment is missing. */
export function readAt(value: unknown, path: readonly PathSegment[]): { present: boolean; value?: unknown } {
  let current: unknown = value;
  for (const segment of path) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current) || segment >= current.length) return { present: false };
      current = current[segment];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, segment))
        return { present: false };
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return { present: true, value: current };
}

/**
 * Sets (or, with `present` false, removes) the value at a path inside `target`, which is changed in
 * place; maps on the way are created. Returns false when the path runs through something that is
 * not a map or list of that shape (nothing changed then).
 */
export function writeAt(target: unknown, path: readonly PathSegment[], entry: { present: boolean; value?: unknown }): boolean {
  if (path.length === 0) return false;
  let current: unknown = target;
  for (const [i, segment] of path.slice(0, -1).entries()) {
    const nextSegment = path[i + 1];
    const container = current as Record<string | number, unknown>;
    if (current === null || typeof current !== 'object') return false;
    if (typeof segment === 'number' ? !Array.isArray(current) : Array.isArray(current)) return false;
    let child = container[segment];
    if (child === undefined) {
      if (!entry.present) return true;
      if (typeof nextSegment === 'number') return false;
      child = {};
      container[segment] = child;
    }
    current = child;
  }
  const last = path.at(-1) as PathSegment;
  if (current === null || typeof current !== 'object') return false;
  if (typeof last === 'number') {
    if (!Array.isArray(current) || last >= current.length) return !entry.present;
    if (entry.present) current[last] = structuredClone(entry.value);
    else current.splice(last, 1);
    return true;
  }
  if (Array.isArray(current)) return false;
  const map = current as Record<string, unknown>;
  if (entry.present) map[last] = structuredClone(entry.value);
  else delete map[last];
  return true;
}
