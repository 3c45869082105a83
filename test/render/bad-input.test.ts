import { describe, expect, it } from 'vitest';
import { loadBundleBytes, type BundleLimits } from '#shared/delivery/bundle/load.ts';
import { isTricenterError } from '#shared/platform/errors.ts';
import { parseBundle } from '#shared/delivery/model/bundle.ts';
import { render } from '#shared/delivery/render/render.ts';
import { tarGzBytes, zipBytes, type SpecialEntry } from '../bundle/archives.ts';
import { APP_YAML, baseFiles, baseWith, CLUSTERS_YAML, OBJECTS_YAML } from './helpers.ts';

/**
 * The bad-input corpus: every case runs the whole path a bundle takes (load from an archive,
 * parse, render) and must fail with one TricenterError whose message names the place: the file,
 * the document (1-based) and the field for anything inside a document; the file or archive entry
 * and the line for YAML and archive problems.
 */
interface BadCase {
  name: string;
  files?: Record<string, string>;
  special?: SpecialEntry[];
  archive?: 'tar.gz' | 'zip';
  limits?: Partial<BundleLimits>;
  /** Substrings the message must contain: file, `document N`, `field ...`. */
  place: string[];
  /** What is wrong, in the message. */
  says: RegExp;
}

/** Appended to the base app.yaml (whose documents are 1: Application, 2: Policy everywhere), they are document 3, 4... */
const doc = (text: string) => `${text}---\n`;
const policy = (name: string, type: string, properties: string) =>
  doc(`apiVersion: core.oam.dev/v1alpha1\nkind: Policy\nmetadata: {name: ${name}}\ntype: ${type}\nproperties: ${properties}\n`);
const workflow = (steps: string) => doc(`apiVersion: core.oam.dev/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\nsteps:\n${steps}`);
const deployStep = (policies: string[], extra = '') =>
  `  - {name: go, type: deploy${extra}, properties: {policies: ${JSON.stringify(policies)}}}\n`;
const withOverride = (traits: string) =>
  baseWith(
    `${policy('patch', 'override', `{components: [{name: web, traits: [${traits}]}]}`)}${workflow(deployStep(['everywhere', 'patch']))}`,
  );
const appWithComponents = (components: string) =>
  `apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata: {name: shop, namespace: prod}\nspec:\n  components:\n${components}---\n${APP_YAML.split('---\n')[1]}`;

const cases: BadCase[] = [
  {
    name: 'malformed YAML',
    files: baseFiles({ 'app.yaml': `${APP_YAML}---\nkind: Policy\n  metadata: [\n` }),
    place: ['app.yaml', 'document 3', 'line 2'],
    says: /YAML syntax error/,
  },
  {
    name: 'duplicate YAML key',
    files: baseFiles({ 'objects.yaml': OBJECTS_YAML.replace('kind: ConfigMap\n', 'kind: ConfigMap\nkind: Secret\n') }),
    place: ['objects.yaml', 'document 2', 'line'],
    says: /duplicate key "kind"/,
  },
  {
    name: 'step naming a missing policy',
    files: baseWith(workflow(deployStep(['everywhere', 'nowhere']))),
    place: ['app.yaml', 'document 3', 'field steps[0].properties.policies[1]'],
    says: /policy "nowhere" is not in the bundle \(policies: everywhere\)/,
  },
  {
    name: 'reference to an object missing from the bundle',
    files: baseFiles({ 'objects.yaml': OBJECTS_YAML.split('---\n')[0] ?? '' }),
    place: ['app.yaml', 'document 1', 'field spec.components[1].properties.objects[0]'],
    says: /references v1 ConfigMap prod\/web, which is not in the bundle/,
  },
  {
    name: 'duplicate objects (same group, kind, namespace, name)',
    files: baseFiles({ 'zz-more.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: prod}\n' }),
    place: ['zz-more.yaml', 'document 1', 'ConfigMap prod/web'],
    says: /duplicate: the same object ConfigMap prod\/web is also defined at objects\.yaml document 2/,
  },
  {
    name: 'two Applications',
    files: baseFiles({ 'second.yaml': APP_YAML.split('---\n')[0] ?? '' }),
    place: ['second.yaml', 'document 1', 'Application prod/shop'],
    says: /exactly one Application; another is at app\.yaml document 1/,
  },
  {
    name: 'no Application',
    files: { 'clusters.yaml': CLUSTERS_YAML, 'objects.yaml': OBJECTS_YAML },
    place: ['bundle.tar.gz'],
    says: /no Application \(core\.oam\.dev\) found among clusters\.yaml, objects\.yaml/,
  },
  {
    name: 'archive entry escaping its root',
    files: baseFiles(),
    special: [{ kind: 'file', path: '../escape.yaml', content: 'a: 1\n' }],
    place: ['../escape.yaml', 'bundle.tar.gz'],
    says: /escapes the bundle root/,
  },
  {
    name: 'absolute path in a zip',
    archive: 'zip',
    files: baseFiles(),
    special: [{ kind: 'file', path: '/etc/cron.yaml', content: 'a: 1\n' }],
    place: ['/etc/cron.yaml', 'bundle.zip'],
    says: /absolute/,
  },
  {
    name: 'symlink in an archive',
    files: baseFiles(),
    special: [{ kind: 'symlink', path: 'link.yaml', target: '/etc/passwd' }],
    place: ['link.yaml', 'bundle.tar.gz'],
    says: /symbolic link/,
  },
  {
    name: 'YAML alias bomb',
    files: baseFiles({
      'bomb.yaml': `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [${Array(9).fill('*a').join(', ')}]\nc: &c [${Array(9).fill('*b').join(', ')}]\nd: &d [${Array(9).fill('*c').join(', ')}]\ne: &e [${Array(9).fill('*d').join(', ')}]\nf: &f [${Array(9).fill('*e').join(', ')}]\ng: [${Array(9).fill('*f').join(', ')}]\n`,
    }),
    place: ['bomb.yaml', 'document 1'],
    says: /alias/,
  },
  {
    name: 'oversized bundle',
    files: baseFiles({ 'padding.yaml': `note: ${'x'.repeat(4096)}\n` }),
    limits: { maxUncompressedBytes: 4000 },
    place: ['bundle.tar.gz', 'padding.yaml'],
    says: /exceeds the total uncompressed size limit/,
  },
  {
    name: 'unknown trait',
    files: withOverride('{type: nocalhost, properties: {}}'),
    place: ['app.yaml', 'document 3', 'Policy patch', 'field properties.components[0].traits[0].type'],
    says: /unknown trait type "nocalhost"; supported: env, scaler, json-merge-patch, json-patch, labels, annotations, sidecar, /,
  },
  {
    name: 'unknown policy type',
    files: baseWith(policy('copies', 'replication', '{keys: [a]}')),
    place: ['app.yaml', 'document 3', 'field type'],
    says: /unknown policy type "replication"; supported: topology, override, take-over, shared-resource, read-only, garbage-collect/,
  },
  {
    name: 'unknown step type',
    files: baseWith(workflow('  - {name: notify, type: notification, properties: {}}\n')),
    place: ['app.yaml', 'document 3', 'field steps[0].type'],
    says: /unknown workflow step type "notification"; supported: deploy, apply-component, suspend, step-group/,
  },
  {
    name: 'unknown component type',
    files: baseFiles({ 'app.yaml': appWithComponents('    - {name: web, type: helm, properties: {chart: nginx}}\n') }),
    place: ['app.yaml', 'document 1', 'field spec.components[0].type'],
    says: /unknown component type "helm"; supported: ref-objects, k8s-objects, webservice, worker, task, cron-task/,
  },
  {
    name: 'env on a missing container',
    files: withOverride('{type: env, properties: {containerName: app, env: {A: b}}}'),
    place: ['app.yaml', 'document 3', 'field properties.components[0].traits[0].properties.containerName'],
    says: /container "app" not found in Deployment prod\/web \(containers: web\)/,
  },
  {
    name: 'scaler on a ConfigMap',
    files: baseWith(
      `${policy('patch', 'override', '{components: [{name: config, traits: [{type: scaler, properties: {replicas: 2}}]}]}')}${workflow(deployStep(['everywhere', 'patch']))}`,
    ),
    place: ['app.yaml', 'document 3', 'field properties.components[0].traits[0]'],
    says: /scaler needs an object with spec\.replicas; ConfigMap prod\/web has none/,
  },
  {
    name: 'failing json-patch test op',
    files: withOverride(
      '{type: json-patch, properties: {operations: [{op: replace, path: /spec/replicas, value: 3}, {op: test, path: /spec/replicas, value: 2}]}}',
    ),
    place: ['app.yaml', 'document 3', 'Policy patch', 'field properties.components[0].traits[0].properties.operations[1]'],
    says: /json-patch operation 1 \(test \/spec\/replicas\) on Deployment prod\/web: test failed/,
  },
  {
    name: 'topology matching no cluster',
    files: baseWith(`${policy('shanghai', 'topology', '{clusterLabelSelector: {city: shanghai}}')}${workflow(deployStep(['shanghai']))}`),
    place: ['app.yaml', 'document 3', 'field properties.clusterLabelSelector'],
    says: /matches no cluster of the registry \(bj1, bj2, hz1\)/,
  },
  {
    name: 'unknown cluster name',
    files: baseWith(`${policy('sh', 'topology', '{clusters: [bj1, sh1]}')}${workflow(deployStep(['sh']))}`),
    place: ['app.yaml', 'document 3', 'field properties.clusters[1]'],
    says: /unknown cluster "sh1"/,
  },
  {
    name: 'bad clusterLabelSelector operator',
    files: baseWith(policy('odd', 'topology', '{clusterLabelSelector: {matchExpressions: [{key: city, operator: Equals, values: [x]}]}}')),
    place: ['app.yaml', 'document 3', 'field properties.clusterLabelSelector.matchExpressions[0].operator'],
    says: /"In"\|"NotIn"\|"Exists"\|"DoesNotExist"/,
  },
  {
    name: 'bad timeout string',
    files: baseWith(workflow(deployStep(['everywhere'], ', timeout: ten-minutes'))),
    place: ['app.yaml', 'document 3', 'field steps[0].timeout'],
    says: /must be a duration such as 30s, 10m or 1h30m/,
  },
  {
    name: 'Kubernetes object without metadata.name',
    files: baseFiles({ 'more.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {namespace: prod}\n' }),
    place: ['more.yaml', 'document 1', 'field metadata.name'],
    says: /expected string/,
  },
  {
    name: 'label value that is not a string',
    files: baseFiles({ 'more.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, labels: {replicas: 3}}\n' }),
    place: ['more.yaml', 'document 1', 'Secret s', 'field metadata.labels.replicas'],
    says: /expected string, received number/,
  },
  {
    name: 'workflow ref naming a missing Workflow',
    files: baseFiles({ 'app.yaml': APP_YAML.replace('spec:\n', 'spec:\n  workflow: {ref: rollout}\n') }),
    place: ['app.yaml', 'document 1', 'field spec.workflow.ref'],
    says: /Workflow "rollout" is not in the bundle/,
  },
  {
    name: 'no topology policy at all',
    files: baseFiles({ 'app.yaml': APP_YAML.split('---\n')[0] ?? '' }),
    place: ['app.yaml', 'document 1', 'Application prod/shop'],
    says: /no topology policy: nothing says which clusters to deploy to \(there is no hub cluster to fall back to\)/,
  },
  {
    name: 'deploy step without a topology policy',
    files: baseWith(
      `${policy('patch', 'override', '{components: [{name: web, traits: [{type: scaler, properties: {replicas: 1}}]}]}')}${workflow(deployStep(['patch']))}`,
    ),
    place: ['app.yaml', 'document 4', 'field steps[0].properties.policies'],
    says: /needs at least one topology policy/,
  },
  {
    name: 'override naming a component that does not exist',
    files: baseWith(
      `${policy('patch', 'override', '{components: [{name: wbe, traits: [{type: scaler, properties: {replicas: 1}}]}]}')}${workflow(deployStep(['everywhere', 'patch']))}`,
    ),
    place: ['app.yaml', 'document 3', 'field properties.components[0].name'],
    says: /no component named "wbe"/,
  },
  {
    name: 'two policies with one name',
    files: baseWith(policy('everywhere', 'topology', '{clusters: [bj1]}')),
    place: ['app.yaml', 'document 3', 'Policy everywhere'],
    says: /duplicate: a Policy document named everywhere is also defined at app\.yaml document 2/,
  },
  {
    name: 'unsupported core.oam.dev kind',
    files: baseWith(doc('apiVersion: core.oam.dev/v1beta1\nkind: ComponentDefinition\nmetadata: {name: x}\n')),
    place: ['app.yaml', 'document 3', 'field kind'],
    says: /unsupported core\.oam\.dev kind "ComponentDefinition"; supported: Application, Policy, Workflow/,
  },
  {
    name: 'invalid TrafficPolicy',
    files: baseFiles({
      'traffic.yaml':
        'apiVersion: tricenter.io/v1alpha1\nkind: TrafficPolicy\nmetadata: {name: t, namespace: prod}\nspec: {domain: "not a domain", ingress: {name: web}, ttl: 60, pools: [{name: p, clusters: [bj1]}], healthCheck: {port: 80, interval: 60, evaluationCount: 2, timeout: 5000}, access: {primary: p}}\n',
    }),
    place: ['traffic.yaml', 'document 1', 'field spec.domain'],
    says: /fully qualified domain name/,
  },
  {
    name: 'suspend step with a malformed duration',
    files: baseWith(workflow(`${deployStep(['everywhere'])}  - {name: wait, type: suspend, properties: {duration: soon}}\n`)),
    place: ['app.yaml', 'document 3', 'field steps[1].properties.duration'],
    says: /must be a duration/,
  },
  {
    name: 'timeout both on the step and in its properties',
    files: baseWith(workflow('  - {name: go, type: deploy, timeout: 5m, properties: {policies: [everywhere], timeout: 10m}}\n')),
    place: ['app.yaml', 'document 3', 'field steps[0].timeout'],
    says: /timeout is given both on the step and in its properties/,
  },
  {
    name: 'suspend step whose timeout is shorter than its duration',
    files: baseWith(workflow(`${deployStep(['everywhere'])}  - {name: wait, type: suspend, timeout: 1m, properties: {duration: 5m}}\n`)),
    place: ['app.yaml', 'document 3', 'field steps[1].timeout'],
    says: /timeout must be longer than its duration/,
  },
];

async function run(c: BadCase): Promise<unknown> {
  const name = `bundle.${c.archive ?? 'tar.gz'}`;
  const bytes = c.archive === 'zip' ? zipBytes(c.files ?? {}, c.special) : tarGzBytes(c.files ?? {}, c.special);
  try {
    const bundle = parseBundle(await loadBundleBytes(name, bytes, c.limits));
    if (!bundle.registry) throw new Error('corpus bundles carry clusters.yaml');
    render(bundle, bundle.registry.registry);
  } catch (err) {
    return err;
  }
  throw new Error(`case "${c.name}" was accepted`);
}

describe('bad-input corpus', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const err = await run(c);
    expect(isTricenterError(err), String(err)).toBe(true);
    const message = (err as Error).message;
    for (const part of c.place) expect(message).toContain(part);
    expect(message).toMatch(c.says);
    // One line, no stack: what the CLI prints as is.
    expect(message).not.toContain('\n');
  });
});
