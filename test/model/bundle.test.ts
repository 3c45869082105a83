import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { parseBundle, parseClusterRegistry, type AppBundle } from '#shared/delivery/model/bundle.ts';
import { parseDuration } from '#shared/delivery/model/workflow.ts';
import { tarGzBytes, zipBytes } from '../bundle/archives.ts';
import { baseFiles, bundleOf, EXAMPLE, exampleFiles } from '../render/helpers.ts';

let seed: AppBundle;
beforeAll(async () => {
  seed = parseBundle(await loadBundle(EXAMPLE));
});

describe('parseBundle on the example', () => {
  it('classifies every document and keeps where it came from', () => {
    expect(seed.application).toMatchObject({
      name: 'web-demo',
      namespace: 'demo',
      annotations: { 'app.oam.dev/publishVersion': 'version8' },
    });
    expect(seed.application.components.map((c) => [c.name, c.type])).toEqual([
      ['deployment', 'ref-objects'],
      ['configmap', 'ref-objects'],
      ['same-resource', 'ref-objects'],
    ]);
    expect(seed.policies.map((p) => `${p.type}:${p.name}`)).toEqual([
      'topology:cluster1-beijing',
      'topology:cluster2-beijing',
      'topology:cluster1-hangzhou',
      'override:override-env-cluster2-beijing',
      'override:override-env-cluster1-hangzhou',
      'override:override-replic-cluster1-hangzhou',
      'override:override-configmap-cluster1-hangzhou',
    ]);
    expect(seed.workflow?.name).toBe('deploy-demo');
    expect(seed.workflow?.steps.map((s) => s.name)).toEqual([
      'deploy-cluster1-beijing',
      'deploy-cluster2-beijing',
      'deploy-cluster1-hangzhou',
    ]);
    expect(seed.trafficPolicies.map((t) => [t.policy.spec.domain, t.place.file])).toEqual([['web-demo.example.com', 'traffic.yaml']]);
    expect(seed.registry?.registry.clusters.map((c) => c.name)).toEqual(['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou']);
    expect(seed.objects.map((o) => [o.place.file, o.place.document, o.place.object])).toEqual([
      ['app-meta.yaml', 0, 'Deployment demo/web-demo'],
      ['app-meta.yaml', 1, 'Service demo/web-demo'],
      ['app-meta.yaml', 2, 'Ingress demo/web-demo'],
      ['app-meta.yaml', 3, 'ConfigMap demo/web-demo'],
    ]);
    expect(seed.policies[3]?.place).toMatchObject({ file: 'app.yaml', document: 3, object: 'Policy demo/override-env-cluster2-beijing' });
    expect(seed.policies[3]?.place.line).toBeGreaterThan(1);
  });

  it('gives the same content hash for the same content in every packaging', async () => {
    const files = await exampleFiles();
    const single = Object.values(files).join('---\n');
    const hashes = [
      seed.contentHash,
      parseBundle(await loadBundleBytes('b.tar.gz', tarGzBytes(files))).contentHash,
      parseBundle(await loadBundleBytes('b.zip', zipBytes(files))).contentHash,
      parseBundle(await loadBundleBytes('all.yaml', Buffer.from(single))).contentHash,
      // Other file names and another split of the same documents.
      parseBundle(
        await loadBundleBytes(
          'b.tgz',
          tarGzBytes({
            'x/one.yaml': files['traffic.yaml'] ?? '',
            'y/two.yaml': `${files['app.yaml']}\n---\n${files['app-meta.yaml']}\n---\n${files['clusters.yaml']}`,
          }),
        ),
      ).contentHash,
    ];
    expect(new Set(hashes).size).toBe(1);
  });

  it('ignores key order and comments in the content hash, but not a changed value', async () => {
    const files = baseFiles();
    const reordered = {
      ...files,
      'objects.yaml': (files['objects.yaml'] ?? '').replace(
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  labels: {app: web}\ndata:\n  k: v\n',
        '# a comment\ndata: {k: v}\nmetadata: {labels: {app: web}, name: web}\nkind: ConfigMap\napiVersion: v1\n',
      ),
    };
    expect(reordered['objects.yaml']).not.toBe(files['objects.yaml']);
    const [a, b] = [await bundleOf(files), await bundleOf(reordered)];
    expect(b.contentHash).toBe(a.contentHash);
    const changed = await bundleOf({ ...files, 'objects.yaml': (files['objects.yaml'] ?? '').replace('replicas: 2', 'replicas: 3') });
    expect(changed.contentHash).not.toBe(a.contentHash);
  });
});

describe('parseClusterRegistry', () => {
  it('reads a clusters.yaml on its own', async () => {
    const registry = parseClusterRegistry(await loadBundle(join(EXAMPLE, 'clusters.yaml')));
    expect(registry.clusters.map((c) => [c.name, c.aliases, c.labels.city])).toEqual([
      ['cluster1-beijing', ['managedcluster-c1'], 'beijing'],
      ['cluster2-beijing', ['managedcluster-c2'], 'beijing'],
      ['cluster1-hangzhou', ['managedcluster-c3'], 'hangzhou'],
    ]);
  });

  it('names the field of a bad entry', async () => {
    const text = (await readFile(join(EXAMPLE, 'clusters.yaml'), 'utf8')).replace('name: cluster2-beijing', 'name: Cluster2');
    await expect(loadBundleBytes('clusters.yaml', Buffer.from(text)).then(parseClusterRegistry)).rejects.toThrow(
      /clusters\.yaml \(document 1\) field clusters\[1\]\.name: must be a DNS-1123 label/,
    );
  });
});

describe('parseDuration', () => {
  it.each<[string, number | undefined]>([
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1h0m5s', 3_605_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
    ['10', undefined],
    ['ten minutes', undefined],
    ['0s', undefined],
    ['', undefined],
  ])('%s -> %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
});

describe('objects exported with kubectl', () => {
  it('takes the items of a v1 List as objects, each with its own place', async () => {
    const list = `apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: Secret, metadata: {name: one, namespace: prod}}
  - {apiVersion: v1, kind: Secret, metadata: {namespace: prod}}
`;
    await expect(bundleOf(baseFiles({ 'export.yaml': list }))).rejects.toThrow(
      /export\.yaml \(document 1\) field items\[1\]\.metadata\.name: /,
    );
    const bundle = await bundleOf(
      baseFiles({ 'export.yaml': list.replace('metadata: {namespace: prod}', 'metadata: {name: two, namespace: prod}') }),
    );
    expect(
      bundle.objects.filter((o) => o.place.file === 'export.yaml').map((o) => [o.object.metadata.name, o.place.path, o.place.object]),
    ).toEqual([
      ['one', 'items[0]', 'Secret prod/one'],
      ['two', 'items[1]', 'Secret prod/two'],
    ]);
  });
});
