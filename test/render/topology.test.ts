import { describe, expect, it } from 'vitest';
import { clusterRegistrySchema } from '#shared/delivery/model/clusters.ts';
import { parsePolicyDocument, type TopologyPolicy } from '#shared/delivery/model/policy.ts';
import { matchesLabelSelector, selectClusters } from '#shared/delivery/render/topology.ts';
import { baseWith, deploySteps, planOf } from './helpers.ts';

const registry = clusterRegistrySchema.parse({
  clusters: [
    { name: 'bj1', aliases: ['c1'], labels: { city: 'beijing', tier: 'gold' } },
    { name: 'bj2', aliases: ['c2'], labels: { city: 'beijing' } },
    { name: 'hz1', aliases: ['c3'], labels: { city: 'hangzhou', tier: 'silver' } },
  ],
});

function topology(properties: unknown): TopologyPolicy {
  const policy = parsePolicyDocument(
    { apiVersion: 'core.oam.dev/v1alpha1', kind: 'Policy', metadata: { name: 't' }, type: 'topology', properties },
    { file: 'app.yaml', document: 2, line: 1, object: 'Policy t', path: '' },
  );
  if (policy.type !== 'topology') throw new Error('not a topology');
  return policy;
}
const select = (properties: unknown) => selectClusters(topology(properties), registry).map((s) => s.cluster);

describe('topology: clusters by name', () => {
  it('accepts names and aliases, in the order written, without duplicates', () => {
    expect(select({ clusters: ['c3', 'bj1', 'c1', 'hz1'] })).toEqual(['hz1', 'bj1']);
  });

  it('wins over clusterLabelSelector', () => {
    expect(select({ clusters: ['bj2'], clusterLabelSelector: { city: 'hangzhou' } })).toEqual(['bj2']);
  });

  it('rejects an unknown name, naming the entry and the known clusters', () => {
    expect(() => select({ clusters: ['bj1', 'sh1'] })).toThrow(
      /app\.yaml \(document 3, Policy t\) field properties\.clusters\[1\]: unknown cluster "sh1"; the registry has bj1, bj2, hz1/,
    );
  });
});

describe('topology: clusterLabelSelector', () => {
  it.each<[string, unknown, string[]]>([
    ['a plain map is matchLabels', { city: 'beijing' }, ['bj1', 'bj2']],
    ['a plain map with two labels', { city: 'beijing', tier: 'gold' }, ['bj1']],
    ['an empty map matches every cluster', {}, ['bj1', 'bj2', 'hz1']],
    ['matchLabels', { matchLabels: { city: 'hangzhou' } }, ['hz1']],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] }, ['bj1', 'hz1']],
    [
      'NotIn also matches clusters without the label',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['gold'] }] },
      ['bj2', 'hz1'],
    ],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, ['bj1', 'hz1']],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, ['bj2']],
    [
      'matchLabels and matchExpressions together (AND)',
      { matchLabels: { city: 'beijing' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] },
      ['bj2'],
    ],
  ])('%s', (_name, selector, expected) => {
    expect(select({ clusterLabelSelector: selector })).toEqual(expected);
  });

  it('is an error when nothing matches, unless allowEmpty', () => {
    expect(() => select({ clusterLabelSelector: { city: 'shanghai' } })).toThrow(
      /field properties\.clusterLabelSelector: matches no cluster of the registry \(bj1, bj2, hz1\); set allowEmpty/,
    );
    expect(select({ clusterLabelSelector: { city: 'shanghai' }, allowEmpty: true })).toEqual([]);
  });

  it('rejects an unknown operator, listing the supported ones, and In without values', () => {
    expect(() => select({ clusterLabelSelector: { matchExpressions: [{ key: 'tier', operator: 'Equals', values: ['x'] }] } })).toThrow(
      /field properties\.clusterLabelSelector\.matchExpressions\[0\]\.operator: .*"In"\|"NotIn"\|"Exists"\|"DoesNotExist"/,
    );
    expect(() => select({ clusterLabelSelector: { matchExpressions: [{ key: 'tier', operator: 'In' }] } })).toThrow(
      /matchExpressions\[0\]\.values: operator In needs a non-empty values list/,
    );
  });

  it('needs clusters or a selector: there is no hub cluster to fall back to', () => {
    expect(() => select({})).toThrow(/field properties: a topology policy needs clusters or clusterLabelSelector/);
  });

  it('matchesLabelSelector follows Kubernetes semantics', () => {
    expect(matchesLabelSelector({}, { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] })).toBe(true);
    expect(matchesLabelSelector({ a: 'x' }, { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['x'] }] })).toBe(false);
    expect(matchesLabelSelector({}, { matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }] })).toBe(false);
  });
});

describe('topology in a plan', () => {
  const workflow = (policies: string[]) => `apiVersion: core.oam.dev/v1alpha1
kind: Workflow
metadata: {name: wf}
steps:
  - name: go
    type: deploy
    properties: {policies: ${JSON.stringify(policies)}}
`;
  const policy = (name: string, properties: string) => `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: ${name}}
type: topology
properties: ${properties}
---
`;

  it('unions several topology policies of one step in order, without duplicates', async () => {
    const plan = await planOf(
      baseWith(
        `${policy('hz', '{clusters: [c3]}')}${policy('bj', '{clusterLabelSelector: {city: beijing}}')}${policy('again', '{clusters: [bj2, hz1]}')}${workflow(['hz', 'bj', 'again'])}`,
      ),
    );
    expect(deploySteps(plan)[0]?.targets.map((t) => t.cluster)).toEqual(['hz1', 'bj1', 'bj2']);
  });

  it('relocates namespaced objects with namespace (the first policy naming a cluster decides)', async () => {
    const plan = await planOf(
      baseWith(
        `${policy('staging', '{clusters: [bj1], namespace: staging}')}${policy('plain', '{clusters: [bj1, bj2]}')}${workflow(['staging', 'plain'])}`,
      ),
    );
    const targets = deploySteps(plan)[0]?.targets ?? [];
    expect(targets.map((t) => [t.cluster, t.manifests.map((m) => m.metadata.namespace)])).toEqual([
      ['bj1', ['staging', 'staging']],
      ['bj2', ['prod', 'prod']],
    ]);
    // Ownership still names the Application's own namespace.
    expect(targets[0]?.manifests[0]?.metadata.labels?.['app.oam.dev/namespace']).toBe('prod');
  });

  it('lets the clusters of a step share one frozen list of manifests', async () => {
    const plan = await planOf(baseWith(`${policy('all', '{clusterLabelSelector: {}}')}${workflow(['all'])}`));
    const [a, b, c] = deploySteps(plan)[0]?.targets ?? [];
    expect([a?.cluster, b?.cluster, c?.cluster]).toEqual(['bj1', 'bj2', 'hz1']);
    expect(b?.manifests).toBe(a?.manifests);
    const first = a?.manifests[0];
    expect(Object.isFrozen(first) && Object.isFrozen(first?.metadata.labels)).toBe(true);
    expect(() => {
      if (first) first.metadata.name = 'changed';
    }).toThrow(TypeError);
  });
});

describe('topology: messages for a selector of the wrong shape', () => {
  it('points at the label whose value is not a string', () => {
    expect(() => select({ clusterLabelSelector: { city: 5 } })).toThrow(
      /field properties\.clusterLabelSelector\.city: Invalid input: expected string, received number/,
    );
  });
});
