import { describe, expect, it } from 'vitest';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import type { SourcePlace } from '#shared/delivery/model/source.ts';
import { attachManifestSource } from '#shared/delivery/render/sources.ts';
import { validateManifest } from '#shared/tenancy/names.ts';
import { APP_YAML, baseFiles, baseWith, OBJECTS_YAML } from '../render/helpers.ts';
import { admissionError, inline, policy, registryYaml, workflow } from './helpers.ts';

/**
 * The API server's name rules, checked at ingest so that a step never applies half its objects
 * before the server refuses one (k8s.io/apimachinery/pkg/util/validation and the per-kind
 * ValidateXName functions).
 */
const PLACE: SourcePlace = { file: 'objects.yaml', document: 0, line: 1, path: '' };

function manifest(
  kind: string,
  name: string,
  extra: { apiVersion?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): KubeObject {
  const object: KubeObject = {
    apiVersion:
      extra.apiVersion ??
      (['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].includes(kind)
        ? 'rbac.authorization.k8s.io/v1'
        : kind === 'CronJob'
          ? 'batch/v1'
          : kind === 'Deployment'
            ? 'apps/v1'
            : 'v1'),
    kind,
    metadata: {
      name,
      ...(extra.namespace ? { namespace: extra.namespace } : {}),
      ...(extra.labels ? { labels: extra.labels } : {}),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    },
  };
  attachManifestSource(object, { object: PLACE, fields: {} });
  return object;
}

const x = (n: number) => 'x'.repeat(n);

/** [case, object, rule broken (undefined: valid), field named] */
const cases: Array<[string, KubeObject, string | undefined, string?]> = [
  ['ConfigMap: a DNS-1123 subdomain', manifest('ConfigMap', 'web.config-1', { namespace: 'prod' }), undefined],
  ['ConfigMap: upper case and _', manifest('ConfigMap', 'Web_Config', { namespace: 'prod' }), 'name.dns1123-subdomain', 'metadata.name'],
  ['Secret: 253 characters', manifest('Secret', x(253), { namespace: 'prod' }), undefined],
  ['Secret: 254 characters', manifest('Secret', x(254), { namespace: 'prod' }), 'name.dns1123-subdomain', 'metadata.name'],
  ['Deployment: ends with -', manifest('Deployment', 'web-', { namespace: 'prod' }), 'name.dns1123-subdomain', 'metadata.name'],
  ['Service: a DNS-1035 label', manifest('Service', 'web', { namespace: 'prod' }), undefined],
  ['Service: a dot', manifest('Service', 'web.demo', { namespace: 'prod' }), 'name.dns1035-label', 'metadata.name'],
  ['Service: starts with a digit', manifest('Service', '1web', { namespace: 'prod' }), 'name.dns1035-label', 'metadata.name'],
  ['Service: 64 characters', manifest('Service', x(64), { namespace: 'prod' }), 'name.dns1035-label', 'metadata.name'],
  ['Namespace: a DNS-1123 label', manifest('Namespace', '1-prod'), undefined],
  ['Namespace: a dot', manifest('Namespace', 'prod.eu'), 'name.dns1123-label', 'metadata.name'],
  ['ClusterRole: path segment with a colon', manifest('ClusterRole', 'system:reader'), undefined],
  ['Role: a slash', manifest('Role', 'a/b', { namespace: 'prod' }), 'name.path-segment', 'metadata.name'],
  ['RoleBinding: ..', manifest('RoleBinding', '..', { namespace: 'prod' }), 'name.path-segment', 'metadata.name'],
  ['ClusterRoleBinding: %', manifest('ClusterRoleBinding', 'a%2f'), 'name.path-segment', 'metadata.name'],
  ['CronJob: 52 characters', manifest('CronJob', x(52), { namespace: 'prod' }), undefined],
  [
    'CronJob: 53 characters (its Jobs get an 11-character suffix)',
    manifest('CronJob', x(53), { namespace: 'prod' }),
    'name.dns1123-subdomain',
    'metadata.name',
  ],
  [
    'a kind of another group named Service follows the default rule',
    manifest('Service', 'a.b', { apiVersion: 'example.com/v1', namespace: 'prod' }),
    undefined,
  ],
  ['namespace: upper case', manifest('ConfigMap', 'web', { namespace: 'Prod' }), 'name.dns1123-label', 'metadata.namespace'],
  [
    'namespace on a cluster-scoped kind',
    manifest('ClusterRole', 'reader', { namespace: 'prod' }),
    'name.cluster-scoped',
    'metadata.namespace',
  ],
  [
    'apiVersion: three parts',
    manifest('ConfigMap', 'web', { namespace: 'prod', apiVersion: 'apps/v1/x' }),
    'name.api-version',
    'apiVersion',
  ],
  ['apiVersion: empty group', manifest('ConfigMap', 'web', { namespace: 'prod', apiVersion: '/v1' }), 'name.api-version', 'apiVersion'],
  ['kind: an underscore', manifest('Config_Map', 'web', { namespace: 'prod' }), 'name.kind', 'kind'],
  [
    'labels: prefixed key, empty value',
    manifest('ConfigMap', 'web', { namespace: 'prod', labels: { 'app.kubernetes.io/name': 'web', tier: '' } }),
    undefined,
  ],
  [
    'label key: a space',
    manifest('ConfigMap', 'web', { namespace: 'prod', labels: { 'bad key': 'v' } }),
    'name.qualified-name',
    'metadata.labels["bad key"]',
  ],
  [
    'label key: two slashes',
    manifest('ConfigMap', 'web', { namespace: 'prod', labels: { 'a/b/c': 'v' } }),
    'name.qualified-name',
    'metadata.labels["a/b/c"]',
  ],
  [
    'label key: empty prefix',
    manifest('ConfigMap', 'web', { namespace: 'prod', labels: { '/name': 'v' } }),
    'name.qualified-name',
    'metadata.labels["/name"]',
  ],
  [
    'label key: upper-case prefix',
    manifest('ConfigMap', 'web', { namespace: 'prod', labels: { 'Example.com/name': 'v' } }),
    'name.qualified-name',
  ],
  ['label key: name part of 64', manifest('ConfigMap', 'web', { namespace: 'prod', labels: { [x(64)]: 'v' } }), 'name.qualified-name'],
  [
    'label value: 64 characters',
    manifest('ConfigMap', 'web', { namespace: 'prod', labels: { app: x(64) } }),
    'name.label-value',
    'metadata.labels["app"]',
  ],
  ['label value: a space', manifest('ConfigMap', 'web', { namespace: 'prod', labels: { app: 'a b' } }), 'name.label-value'],
  ['label value: starts with -', manifest('ConfigMap', 'web', { namespace: 'prod', labels: { app: '-a' } }), 'name.label-value'],
  [
    'annotation key: upper case is fine (checked lower-cased)',
    manifest('ConfigMap', 'web', { namespace: 'prod', annotations: { 'Example.com/Note': 'any value at all: spaces, UPPER' } }),
    undefined,
  ],
  [
    'annotation key: a space',
    manifest('ConfigMap', 'web', { namespace: 'prod', annotations: { 'my note': 'v' } }),
    'name.qualified-name',
    'metadata.annotations["my note"]',
  ],
  ['annotations: exactly 256 KiB', manifest('ConfigMap', 'web', { namespace: 'prod', annotations: { a: x(256 * 1024 - 1) } }), undefined],
  [
    'annotations: over 256 KiB in total',
    manifest('ConfigMap', 'web', { namespace: 'prod', annotations: { a: x(200 * 1024), b: x(57 * 1024) } }),
    'name.annotations-size',
    'metadata.annotations',
  ],
];

describe('names, labels and annotations as the API server checks them', () => {
  it.each(cases)('%s', (_name, object, rule, field) => {
    const violations = validateManifest(object);
    if (rule === undefined) {
      expect(violations).toEqual([]);
      return;
    }
    expect(violations.map((v) => v.rule)).toEqual([rule]);
    if (field !== undefined) expect(violations[0]?.place.path).toBe(field);
  });

  it('quotes a hostile value escaped and cut short', () => {
    const [violation] = validateManifest(manifest('ConfigMap', `\u001b[2J\u009b"${x(300)}`, { namespace: 'prod' }));
    expect(violation?.message).toContain('"\\u001b[2J\\u009b\\"xxx');
    expect(violation?.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(violation?.message.length).toBeLessThan(400);
  });

  it('checks a frozen label map shared by many manifests once, and refuses a bad one in every manifest that has it', () => {
    const good = Object.freeze({ app: 'web', 'app.kubernetes.io/name': 'web' });
    const bad = Object.freeze({ app: 'web', 'bad key!': 'x' });
    for (const name of ['a', 'b', 'c']) {
      expect(validateManifest(manifest('ConfigMap', name, { namespace: 'prod', labels: good }))).toEqual([]);
      const violations = validateManifest(manifest('ConfigMap', name, { namespace: 'prod', labels: bad }));
      expect(violations.map((v) => [v.rule, v.place.path])).toEqual([['name.qualified-name', 'metadata.labels["bad key!"]']]);
      expect(violations[0]?.message).toBe(
        `label key "bad key!" of ConfigMap prod/${name} must be ${violations[0]?.message.split(' must be ')[1]}`,
      );
    }
    // A map that is not frozen may change after its check: checked each time.
    const open: Record<string, string> = { app: 'web' };
    expect(validateManifest(manifest('ConfigMap', 'd', { namespace: 'prod', labels: open }))).toEqual([]);
    open.app = '-bad-';
    expect(validateManifest(manifest('ConfigMap', 'd', { namespace: 'prod', labels: open })).map((v) => v.rule)).toEqual([
      'name.label-value',
    ]);
  });
});

describe('names at admission, on the rendered bundle', () => {
  const registry = registryYaml();

  it.each<[string, Record<string, string>, RegExp]>([
    [
      'an invalid name in an object document',
      baseFiles({
        'objects.yaml': OBJECTS_YAML.replace('kind: ConfigMap\nmetadata:\n  name: web', 'kind: ConfigMap\nmetadata:\n  name: Web_1'),
        'app.yaml': APP_YAML.replace('kind: ConfigMap, name: web', 'kind: ConfigMap, name: Web_1'),
      }),
      /^objects\.yaml \(document 2, ConfigMap Web_1\) field metadata\.name: metadata\.name "Web_1" of ConfigMap prod\/Web_1 must be a DNS-1123 subdomain/,
    ],
    [
      'an invalid Service name inline',
      baseFiles({ 'app.yaml': inline('svc', '{apiVersion: v1, kind: Service, metadata: {name: web.demo}}') }),
      /^app\.yaml \(document 1, Application prod\/shop\) field spec\.components\[0\]\.properties\.objects\[0\]\.metadata\.name: .*DNS-1035 label/,
    ],
    [
      'a bad label added by a labels trait names the trait',
      baseWith(
        policy('tag', 'override', '{components: [{name: web, traits: [{type: labels, properties: {"bad key": x}}]}]}') +
          workflow(['everywhere', 'tag']),
      ),
      /^app\.yaml \(document 3, Policy tag\) field properties\.components\[0\]\.traits\[0\]: label key "bad key" of Deployment prod\/web must be a qualified name/,
    ],
    [
      'a name made invalid by a json-patch names the patch',
      baseWith(
        policy(
          'rename',
          'override',
          '{components: [{name: config, traits: [{type: json-patch, properties: {operations: [{op: replace, path: /metadata/name, value: "a/b"}]}}]}]}',
        ) + workflow(['everywhere', 'rename']),
      ),
      /^app\.yaml \(document 3, Policy rename\) field properties\.components\[0\]\.traits\[0\]: metadata\.name "a\/b" of ConfigMap prod\/a\/b must be a DNS-1123 subdomain/,
    ],
    [
      'an invalid namespace of an inline object',
      baseFiles({ 'app.yaml': inline('cm', '{apiVersion: v1, kind: ConfigMap, metadata: {name: c, namespace: Prod}}') }),
      /^app\.yaml \(document 1, Application prod\/shop\) field spec\.components\[0\]\.properties\.objects\[0\]\.metadata\.namespace: metadata\.namespace "Prod" .*DNS-1123 label/,
    ],
  ])('%s', async (_name, files, says) => {
    expect(await admissionError(files, registry)).toMatch(says);
  });
});
