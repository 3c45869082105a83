/**
 * Bad YAML: every error is a BundleError whose message and location name the file, the document
 * and, for syntax problems, the line and column.
 */
import { describe, expect, it } from 'vitest';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { BundleError } from '#shared/platform/errors.ts';
import { tarGzBytes, zipBytes } from './archives.ts';

async function failureOf(promise: Promise<unknown>): Promise<BundleError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  return err as BundleError;
}

const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
  'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
  '',
].join('\n');

describe('malformed YAML', () => {
  it('names file, document, line and column of a syntax error', async () => {
    const text = 'kind: A\n---\nkind: B\nmetadata:\n  name: [web, api\n';
    const err = await failureOf(loadBundleBytes('bad.yaml', Buffer.from(text)));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.location).toEqual({ file: 'bad.yaml', document: 1 });
    expect(err.message).toMatch(/^bad\.yaml \(document 2\): YAML syntax error at line 6, column 1: /);
  });

  it('names the entry path when the file is inside an archive', async () => {
    const files = { 'ok.yaml': 'kind: A\n', 'k8s/web.yaml': 'kind: B\nspec: {replicas: 1\n' };
    for (const [name, data] of [
      ['b.tgz', tarGzBytes(files)],
      ['b.zip', zipBytes(files)],
    ] as const) {
      const err = await failureOf(loadBundleBytes(name, data));
      expect(err.location?.file, name).toBe('k8s/web.yaml');
      expect(err.message, name).toMatch(/^k8s\/web\.yaml \(document 1\): YAML syntax error at line \d+, column \d+/);
    }
  });

  it('rejects a duplicate key with the line and column of the second one', async () => {
    const text = 'kind: ConfigMap\nmetadata:\n  name: a\n  namespace: demo\n  name: b\n';
    const err = await failureOf(loadBundleBytes('dup.yaml', Buffer.from(text)));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.message).toMatch(/^dup\.yaml \(document 1\): duplicate key "name" at line 5, column 3$/);
  });

  it('finds duplicates in nested, flow and sequence-held mappings, comparing keys as yaml does', async () => {
    const nested = 'kind: A\nspec:\n  items:\n  - {name: a, port: 1, name: b}\n';
    expect((await failureOf(loadBundleBytes('n.yaml', Buffer.from(nested)))).message).toBe(
      'n.yaml (document 1): duplicate key "name" at line 4, column 24',
    );
    const { documents } = await loadBundleBytes('k.yaml', Buffer.from('kind: A\ndata:\n  1: number\n  "1": string\n'));
    expect(documents[0]?.value.data).toEqual({ 1: 'string' });
  });

  it('loads a mapping of 10,000 keys and still finds a duplicate among them', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `  key${i}: v${i}\n`).join('');
    const { documents } = await loadBundleBytes('big.yaml', Buffer.from(`kind: ConfigMap\ndata:\n${keys}`));
    expect(Object.keys(documents[0]?.value.data as object)).toHaveLength(10_000);
    const err = await failureOf(loadBundleBytes('big.yaml', Buffer.from(`kind: ConfigMap\ndata:\n${keys}  key7: again\n`)));
    expect(err.message).toBe('big.yaml (document 1): duplicate key "key7" at line 10003, column 3');
  });

  it('rejects a document that is a sequence, naming its document and line', async () => {
    const text = 'kind: A\n---\n# list\n- one\n- two\n';
    const err = await failureOf(loadBundleBytes('list.yaml', Buffer.from(text)));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.location).toEqual({ file: 'list.yaml', document: 1 });
    expect(err.message).toBe('list.yaml (document 2): the document starting at line 4 is a sequence, expected a mapping (key: value)');
  });

  it('rejects scalar and explicit null documents', async () => {
    const scalar = await failureOf(loadBundleBytes('s.yaml', Buffer.from('just text\n')));
    expect(scalar.message).toMatch(/^s\.yaml \(document 1\): the document starting at line 1 is a string/);
    const explicitNull = await failureOf(loadBundleBytes('n.yaml', Buffer.from('kind: A\n--- null\n')));
    expect(explicitNull.message).toMatch(/^n\.yaml \(document 2\): .* is null, expected a mapping/);
  });

  it('rejects custom tags instead of silently turning them into strings', async () => {
    const err = await failureOf(loadBundleBytes('t.yaml', Buffer.from('kind: A\nvalue: !Ref other\n')));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.message).toMatch(/^t\.yaml \(document 1\): unsupported YAML tag at line 2, column 8: .*!Ref/);
  });

  it('rejects text that is not UTF-8', async () => {
    const err = await failureOf(loadBundleBytes('latin1.yaml', Buffer.from([0x6b, 0x3a, 0x20, 0xe9, 0x0a])));
    expect(err.code).toBe('BUNDLE_INVALID');
    expect(err.message).toBe('latin1.yaml: is not valid UTF-8 text');
  });
});

describe('resource exhaustion in YAML', () => {
  it('stops a "billion laughs" alias bomb with BUNDLE_TOO_LARGE naming maxAliasCount', async () => {
    const err = await failureOf(loadBundleBytes('lol.yaml', Buffer.from(BILLION_LAUGHS)));
    expect(err.code).toBe('BUNDLE_TOO_LARGE');
    expect(err.location).toEqual({ file: 'lol.yaml', document: 0 });
    expect(err.message).toMatch(/^lol\.yaml \(document 1\): YAML aliases expand too much: .*maxAliasCount = 100/);
  });

  it('stops aliases that each repeat a large anchor (few aliases, many values)', async () => {
    const anchor = `big: &big [${Array.from({ length: 2000 }, (_, i) => i).join(', ')}]\n`;
    const uses = Array.from({ length: 90 }, (_, i) => `use${i}: *big\n`).join('');
    const text = `kind: A\n${anchor}${uses}`;
    const err = await failureOf(loadBundleBytes('wide.yaml', Buffer.from(text)));
    expect(err.code).toBe('BUNDLE_TOO_LARGE');
    expect(err.message).toBe(
      'wide.yaml (document 1): YAML aliases expand the data too much: exceeds the alias expansion limit maxAliasExpansion = 100000 values',
    );
    const raised = await loadBundleBytes('wide.yaml', Buffer.from(text), { maxAliasExpansion: 200_000 });
    expect((raised.documents[0]?.value.use89 as number[]).length).toBe(2000);
  });

  it('allows a few aliases under the limit', async () => {
    const { documents } = await loadBundleBytes('ok.yaml', Buffer.from('a: &x [1]\nb: *x\nc: *x\n'));
    expect(documents[0]?.value).toEqual({ a: [1], b: [1], c: [1] });
  });

  it('stops at the document limit, naming the document that passed it', async () => {
    const files = { 'a.yaml': 'kind: A\n---\nkind: B\n', 'b.yaml': 'kind: C\n---\nkind: D\n---\nkind: E\n' };
    const err = await failureOf(loadBundleBytes('docs.tgz', tarGzBytes(files), { maxDocuments: 4 }));
    expect(err.code).toBe('BUNDLE_TOO_LARGE');
    expect(err.location).toEqual({ file: 'b.yaml', document: 2 });
    expect(err.message).toMatch(/^b\.yaml \(document 3\): .*maxDocuments = 4$/);
  });

  it.each([
    ['flow brackets', `kind: A\nspec: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`, 2],
    ['block indentation', `kind: A\nspec:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i + 1)}a:`).join('\n')}\n`, 201],
    ['compact sequences', `kind: A\nspec: ${'- '.repeat(100_000)}x\n`, 2],
  ])('refuses pathological nesting by %s before the recursive parser sees it', async (_label, text, line) => {
    const err = await failureOf(loadBundleBytes('deep.yaml', Buffer.from(text)));
    expect(err.code).toBe('BUNDLE_TOO_LARGE');
    expect(err.message).toBe(
      `deep.yaml (document 1): collections nest about 201 levels deep at line ${line}: exceeds the nesting depth limit maxDepth = 100`,
    );
  });

  it('counts documents when reporting where nesting went too deep', async () => {
    const text = `kind: A\n---\nkind: B\n---\nspec: ${'{a: '.repeat(300)}1${'}'.repeat(300)}\n`;
    const err = await failureOf(loadBundleBytes('deep.yaml', Buffer.from(text)));
    expect(err.location).toEqual({ file: 'deep.yaml', document: 2 });
    expect(err.message).toMatch(/^deep\.yaml \(document 3\): collections nest about 201 levels deep at line 5:/);
  });

  it('rejects data nested deeper than maxDepth', async () => {
    const deep = `kind: A\nspec: ${'['.repeat(30)}${']'.repeat(30)}\n`;
    const err = await failureOf(loadBundleBytes('deep.yaml', Buffer.from(deep), { maxDepth: 20 }));
    expect(err.code).toBe('BUNDLE_TOO_LARGE');
    expect(err.message).toMatch(/^deep\.yaml \(document 1\): .*maxDepth = 20$/);
    const ok = await loadBundleBytes('deep.yaml', Buffer.from(deep), { maxDepth: 40 });
    expect(ok.documents).toHaveLength(1);
  });
});
