/**
 * Structural sharing for the renderer. A plan of 1,000 objects for 50 clusters holds 50,000
 * manifests; most are the same object for every cluster, and the others differ from it in a few
 * fields (an env value, a replica count). The renderer therefore copies each bundle object once,
 * freezes the copy, and lets every manifest that has a part of it unchanged point at that part:
 * hashing and serialising it then happen once, and memory grows with what differs, not with the
 * number of clusters. Everything here works on plain JSON data (what parsed YAML is).
 */

/**
 * A deep copy of JSON data, exactly as `JSON.parse(JSON.stringify(value))` makes it (members that
 * are `undefined` are left out, in arrays they become `null`, numbers that are not finite become
 * `null`) without building the text. Values with a `toJSON` method take the round trip.
 */
export function copyJson<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) {
    if (typeof value === 'number') return Number.isFinite(value) ? value : null;
    if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
    return JSON.parse(JSON.stringify(value) ?? 'null');
  }
  if (Array.isArray(value)) {
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out[i] = item === undefined || typeof item === 'function' || typeof item === 'symbol' ? null : copy(item);
    }
    return out;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return JSON.parse(JSON.stringify(value));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const member: unknown = (value as Record<string, unknown>)[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
    setMember(out, key, copy(member));
  }
  return out;
}

/** `target[key] = value`, also for a key named `__proto__` (an own member in JSON, a prototype change by assignment). */
function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * `next`, with every part of it that equals the part at the same place in `base` (same members in
 * the same order, same values) replaced by base's: `base` itself when the whole is equal. `next`
 * is changed in place (never where it is frozen) but means the same afterwards; `base` is
 * untouched. Equality is order-sensitive because member order shows in the rendered YAML and JSON.
 */
export function shareWith<T>(next: T, base: unknown): T {
  return share(next, base) as T;
}

function share(next: unknown, base: unknown): unknown {
  if (next === base) return base;
  if (typeof next !== 'object' || next === null || typeof base !== 'object' || base === null) {
    return Object.is(next, base) ? base : next;
  }
  const frozen = Object.isFrozen(next);
  if (Array.isArray(next)) {
    if (!Array.isArray(base)) return next;
    let same = next.length === base.length;
    for (let i = 0; i < next.length; i++) {
      const item: unknown = next[i];
      const shared = i < base.length ? share(item, base[i]) : item;
      if (shared !== item && !frozen) next[i] = shared;
      if (shared !== base[i]) same = false;
    }
    return same ? base : next;
  }
  if (Array.isArray(base)) return next;
  const nextRecord = next as Record<string, unknown>;
  const baseRecord = base as Record<string, unknown>;
  const keys = Object.keys(nextRecord);
  const baseKeys = Object.keys(baseRecord);
  let same = keys.length === baseKeys.length && Object.getPrototypeOf(next) === Object.getPrototypeOf(base);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const member = nextRecord[key];
    if (!Object.hasOwn(baseRecord, key)) {
      same = false;
      continue;
    }
    if (same && baseKeys[i] !== key) same = false;
    const shared = share(member, baseRecord[key]);
    if (shared !== member && !frozen && key !== '__proto__') nextRecord[key] = shared;
    if (shared !== baseRecord[key]) same = false;
  }
  return same ? base : next;
}

/** Freezes a value and everything in it; a part that is already frozen is taken as frozen throughout (a shared part). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (Array.isArray(value)) for (const item of value) deepFreeze(item);
    else for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * Copy-on-write for code that changes a few parts of objects whose other parts are shared (frozen,
 * or simply not its own): traits. `writable(part)` is the part itself when it was made by this
 * CopyOnWrite, else a shallow copy that it made (and that the caller puts in place of the part),
 * so a trait that sets one env value copies the five objects on the way to it, not the whole
 * Deployment. `deep(value)` is a copy every part of which may be changed in place (copyJson), for
 * code that changes objects anywhere (KubeVela's pod traits); a value it made is not copied again.
 * Nothing it did not make is ever changed. `copiedDeep` says whether a deep copy was made: parts
 * of it equal to the originals are worth sharing again (shareWith); writable's copies are not.
 */
export class CopyOnWrite {
  /**
   * `once`: values made from a trait's (immutable) properties, frozen, kept by the caller for as
   * long as it likes them shared: the renderer passes one per render (RenderMemo).
   */
  constructor(private readonly once: WeakMap<object, unknown> = new WeakMap()) {}

  private readonly made = new SmallIdentitySet();
  private readonly deepCopies = new SmallIdentitySet();
  private readonly valid = new SmallIdentitySet();

  writable<T extends object>(part: T): T {
    if (this.made.has(part)) return part;
    const copy = (Array.isArray(part) ? [...part] : { ...part }) as T;
    this.made.add(copy);
    return copy;
  }

  get copiedDeep(): boolean {
    return this.deepCopies.size > 0;
  }

  deep<T extends object>(value: T): T {
    if (this.deepCopies.has(value)) return value;
    const copy = copyJson(value);
    this.deepCopies.add(copy);
    return copy;
  }

  /** What `make` makes from `from`, made once per `once` map (see the constructor). */
  madeOnce<T>(from: object, make: () => T): T {
    if (this.once.has(from)) return this.once.get(from) as T;
    const made = make();
    this.once.set(from, made);
    return made;
  }

  /** Records that `object` is a checked Kubernetes object (checkKubeObject's own result). */
  markChecked(object: object): void {
    this.valid.add(object);
  }

  wasChecked(object: object): boolean {
    return this.valid.has(object);
  }
}

/**
 * A set of objects by identity: a list while it is small (a CopyOnWrite lives for one component's
 * traits and makes a handful of copies, and a list costs far less than a Set), a Set past that, so
 * that many traits on one component stay linear.
 */
class SmallIdentitySet {
  private list: object[] | undefined;
  private set: Set<object> | undefined;

  get size(): number {
    return this.set?.size ?? this.list?.length ?? 0;
  }

  has(value: object): boolean {
    return this.set ? this.set.has(value) : this.list?.includes(value) === true;
  }

  add(value: object): void {
    if (this.set) this.set.add(value);
    else if (!this.list) this.list = [value];
    else if (!this.list.includes(value)) {
      this.list.push(value);
      if (this.list.length > 16) {
        this.set = new Set(this.list);
        this.list = undefined;
      }
    }
  }
}
