import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import type { LoadedBundle } from '#shared/delivery/model/loaded-bundle.ts';
import { DEFAULT_BUNDLE_LIMITS } from '#shared/delivery/bundle/limits.ts';
import { makeTempDir, tarGzBytes, tarGzOfFolder, writeTarGz, writeZip, zipBytes, zipOfFolder } from './archives.ts';

const EXAMPLE = new URL('../../examples/web-demo/', import.meta.url).pathname;
const EXAMPLE_YAML = ['app-meta.yaml', 'app.yaml', 'clusters.yaml', 'traffic.yaml'];

let temp: Awaited<ReturnType<typeof makeTempDir>>;
let exampleFiles: Record<string, string>;

beforeAll(async () => {
  temp = await makeTempDir();
  exampleFiles = {};
  for (const name of (await readdir(EXAMPLE)).sort()) exampleFiles[name] = await readFile(join(EXAMPLE, name), 'utf8');
});
afterAll(async () => temp.cleanup());

function summary(bundle: LoadedBundle): Array<[string, number, unknown]> {
  return bundle.documents.map((doc) => [doc.file, doc.index, doc.value.kind ?? Object.keys(doc.value).join(',')]);
}

describe('the example bundle', () => {
  it('loads as a folder: README.md ignored, every document of the four YAML files in order', async () => {
    const bundle = await loadBundle(EXAMPLE);
    expect(bundle.source).toBe(EXAMPLE);
    expect(bundle.files).toEqual(EXAMPLE_YAML);
    const perFile = Object.fromEntries(EXAMPLE_YAML.map((f) => [f, bundle.documents.filter((d) => d.file === f).length]));
    expect(perFile).toEqual({ 'app-meta.yaml': 4, 'app.yaml': 9, 'clusters.yaml': 1, 'traffic.yaml': 1 });
    expect(summary(bundle).slice(0, 5)).toEqual([
      ['app-meta.yaml', 0, 'Deployment'],
      ['app-meta.yaml', 1, 'Service'],
      ['app-meta.yaml', 2, 'Ingress'],
      ['app-meta.yaml', 3, 'ConfigMap'],
      ['app.yaml', 0, 'Policy'],
    ]);
    expect(bundle.documents.at(-1)?.value.kind).toBe('TrafficPolicy');
    const app = bundle.documents.find((d) => d.value.kind === 'Application');
    expect(app?.file).toBe('app.yaml');
    // A document's line is where its data starts: here, the line after its `---`.
    const appLines = exampleFiles['app.yaml']!.split('\n');
    expect(appLines[app!.line - 2]).toBe('---');
    expect(appLines[app!.line - 1]).toMatch(/^apiVersion:/);
  });

  it('gives identical documents as .tar.gz, .tgz, .zip, a single concatenated .yaml, and bytes', async () => {
    const folder = await loadBundle(EXAMPLE);
    const values = folder.documents.map((d) => d.value);
    const tarGz = await tarGzOfFolder(EXAMPLE, join(temp.dir, 'web-demo.tar.gz'));
    const tgz = await tarGzOfFolder(EXAMPLE, join(temp.dir, 'web-demo.tgz'));
    const zip = await zipOfFolder(EXAMPLE, join(temp.dir, 'web-demo.zip'));
    const single = join(temp.dir, 'web-demo.yaml');
    await writeFile(single, EXAMPLE_YAML.map((f) => exampleFiles[f]).join('\n---\n'));

    for (const path of [tarGz, tgz, zip]) {
      const bundle = await loadBundle(path);
      expect(bundle.files, path).toEqual(EXAMPLE_YAML);
      expect(bundle.documents, path).toEqual(folder.documents);
    }
    const fromSingle = await loadBundle(single);
    expect(fromSingle.files).toEqual(['web-demo.yaml']);
    expect(fromSingle.documents.map((d) => d.value)).toEqual(values);
    expect(fromSingle.documents.every((d) => d.file === 'web-demo.yaml')).toBe(true);

    const fromBytes = await loadBundleBytes('uploads/web-demo-v2.zip', await readFile(zip));
    expect(fromBytes.source).toBe('uploads/web-demo-v2.zip');
    expect(fromBytes.documents).toEqual(folder.documents);
    const fromYmlBytes = await loadBundleBytes('bundles/one.yml', await readFile(single));
    expect(fromYmlBytes.files).toEqual(['one.yml']);
    expect(fromYmlBytes.documents.map((d) => d.value)).toEqual(values);
  });

  it('gives identical documents from the hand-written archive encoders used by the bad-input tests', async () => {
    const folder = await loadBundle(EXAMPLE);
    const fromTar = await loadBundleBytes('x.tar.gz', tarGzBytes(exampleFiles));
    const fromZip = await loadBundleBytes('x.zip', zipBytes(exampleFiles));
    expect(fromTar.documents).toEqual(folder.documents);
    expect(fromZip.documents).toEqual(folder.documents);
  });
});

describe('bundle contents', () => {
  it('reads nested folders recursively in sorted order, with forward-slash paths', async () => {
    const root = join(temp.dir, 'nested');
    await mkdir(join(root, 'k8s', 'web'), { recursive: true });
    await writeFile(join(root, 'z.yml'), 'kind: Z\n');
    await writeFile(join(root, 'k8s', 'web', 'svc.yaml'), 'kind: Service\n---\nkind: Deployment\n');
    await writeFile(join(root, 'k8s', 'a.YAML'), 'kind: A\n');
    await writeFile(join(root, 'notes.txt'), 'kind: ignored\n');
    const bundle = await loadBundle(root);
    expect(bundle.files).toEqual(['k8s/a.YAML', 'k8s/web/svc.yaml', 'z.yml']);
    expect(summary(bundle)).toEqual([
      ['k8s/a.YAML', 0, 'A'],
      ['k8s/web/svc.yaml', 0, 'Service'],
      ['k8s/web/svc.yaml', 1, 'Deployment'],
      ['z.yml', 0, 'Z'],
    ]);
  });

  it('skips empty documents but keeps each document index and start line', async () => {
    const text = '# header comment\n---\n---\n# only a comment\n---\nkind: First\n---\n\n---\nkind: Second\n';
    const bundle = await loadBundleBytes('docs.yaml', Buffer.from(text));
    expect(bundle.documents.map(({ index, line, value }) => ({ index, line, value }))).toEqual([
      { index: 2, line: 6, value: { kind: 'First' } },
      { index: 4, line: 10, value: { kind: 'Second' } },
    ]);
  });

  it('uses the core schema: dates and YAML 1.1 booleans stay strings, values are plain data', async () => {
    const text = 'when: 2026-01-01\nyes: on\nreal: true\nnum: 010\nnested: {list: [1, "2"]}\n';
    const { documents } = await loadBundleBytes('s.yaml', Buffer.from(text));
    expect(documents[0]?.value).toEqual({ when: '2026-01-01', yes: 'on', real: true, num: 10, nested: { list: [1, '2'] } });
    expect(Object.getPrototypeOf(documents[0]?.value)).toBe(Object.prototype);
  });

  it('gives each use of an alias its own copy, so patching one place cannot change another', async () => {
    const text = 'labels: &l {app: web}\nspec:\n  selector: *l\n';
    const { documents } = await loadBundleBytes('a.yaml', Buffer.from(text));
    const value = documents[0]!.value as { labels: Record<string, string>; spec: { selector: Record<string, string> } };
    expect(value.spec.selector).toEqual({ app: 'web' });
    value.spec.selector.app = 'changed';
    expect(value.labels.app).toBe('web');
  });

  it('refuses a __proto__ key (later layers would drop it silently) without touching any prototype', async () => {
    await expect(loadBundleBytes('p.yaml', Buffer.from('__proto__: {polluted: yes}\nkind: X\n'))).rejects.toThrow(
      /^p\.yaml \(document 1\) field __proto__: the key "__proto__" at line 1, column 1 is not accepted/,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('ignores __MACOSX/ and ._* entries in archives', async () => {
    const files = { 'app.yaml': 'kind: A\n', '__MACOSX/app.yaml': '\0\0bad', '._app.yaml': '\0\0bad', 'dir/._x.yml': ':::' };
    for (const [name, bytes] of [
      ['m.tgz', tarGzBytes(files)],
      ['m.zip', zipBytes(files)],
    ] as const) {
      const bundle = await loadBundleBytes(name, bytes);
      expect(bundle.files, name).toEqual(['app.yaml']);
    }
  });

  it('accepts limits that are raised for one call', async () => {
    const many = Array.from({ length: 12 }, (_, i) => `kind: K${i}\n`).join('---\n');
    await expect(loadBundleBytes('m.yaml', Buffer.from(many), { maxDocuments: 10 })).rejects.toThrow(/maxDocuments/);
    const bundle = await loadBundleBytes('m.yaml', Buffer.from(many), { maxDocuments: 12 });
    expect(bundle.documents).toHaveLength(12);
    expect(DEFAULT_BUNDLE_LIMITS.maxDocuments).toBeGreaterThan(12);
  });

  it('writes archives to disk with the helper and loads them by path', async () => {
    const tgz = await writeTarGz(join(temp.dir, 'disk.tgz'), { 'a.yaml': 'kind: A\n' });
    const zip = await writeZip(join(temp.dir, 'disk.zip'), { 'b.yml': 'kind: B\n' });
    expect(summary(await loadBundle(tgz))).toEqual([['a.yaml', 0, 'A']]);
    expect(summary(await loadBundle(zip))).toEqual([['b.yml', 0, 'B']]);
  });
});
