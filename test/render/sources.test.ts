import { describe, expect, it } from 'vitest';
import { describeLocation } from '#shared/platform/errors.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import { locationOf } from '#shared/delivery/model/source.ts';
import { manifestSource, placeOfField, targetPlacement } from '#shared/delivery/render/sources.ts';
import { APP_YAML, baseFiles, baseWith, deploySteps, planOf } from './helpers.ts';

/** Every rendered manifest and target knows where it came from, without becoming part of the plan's data. */
const doc = (text: string) => `${text}---\n`;
const policy = (name: string, type: string, properties: string) =>
  doc(`apiVersion: core.oam.dev/v1alpha1\nkind: Policy\nmetadata: {name: ${name}}\ntype: ${type}\nproperties: ${properties}\n`);
const workflow = (policies: string[]) =>
  doc(
    `apiVersion: core.oam.dev/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\nsteps:\n  - {name: go, type: deploy, properties: {policies: ${JSON.stringify(policies)}}}\n`,
  );

function where(manifest: KubeObject | undefined, field: string): string {
  const source = manifest && manifestSource(manifest);
  if (!source) throw new Error('no source');
  return describeLocation(locationOf(placeOfField(source, field)));
}
const first = async (files: Record<string, string>, kind: string) =>
  deploySteps(await planOf(files))[0]?.targets[0]?.manifests.find((m) => m.kind === kind);

describe('source places of rendered manifests', () => {
  it.each<[string, Record<string, string>, string, string, string]>([
    [
      'a ref-objects field: its own document',
      baseFiles(),
      'ConfigMap',
      'metadata.name',
      'objects.yaml (document 2, ConfigMap web) field metadata.name: ',
    ],
    [
      "a defaulted namespace: the Application's",
      baseFiles(),
      'ConfigMap',
      'metadata.namespace',
      'app.yaml (document 1, Application prod/shop) field metadata.namespace: ',
    ],
    [
      'an inline object: its entry in the component',
      baseFiles({
        'app.yaml': APP_YAML.replace(
          '  components:\n',
          '  components:\n    - {name: cm, type: k8s-objects, properties: {objects: [{apiVersion: v1, kind: Secret, metadata: {name: s}}]}}\n',
        ),
      }),
      'Secret',
      'metadata.name',
      'app.yaml (document 1, Application prod/shop) field spec.components[0].properties.objects[0].metadata.name: ',
    ],
    [
      'a relocated namespace: the topology',
      baseWith(policy('moved', 'topology', '{clusters: [bj1], namespace: elsewhere}') + workflow(['moved'])),
      'ConfigMap',
      'metadata.namespace',
      'app.yaml (document 3, Policy moved) field properties.namespace: ',
    ],
    [
      'a label set by a trait: the trait, for any key',
      baseWith(
        policy('tag', 'override', '{components: [{name: config, traits: [{type: labels, properties: {team: a}}]}]}') +
          workflow(['everywhere', 'tag']),
      ),
      'ConfigMap',
      'metadata.labels["app"]',
      'app.yaml (document 3, Policy tag) field properties.components[0].traits[0]: ',
    ],
    [
      "a field a trait did not change: still the object's own",
      baseWith(
        policy('tag', 'override', '{components: [{name: config, traits: [{type: labels, properties: {team: a}}]}]}') +
          workflow(['everywhere', 'tag']),
      ),
      'ConfigMap',
      'metadata.name',
      'objects.yaml (document 2, ConfigMap web) field metadata.name: ',
    ],
  ])('%s', async (_name, files, kind, field, expected) => {
    expect(where(await first(files, kind), field)).toBe(expected);
  });

  it('targets know the topology field that chose their cluster', async () => {
    const plan = await planOf(baseWith(policy('some', 'topology', '{clusters: [c2, hz1]}') + workflow(['some'])));
    const places = deploySteps(plan)[0]?.targets.map((t) => [
      t.cluster,
      describeLocation(locationOf(targetPlacement(t) ?? { file: '?', document: 0, line: 0, path: '' })),
    ]);
    expect(places).toEqual([
      ['bj2', 'app.yaml (document 3, Policy some) field properties.clusters[0]: '],
      ['hz1', 'app.yaml (document 3, Policy some) field properties.clusters[1]: '],
    ]);
  });

  it('is invisible to JSON, copies and equality: the plan stays pure data', async () => {
    const plan = await planOf(baseFiles());
    const manifest = deploySteps(plan)[0]?.targets[0]?.manifests[0];
    if (!manifest) throw new Error('no manifest');
    expect(manifestSource(manifest)).toBeDefined();
    expect(Object.keys(manifest)).not.toContain('source');
    expect(JSON.stringify(plan)).not.toContain('objects.yaml');
    const copy = structuredClone(plan);
    expect(manifestSource(deploySteps(copy)[0]?.targets[0]?.manifests[0] ?? manifest)).toBeUndefined();
    expect(copy).toEqual(plan);
  });
});
