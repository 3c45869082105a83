import { describe, expect, it } from 'vitest';
import { matchesComponentName } from '#shared/delivery/render/render.ts';
import { copiedOnRead, copyJson, deepFreeze, shareWith } from '#shared/delivery/render/shared-objects.ts';

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

describe('copiedOnRead', () => {
  it('copies an entry the first time it is read and leaves the others the originals', () => {
    const originals = [deepFreeze({ n: 1 }), deepFreeze({ n: 2 })];
    const { list, settled } = copiedOnRead(originals);
    const first = list[0] as { n: number };
    first.n = 10;
    expect(list[0]).toBe(first);
    expect(settled()[1]).toBe(originals[1]);
    expect(originals[0]).toEqual({ n: 1 });
    expect(settled()[0]).toEqual({ n: 10 });
  });

  it('does not copy what the caller puts in, and lets it add entries', () => {
    const { list, settled } = copiedOnRead([deepFreeze({ n: 1 })]);
    const own = { n: 5 };
    list[0] = own;
    list.push({ n: 6 });
    expect(list[0]).toBe(own);
    expect(settled()).toEqual([{ n: 5 }, { n: 6 }]);
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
