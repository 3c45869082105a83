/**
 * The JSON fast path of the YAML loader (json-documents.ts) must be invisible: for every file it
 * answers, the documents, their indexes and lines are exactly the YAML parser's; every file it
 * cannot be sure of (and every error) goes to the YAML parser, whose messages name the line.
 */
import { describe, expect, it } from 'vitest';
import { parseJsonDocuments } from '#shared/delivery/bundle/json-documents.ts';
import { DEFAULT_BUNDLE_LIMITS } from '#shared/delivery/bundle/limits.ts';
import { parseYamlDocuments, parseYamlText, type YamlParseContext } from '#shared/delivery/bundle/yaml-documents.ts';
import { BundleError } from '#shared/platform/errors.ts';

const context = (limits: Partial<YamlParseContext['limits']> = {}, documentsSoFar = 0): YamlParseContext => ({
  limits: { ...DEFAULT_BUNDLE_LIMITS, ...limits },
  documentsSoFar,
});

/** The fast path answers, and its answer is the YAML parser's, member order included. */
function expectSameAsYaml(text: string, ctx = context()): void {
  const fast = parseJsonDocuments(text, ctx);
  expect(fast, 'the fast path should answer').toBeDefined();
  const slow = parseYamlText('f.yaml', text, ctx);
  expect(fast).toStrictEqual(slow);
  expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
}

function errorOf(run: () => unknown): BundleError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return err as BundleError;
  }
  throw new Error('expected a BundleError');
}

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  'a',
  'Z',
  '0',
  '9',
  ' ',
  '"',
  '\\',
  '/',
  '\b',
  '\f',
  '\n',
  '\u0001',
  '\u001f',
  'é',
  '中',
  '😀',
  ':',
  '#',
  '-',
  '&',
  '*',
  '!',
  '{',
  '[',
  '<<',
];

function randomValue(next: () => number, depth: number): unknown {
  const pick = next();
  if (depth > 4 || pick < 0.35) {
    const kind = Math.floor(next() * 6);
    if (kind === 0) return null;
    if (kind === 1) return next() < 0.5;
    if (kind === 2) return Math.floor((next() - 0.5) * 1e6);
    if (kind === 3) return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
    return randomString(next);
  }
  if (pick < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 5); i > 0; i--) {
    const key = randomString(next);
    if (key !== '__proto__' && key !== '<<') out[key] = randomValue(next, depth + 1);
  }
  return out;
}

function randomString(next: () => number): string {
  let text = '';
  for (let i = Math.floor(next() * 6); i > 0; i--) text += PIECES[Math.floor(next() * PIECES.length)];
  return text;
}

describe('the JSON fast path of the YAML loader', () => {
  it('reads a file of JSON objects as the YAML parser does: values, key order, indexes and lines', () => {
    const docs = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { b: '1', a: '2' } }, data: { x: 'y' } },
      { z: 1, a: [1, -0, 2.5, 1e21, -1.5e-7, true, false, null, {}, []], '2': 'two', '1': 'one', s: 'é 中 😀 \\ " / \b\f\n\r\t\u0001' },
    ];
    expectSameAsYaml(`${docs.map((d) => JSON.stringify(d)).join('\n---\n')}\n`);
    expectSameAsYaml(`---\n${docs.map((d) => JSON.stringify(d, null, 2)).join('\n---\n')}`);
    expectSameAsYaml(`\n\n  ${JSON.stringify(docs[0], null, 4)}\n\n---\n\n${JSON.stringify(docs[1])}  \n\n`);
    // Escapes JSON allows, written by hand, and a key with escapes.
    expectSameAsYaml('{"a\\u0062": "\\/\\u00e9\\ud83d\\ude00\\ud800", "e": 1E5, "f": 0.5e+2}');
    const lines = parseJsonDocuments('\n{"a": 1}\n---\n\n{\n"b":\n2}\n---\n{"c": 3}', context())?.map((d) => [d.index, d.line]);
    expect(lines).toEqual([
      [0, 2],
      [1, 5],
      [2, 9],
    ]);
  });

  it('agrees with the YAML parser on random JSON (strings with quotes, escapes, controls, astral characters; numbers; nesting)', () => {
    const next = random(15);
    let compared = 0;
    for (let round = 0; round < 150; round++) {
      const docs = Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
        const value = randomValue(next, 0);
        return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : { value };
      });
      const indent = [undefined, 1, 2][Math.floor(next() * 3)];
      const text = docs.map((d) => JSON.stringify(d, null, indent)).join('\n---\n');
      const ctx = context();
      const fast = parseJsonDocuments(text, ctx);
      // A random string may hold a key the fast path leaves to YAML; then there is nothing to compare.
      if (fast === undefined) continue;
      expect(fast, text).toStrictEqual(parseYamlText('f.yaml', text, ctx));
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });

  it.each([
    ['YAML, not JSON', 'kind: ConfigMap\nmetadata:\n  name: a\n'],
    ['a comment', '# generated\n{"a": 1}'],
    ['a document that is not a mapping', '[1, 2]'],
    ['an empty document', '{"a": 1}\n---\n---\n{"b": 2}'],
    ['a trailing separator', '{"a": 1}\n---\n'],
    ['a separator with a comment', '{"a": 1}\n--- # two\n{"b": 2}'],
    ['invalid JSON (a trailing comma)', '{"a": 1,}'],
    ['a flow mapping YAML reads but JSON does not', '{a: 1}'],
    ['a tab', '{\t"a": 1}'],
    ['a carriage return', '{"a": 1}\r\n'],
    ['a byte order mark', '\ufeff{"a": 1}'],
    ['a C1 control', '{"a": "\u0085"}'],
    ['a line separator', '{"a": "\u2028"}'],
    ['a 16-digit integer (YAML reads it with parseInt)', '{"a": 1234567890123456}'],
    ['a merge key', '{"<<": {"a": 1}}'],
    ['a key whose colon is on the next line', '{"a"\n: 1}'],
  ])('leaves %s to the YAML parser', (_what, text) => {
    expect(parseJsonDocuments(text, context())).toBeUndefined();
  });

  it('leaves a duplicate key to the YAML parser, which names it with its line and column', () => {
    const text =
      '{"kind": "ConfigMap", "metadata": {"name": "a"}}\n---\n{\n  "kind": "ConfigMap",\n  "metadata": {"name": "b", "name": "c"}\n}\n';
    expect(parseJsonDocuments(text, context())).toBeUndefined();
    const err = errorOf(() => parseYamlDocuments('dup.yaml', text, context()));
    expect(err.location).toEqual({ file: 'dup.yaml', document: 1 });
    expect(err.message).toBe('dup.yaml (document 2): duplicate key "name" at line 5, column 29');
  });

  it('finds a duplicate written with escapes, and one among many keys', () => {
    expect(parseJsonDocuments('{"ab": 1, "a\\u0062": 2}', context())).toBeUndefined();
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    const text = JSON.stringify(many);
    expect(parseJsonDocuments(text, context())).toHaveLength(1);
    expect(parseJsonDocuments(text.replace('}', ',"k4321": 0}'), context())).toBeUndefined();
  });

  it('leaves a __proto__ key (even escaped) to the YAML parser, which refuses it naming the field', () => {
    const text = '{"metadata": {"labels": {"\\u005f_proto__": "x"}}}';
    expect(parseJsonDocuments(text, context())).toBeUndefined();
    const err = errorOf(() => parseYamlDocuments('p.yaml', text, context()));
    expect(err.message).toMatch(/the key "__proto__" at line 1, column \d+ is not accepted/);
    expect(err.location).toMatchObject({ field: 'metadata.labels.__proto__' });
  });

  it('leaves nesting near the depth limit to the YAML parser, which refuses it with the limit named', () => {
    const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    expect(parseJsonDocuments(nested(8), context({ maxDepth: 9 }))).toHaveLength(1);
    expect(parseJsonDocuments(nested(9), context({ maxDepth: 9 }))).toBeUndefined();
    const err = errorOf(() => parseYamlDocuments('deep.yaml', nested(12), context({ maxDepth: 9 })));
    expect(err.code).toBe('BUNDLE_TOO_LARGE');
    expect(err.message).toMatch(/maxDepth = 9/);
    // A hostile depth never reaches a recursive parser: the fast path does not recurse either.
    expect(parseJsonDocuments(nested(100_000), context())).toBeUndefined();
  });

  it('leaves a file past the document limit to the YAML parser, which names the limit', () => {
    const text = ['{"a": 1}', '{"b": 2}', '{"c": 3}'].join('\n---\n');
    expect(parseJsonDocuments(text, context({ maxDocuments: 3 }))).toHaveLength(3);
    expect(parseJsonDocuments(text, context({ maxDocuments: 4 }, 2))).toBeUndefined();
    const err = errorOf(() => parseYamlDocuments('many.yaml', text, context({ maxDocuments: 4 }, 2)));
    expect(err.code).toBe('BUNDLE_TOO_LARGE');
    expect(err.location).toEqual({ file: 'many.yaml', document: 2 });
  });
});
