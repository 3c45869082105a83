import { describe, expect, it } from 'vitest';
import { matchesComponentName } from '#shared/delivery/render/render.ts';
import { CopyOnWrite, copyJson, deepFreeze, shareWith } from '#shared/delivery/render/shared-objects.ts';

describe('copyJson', () => {
  it('copies as a JSON round trip does: undefined members left out, undefined items and non-finite numbers null', () => {
    const value = { b: 1, a: [1, undefined, Number.NaN, { x: undefined, y: 'y' }], c: undefined, d: { e: null, f: -Infinity }, 2: 'two' };
    const copy = copyJson(value);
    expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
    expect(copy).toEqual(JSON.parse(JSON.stringify(value)));
    expect(Object.keys(copy)).toEqual(['2', 'b', 'a', 'd']);
    expect(copy.d).not.toBe(value.d);
  });

  it('keeps a __proto__ member an own member, as JSON.parse does, without changing the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = copyJson(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('takes values with toJSON through JSON', () => {
    expect(copyJson({ when: new Date(0) })).toEqual({ when: '1970-01-01T00:00:00.000Z' });
  });
});

describe('shareWith', () => {
  const base = deepFreeze({ a: { x: [1, 2] }, b: { y: 'y' }, c: [{ k: 1 }, { k: 2 }] });

  it('returns the base itself when the whole is equal', () => {
    expect(shareWith(copyJson(base), base)).toBe(base);
  });

  it('shares the equal parts of a changed value and keeps the changed ones', () => {
    const next = copyJson(base) as { a: { x: number[] }; b: { y: string }; c: Array<{ k: number }> };
    next.b.y = 'changed';
    next.c.push({ k: 3 });
    const shared = shareWith(next, base);
    expect(shared).toBe(next);
    expect(shared.a).toBe(base.a);
    expect(shared.b).not.toBe(base.b);
    expect(shared.c).not.toBe(base.c);
    expect(shared.c[0]).toBe(base.c[0]);
    expect(shared).toEqual({ a: { x: [1, 2] }, b: { y: 'changed' }, c: [{ k: 1 }, { k: 2 }, { k: 3 }] });
  });

  it('counts member order: the same members in another order are not the base (it would print differently)', () => {
    const reordered = { b: { y: 'y' }, a: { x: [1, 2] }, c: [{ k: 1 }, { k: 2 }] };
    const shared = shareWith(reordered, base);
    expect(shared).not.toBe(base);
    expect(Object.keys(shared)).toEqual(['b', 'a', 'c']);
    expect(shared.a).toBe(base.a);
  });

  it('does not take a value of another type, nor change a frozen value', () => {
    expect(shareWith({ a: [1] }, { a: { 0: 1 } })).toEqual({ a: [1] });
    const frozen = deepFreeze({ a: { x: [1, 2] }, b: 1 });
    const shared = shareWith(frozen, base);
    expect(shared).toBe(frozen);
    expect(frozen.a).not.toBe(base.a);
  });
});

describe('CopyOnWrite', () => {
  it('copies a part once, and never changes what it did not make', () => {
    const cow = new CopyOnWrite();
    const shared = deepFreeze({ spec: { replicas: 1, template: { a: [1, 2] } }, other: { k: 'v' } });
    const top = cow.writable(shared);
    const spec = cow.writable(top.spec);
    top.spec = spec;
    spec.replicas = 3;
    expect(cow.writable(top)).toBe(top);
    expect(cow.writable(spec)).toBe(spec);
    expect(top).toEqual({ spec: { replicas: 3, template: { a: [1, 2] } }, other: { k: 'v' } });
    // What was not on the way stays the shared part; the shared object is as it was.
    expect(spec.template).toBe(shared.spec.template);
    expect(top.other).toBe(shared.other);
    expect(shared.spec.replicas).toBe(1);
    // An unfrozen object it did not make is copied too: it may belong to someone else.
    const notMine = { n: 1 };
    expect(cow.writable(notMine)).not.toBe(notMine);
    const list = cow.writable(shared.spec.template.a);
    expect(Array.isArray(list) && list).toEqual([1, 2]);
  });

  it('makes a deep copy once, every part writable, for code that changes objects anywhere', () => {
    const cow = new CopyOnWrite();
    const shared = deepFreeze({ a: { b: [{ c: 1 }] } });
    const copy = cow.deep(shared);
    expect(cow.deep(copy)).toBe(copy);
    (copy.a.b[0] as { c: number }).c = 2;
    expect(shared.a.b[0]?.c).toBe(1);
    expect(new CopyOnWrite().deep(copy)).not.toBe(copy);
  });
});

describe('matchesComponentName', () => {
  /** What the pattern means, as the anchored regular expression it used to be built into. */
  const oracle = (pattern: string, name: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    ).test(name);

  it('matches whole names with * as any run of characters, as the regular expression did', () => {
    const patterns = ['*', 'a*', '*a', 'a*a', 'a*b*c', '**', 'ab*ba', '*b*', 'a.c', 'a.*', '*-db-*', 'x**y', 'aa*aa'];
    const names = ['', 'a', 'aa', 'aaa', 'aba', 'abba', 'abc', 'abxbc', 'acb', 'a.c', 'abc.d', 'my-db-1', 'xy', 'xay', 'aaaa', 'aaa-aa'];
    for (const pattern of patterns)
      for (const name of names)
        expect([pattern, name, matchesComponentName(pattern, name)]).toEqual([pattern, name, oracle(pattern, name)]);
  });
});
