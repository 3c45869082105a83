import { describe, expect, it } from 'vitest';
import { isTricenterError } from '#shared/platform/errors.ts';
import {
  detectDrift,
  keepApplyOnceFields,
  applyOncePaths,
  applyOnceAnnotation,
  type ApplyOnceStamp,
} from '#shared/delivery/model/drift.ts';
import { withAppliedHash } from '#shared/delivery/model/applied-hash.ts';
import { formatFieldPath, parseFieldPath, readAt, writeAt } from '#shared/delivery/model/field-path.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import {
  ANNOTATION_APPLY_ONCE,
  ANNOTATION_CONTENT_HASH,
  ANNOTATION_SHARED_BY,
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_MANAGED_BY,
  MANAGED_BY,
} from '#shared/delivery/model/ownership.ts';
import { APP_YAML, baseFiles, baseWith, deploySteps, planOf } from '../render/helpers.ts';

const APP = { namespace: 'prod', name: 'shop' };
const OURS = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: 'prod', [LABEL_APP_NAME]: 'shop' };

function deployment(applyOnce?: ApplyOnceStamp[]): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'prod',
      labels: { ...OURS },
      annotations: {
        'app.oam.dev/publishVersion': 'v1',
        ...(applyOnce ? { [ANNOTATION_APPLY_ONCE]: applyOnceAnnotation(applyOnce) } : {}),
      },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1', resources: { limits: { cpu: '0.5', memory: '1024Mi' } } }] },
      },
    },
  };
}

/** What the API server gives back for it: defaults, status and metadata of its own added. */
function liveOf(desired: KubeObject, edit: (live: Record<string, any>) => void = () => {}): Record<string, any> {
  const live = structuredClone(withAppliedHash(desired)) as Record<string, any>;
  Object.assign(live.metadata, { uid: 'u1', resourceVersion: '7', generation: 1, managedFields: [{ manager: 'tricenter' }] });
  live.metadata.annotations = { ...live.metadata.annotations, 'deployment.kubernetes.io/revision': '1' };
  live.spec.strategy = { type: 'RollingUpdate' };
  const container = live.spec?.template?.spec?.containers?.[0];
  if (container) {
    Object.assign(container, { imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log' });
    container.resources = { limits: { cpu: '500m', memory: '1Gi' } };
  }
  live.status = { replicas: 2, readyReplicas: 2 };
  edit(live);
  return live;
}

describe('detectDrift: what counts as drift', () => {
  const cases: Array<{ name: string; desired: KubeObject; live: unknown; state: string; fields?: string[] }> = [
    {
      name: 'server defaults, status and canonical quantities are not drift',
      desired: deployment(),
      live: liveOf(deployment()),
      state: 'in-sync',
    },
    { name: 'deleted', desired: deployment(), live: undefined, state: 'missing' },
    {
      name: 'replicas edited',
      desired: deployment(),
      live: liveOf(deployment(), (l) => (l.spec.replicas = 5)),
      state: 'modified',
      fields: ['spec.replicas'],
    },
    {
      name: 'image edited',
      desired: deployment(),
      live: liveOf(deployment(), (l) => (l.spec.template.spec.containers[0].image = 'evil:latest')),
      state: 'modified',
      fields: ['spec.template.spec.containers[0].image'],
    },
    {
      name: 'a container added',
      desired: deployment(),
      live: liveOf(deployment(), (l) => l.spec.template.spec.containers.push({ name: 'miner', image: 'x' })),
      state: 'modified',
      fields: ['spec.template.spec.containers'],
    },
    {
      name: 'last applied from other content (another release)',
      desired: deployment(),
      live: liveOf(deployment(), (l) => (l.metadata.annotations[ANNOTATION_CONTENT_HASH] = 'old')),
      state: 'modified',
      fields: ['metadata.annotations[tricenter.io/content-hash]'],
    },
    {
      name: 'a cpu limit really changed',
      desired: deployment(),
      live: liveOf(deployment(), (l) => (l.spec.template.spec.containers[0].resources.limits.cpu = '2')),
      state: 'modified',
      fields: ['spec.template.spec.containers[0].resources.limits.cpu'],
    },
    {
      name: 'ownership labels removed: no longer ours',
      desired: deployment(),
      live: liveOf(deployment(), (l) => delete l.metadata.labels[LABEL_MANAGED_BY]),
      state: 'foreign',
    },
    {
      name: 're-created by another application',
      desired: deployment(),
      live: liveOf(deployment(), (l) => (l.metadata.labels[LABEL_APP_NAME] = 'other')),
      state: 'foreign',
    },
    {
      name: 'joined as a sharer: its owner says the content',
      desired: deployment(),
      live: liveOf(deployment(), (l) => {
        l.metadata.labels[LABEL_APP_NAME] = 'owner';
        l.metadata.annotations[ANNOTATION_SHARED_BY] = 'prod/owner,prod/shop';
        l.spec.replicas = 9;
      }),
      state: 'in-sync',
    },
    {
      name: 'apply-once spec.replicas: a replicas edit is allowed drift',
      desired: deployment([{ path: 'spec.replicas', affect: 'always' }]),
      live: liveOf(deployment([{ path: 'spec.replicas', affect: 'always' }]), (l) => (l.spec.replicas = 7)),
      state: 'in-sync',
    },
    {
      name: 'apply-once spec.replicas: an image edit is still drift',
      desired: deployment([{ path: 'spec.replicas', affect: 'always' }]),
      live: liveOf(deployment([{ path: 'spec.replicas', affect: 'always' }]), (l) => {
        l.spec.replicas = 7;
        l.spec.template.spec.containers[0].image = 'evil:latest';
      }),
      state: 'modified',
      fields: ['spec.template.spec.containers[0].image'],
    },
    {
      name: 'apply-once onUpdate: kept by the sweep too (a heal is an apply, and every apply keeps it)',
      desired: deployment([{ path: 'spec.replicas', affect: 'onUpdate' }]),
      live: liveOf(deployment([{ path: 'spec.replicas', affect: 'onUpdate' }]), (l) => (l.spec.replicas = 7)),
      state: 'in-sync',
    },
    {
      name: 'apply-once a container by index',
      desired: deployment([{ path: 'spec.template.spec.containers[0].resources', affect: 'onStateKeep' }]),
      live: liveOf(deployment([{ path: 'spec.template.spec.containers[0].resources', affect: 'onStateKeep' }]), (l) => {
        l.spec.template.spec.containers[0].resources = { limits: { cpu: '4' } };
      }),
      state: 'in-sync',
    },
    {
      name: 'apply-once * : any edit is allowed',
      desired: deployment([{ path: '*', affect: 'always' }]),
      live: liveOf(deployment([{ path: '*', affect: 'always' }]), (l) => (l.spec.template.spec.containers[0].image = 'x')),
      state: 'in-sync',
    },
    {
      name: 'apply-once * : deleted is still missing',
      desired: deployment([{ path: '*', affect: 'always' }]),
      live: undefined,
      state: 'missing',
    },
    {
      name: 'a forged (unparsable) apply-once annotation hides nothing',
      desired: { ...deployment(), metadata: { ...deployment().metadata, annotations: { [ANNOTATION_APPLY_ONCE]: '{not json' } } },
      live: liveOf(
        { ...deployment(), metadata: { ...deployment().metadata, annotations: { [ANNOTATION_APPLY_ONCE]: '{not json' } } },
        (l) => (l.spec.replicas = 1),
      ),
      state: 'modified',
      fields: ['spec.replicas'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const drift = detectDrift(c.desired, c.live, APP);
      expect(drift.state).toBe(c.state);
      expect(drift.ref).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'web' });
      if (c.fields) expect(drift.fields).toEqual(c.fields);
    });
  }

  it('a Secret written with stringData is in sync with its base64 data, and drifts when the data changes', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'prod', labels: { ...OURS } },
      stringData: { password: 'hunter2' },
    };
    const applied = withAppliedHash(secret);
    const live = { ...applied, stringData: undefined, data: { password: Buffer.from('hunter2').toString('base64') }, type: 'Opaque' };
    expect(detectDrift(secret, live, APP).state).toBe('in-sync');
    const edited = { ...live, data: { password: Buffer.from('letmein').toString('base64') } };
    expect(detectDrift(secret, edited, APP)).toMatchObject({ state: 'modified', fields: ['data.password'] });
  });

  it('reports at most five fields', () => {
    const desired: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', labels: { ...OURS } },
      data: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'])),
    };
    const live = { ...desired, data: {} };
    expect(detectDrift(desired, live, APP).fields).toHaveLength(5);
  });
});

describe('keepApplyOnceFields: what a heal or a re-apply sends', () => {
  it('takes the live value of each apply-once path, and leaves the rest as declared', () => {
    const desired = deployment([{ path: 'spec.replicas', affect: 'always' }]);
    const live = liveOf(desired, (l) => {
      l.spec.replicas = 7;
      l.spec.template.spec.containers[0].image = 'evil:latest';
    });
    const sent = keepApplyOnceFields(desired, live, 'state-keep') as Record<string, any>;
    expect(sent.spec.replicas).toBe(7);
    expect(sent.spec.template.spec.containers[0].image).toBe('nginx:1');
    expect((desired.spec as { replicas: number }).replicas).toBe(2);
  });

  it('leaves a path out when the live object has none, so the apply does not set it again', () => {
    const desired = deployment([{ path: 'spec.replicas', affect: 'always' }]);
    const live = liveOf(desired, (l) => delete l.spec.replicas);
    expect(keepApplyOnceFields(desired, live, 'state-keep')?.spec).not.toHaveProperty('replicas');
  });

  it('applies nothing for a whole-object apply-once that exists, everything when it is missing', () => {
    const desired = deployment([{ path: '*', affect: 'always' }]);
    expect(keepApplyOnceFields(desired, liveOf(desired), 'update')).toBeUndefined();
    expect(keepApplyOnceFields(desired, undefined, 'update')).toBe(desired);
  });

  it('honours affect: onStateKeep paths are reverted by a new release; onUpdate ones by nothing', () => {
    const desired = deployment([
      { path: 'spec.replicas', affect: 'onStateKeep' },
      { path: 'spec.template.spec.containers[0].image', affect: 'onUpdate' },
    ]);
    expect(applyOncePaths(desired, 'state-keep').map(formatFieldPath)).toEqual(['spec.replicas', 'spec.template.spec.containers[0].image']);
    expect(applyOncePaths(desired, 'update').map(formatFieldPath)).toEqual(['spec.template.spec.containers[0].image']);
  });
});

describe('field paths', () => {
  const good: Array<[string, Array<string | number>]> = [
    ['spec.replicas', ['spec', 'replicas']],
    ['spec.template.spec.containers[0].resources', ['spec', 'template', 'spec', 'containers', 0, 'resources']],
    ['metadata.annotations[example.com/key]', ['metadata', 'annotations', 'example.com/key']],
    ['*', []],
  ];
  for (const [text, segments] of good) {
    it(`parses ${text}`, () => {
      expect(parseFieldPath(text)).toEqual(segments);
      expect(formatFieldPath(segments)).toBe(text);
    });
  }
  for (const bad of ['', 'spec..replicas', '.spec', 'spec.', 'spec[0', 'spec[]', 'spec.*', 'spec.replicas*', 'a[0]b']) {
    it(`refuses ${JSON.stringify(bad)}`, () => expect(typeof parseFieldPath(bad)).toBe('string'));
  }
  it('writes and removes through maps and lists, and refuses a path through a scalar', () => {
    const target: Record<string, unknown> = { spec: { list: [{ a: 1 }] } };
    expect(writeAt(target, ['spec', 'list', 0, 'a'], { present: true, value: 2 })).toBe(true);
    expect(readAt(target, ['spec', 'list', 0, 'a'])).toEqual({ present: true, value: 2 });
    expect(writeAt(target, ['spec', 'list', 0, 'a', 'deeper'], { present: true, value: 3 })).toBe(false);
    expect(writeAt(target, ['spec', 'list', 0, 'a'], { present: false })).toBe(true);
    expect(readAt(target, ['spec', 'list', 0, 'a']).present).toBe(false);
  });
});

const applyOnce = (properties: string) =>
  `apiVersion: core.oam.dev/v1alpha1\nkind: Policy\nmetadata: {name: keep}\ntype: apply-once\nproperties: ${properties}\n`;

async function refusal(files: Record<string, string>): Promise<string> {
  try {
    await planOf(files);
  } catch (err) {
    if (isTricenterError(err)) return err.message;
    throw err;
  }
  throw new Error('the bundle was accepted');
}

describe('apply-once policy in a bundle', () => {
  it('stamps the listed paths on the selected objects only', async () => {
    const plan = await planOf(
      baseWith(applyOnce(`{enable: true, rules: [{selector: {resourceTypes: [Deployment]}, strategy: {path: ["spec.replicas"]}}]}`)),
    );
    const manifests = deploySteps(plan)[0]?.targets[0]?.manifests ?? [];
    const deploymentManifest = manifests.find((m) => m.kind === 'Deployment');
    const configMap = manifests.find((m) => m.kind === 'ConfigMap');
    expect(JSON.parse(deploymentManifest?.metadata.annotations?.[ANNOTATION_APPLY_ONCE] ?? '')).toEqual([
      { path: 'spec.replicas', affect: 'always' },
    ]);
    expect(configMap?.metadata.annotations).not.toHaveProperty(ANNOTATION_APPLY_ONCE);
  });

  it('enabled without rules: every object is apply-once whole; disabled: nothing, rules or not', async () => {
    const whole = deploySteps(await planOf(baseWith(applyOnce('{enable: true}'))))[0]?.targets[0]?.manifests ?? [];
    expect(whole.every((m) => m.metadata.annotations?.[ANNOTATION_APPLY_ONCE] === '[{"path":"*","affect":"always"}]')).toBe(true);
    const offPlan = await planOf(baseWith(applyOnce(`{enable: false, rules: [{strategy: {path: ["spec"]}}]}`)));
    const off = deploySteps(offPlan)[0]?.targets[0]?.manifests;
    expect(off?.some((m) => m.metadata.annotations?.[ANNOTATION_APPLY_ONCE])).toBe(false);
  });

  it('a bundle cannot stamp apply-once on its own objects', async () => {
    const files = baseFiles();
    files['objects.yaml'] = (files['objects.yaml'] as string).replace(
      '  labels: {app: web}\nspec:',
      `  labels: {app: web}\n  annotations: {"${ANNOTATION_APPLY_ONCE}": '[{"path":"*"}]'}\nspec:`,
    );
    const manifests = deploySteps(await planOf(files))[0]?.targets[0]?.manifests ?? [];
    expect(manifests.find((m) => m.kind === 'Deployment')?.metadata.annotations).not.toHaveProperty(ANNOTATION_APPLY_ONCE);
  });

  const bad: Array<[string, string, RegExp]> = [
    [
      'a bad path',
      `{enable: true, rules: [{strategy: {path: ["spec..replicas"]}}]}`,
      /properties\.rules\[0\]\.strategy\.path\[0\].*field name is missing/,
    ],
    ['no path', `{enable: true, rules: [{strategy: {path: []}}]}`, /properties\.rules\[0\]\.strategy\.path.*at least one path/],
    ['an unknown affect', `{enable: true, rules: [{strategy: {path: [spec], affect: never}}]}`, /properties\.rules\[0\]\.strategy\.affect/],
    ['an unknown selector field', `{enable: true, rules: [{selector: {oamTypes: [COMPONENT]}, strategy: {path: [spec]}}]}`, /oamTypes/],
    ['enable not a boolean', `{enable: "yes"}`, /properties\.enable/],
  ];
  for (const [name, properties, says] of bad) {
    it(`refuses ${name}, naming file, document and field`, async () => {
      const message = await refusal(baseWith(applyOnce(properties)));
      expect(message).toMatch(/app\.yaml/);
      expect(message).toMatch(/document 3/);
      expect(message).toMatch(says);
    });
  }
});

describe('selfHeal annotation on the Application', () => {
  const withSelfHeal = (value: string) =>
    baseFiles({
      'app.yaml': APP_YAML.replace('  namespace: prod\n', `  namespace: prod\n  annotations: {tricenter.io/self-heal: "${value}"}\n`),
    });
  it('"false" turns self-heal off in the plan; "true" or absent leaves it on', async () => {
    expect((await planOf(withSelfHeal('false'))).selfHeal).toBe(false);
    expect(await planOf(withSelfHeal('true'))).not.toHaveProperty('selfHeal');
    expect(await planOf(baseFiles())).not.toHaveProperty('selfHeal');
  });
  it('refuses any other value, naming the field', async () => {
    const message = await refusal(withSelfHeal('no'));
    expect(message).toMatch(/app\.yaml/);
    expect(message).toMatch(/metadata\.annotations.*tricenter\.io\/self-heal/);
    expect(message).toMatch(/"true" or "false"/);
  });
});
