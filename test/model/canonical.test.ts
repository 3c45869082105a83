import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonMemo, contentHash, sha256Hex } from '#shared/delivery/model/canonical.ts';

/** The definition: keys sorted at every level, no whitespace, undefined members left out. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : reference(item))).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${reference((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

const SAMPLES: unknown[] = [
  null,
  'text "quoted" \\ \u0001 \u2028 😀',
  42,
  -0,
  Number.NaN,
  true,
  [],
  {},
  [1, undefined, 'a', null, { b: 2, a: 1 }],
  { z: 1, a: { y: [3, { q: undefined, p: 'p' }], x: null }, 'key "q"': 'v', 10: 'ten', 9: 'nine', é: 'e' },
  { metadata: { name: 'web', labels: { b: '2', a: '1' } }, spec: { replicas: 2 } },
  // Strings and numbers written without JSON.stringify must come out as it writes them.
  ['plain', '', 'lone \ud800 and \udc00', 'pair \ud83d\ude00', 'tab\t', 'del \u007f', '\u001f', 'é中', '</script>'],
  [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e21, 5e-7, -1.5, 2 ** 53 + 2, 0.1 + 0.2, false],
  { apiVersion: 'v1', kind: 'K', metadata: {}, spec: {} },
  { b: 1, a: 2, c: { z: [{ y: 1, x: 2 }] } },
  // Key counts either side of the small-object sort, in reverse and interleaved order.
  Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${(i * 7) % 20}`, i])),
  Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key-${39 - i}`, i])),
];

describe('canonicalJson', () => {
  it('writes each sample as the definition does', () => {
    for (const value of SAMPLES) expect(canonicalJson(value)).toBe(reference(value));
  });

  it('gives the same text with a memo, for frozen and unfrozen parts alike', () => {
    const memo = new WeakMap<object, string>();
    for (const value of SAMPLES) {
      const frozen = typeof value === 'object' && value !== null ? Object.freeze(structuredClone(value)) : value;
      expect(canonicalJsonMemo(value, memo)).toBe(reference(value));
      expect(canonicalJsonMemo(frozen, memo)).toBe(reference(value));
      expect(canonicalJsonMemo(frozen, memo)).toBe(reference(value));
    }
  });

  it('remembers only frozen parts: an unfrozen part changed between two calls is written anew', () => {
    const memo = new WeakMap<object, string>();
    const shared = Object.freeze({ a: 1 });
    const open = { b: 1 };
    const value = { shared, open };
    expect(canonicalJsonMemo(value, memo)).toBe('{"open":{"b":1},"shared":{"a":1}}');
    open.b = 2;
    expect(canonicalJsonMemo(value, memo)).toBe('{"open":{"b":2},"shared":{"a":1}}');
    expect(memo.has(shared)).toBe(true);
    expect(memo.has(open)).toBe(false);
  });

  it('hashes the canonical text with sha256', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(contentHash({ b: 1, a: 'x' })).toBe(sha256Hex('{"a":"x","b":1}'));
  });
});
