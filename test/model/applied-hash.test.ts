import { describe, expect, it } from 'vitest';
import { appliedHash, compareLive, liveMatches, withAppliedHash } from '#shared/delivery/model/applied-hash.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import {
  ANNOTATION_CONTENT_HASH,
  ANNOTATION_SHARED_BY,
  FIELD_MANAGER,
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_MANAGED_BY,
  MANAGED_BY,
} from '#shared/delivery/model/ownership.ts';

const labels = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: 'demo', [LABEL_APP_NAME]: 'web' };

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'demo', labels, annotations: { 'app.oam.dev/publishVersion': 'v1' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'registry.example.com/web:1',
            env: [{ name: 'COLOR', value: 'blue' }],
            resources: { limits: { cpu: 1, memory: '128Mi' } },
          },
        ],
      },
    },
  },
};

const ourApply = { manager: FIELD_MANAGER, operation: 'Apply', apiVersion: 'apps/v1', fieldsType: 'FieldsV1', fieldsV1: {} };

/** What an API server returns after applying `desired`: our manifest, the hash we wrote, server-set and defaulted fields. */
function liveOf(desired: KubeObject, managers: unknown[] = [ourApply]): Record<string, unknown> {
  const sent = withAppliedHash(desired);
  const live = structuredClone(sent) as Record<string, unknown> & { metadata: Record<string, unknown>; spec?: Record<string, unknown> };
  Object.assign(live.metadata, {
    uid: 'u-1',
    resourceVersion: '7',
    generation: 1,
    creationTimestamp: '2026-12-03T00:00:00Z',
    managedFields: managers,
  });
  if (live.kind === 'Deployment') {
    const spec = live.spec as { strategy?: unknown; template: { spec: { containers: Array<Record<string, unknown>> } } };
    spec.strategy = { type: 'RollingUpdate' };
    for (const container of spec.template.spec.containers) {
      container.imagePullPolicy = 'IfNotPresent';
      const limits = (container.resources as { limits: Record<string, unknown> }).limits;
      limits.cpu = String(limits.cpu);
    }
    live.status = { replicas: 2, readyReplicas: 2 };
  }
  return live;
}

type Live = ReturnType<typeof liveOf> & { metadata: Record<string, unknown> & { annotations: Record<string, string> }; spec: any };

describe('appliedHash', () => {
  it('is the same whatever the key order, and leaves out its own annotation, the sharers, server-set metadata and status', () => {
    const reverseKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reverseKeys)
        : value && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reverseKeys(v)]),
            )
          : value;
    const reordered = reverseKeys(deployment) as KubeObject;
    expect(Object.keys(reordered)).toEqual(Object.keys(deployment).reverse());
    const decorated: KubeObject = {
      ...deployment,
      metadata: {
        ...deployment.metadata,
        uid: 'u',
        resourceVersion: '9',
        managedFields: [ourApply],
        annotations: {
          ...deployment.metadata.annotations,
          [ANNOTATION_CONTENT_HASH]: 'stale',
          [ANNOTATION_SHARED_BY]: 'demo/web,other/app',
        },
      },
      status: { replicas: 5 },
    };
    expect(appliedHash(reordered)).toBe(appliedHash(deployment));
    expect(appliedHash(decorated)).toBe(appliedHash(deployment));
  });

  it('changes with any content we apply: a field, a label, an annotation, the namespace', () => {
    const variants: KubeObject[] = [
      { ...deployment, spec: { ...(deployment.spec as object), replicas: 3 } },
      { ...deployment, metadata: { ...deployment.metadata, labels: { ...labels, extra: 'x' } } },
      { ...deployment, metadata: { ...deployment.metadata, annotations: { 'app.oam.dev/publishVersion': 'v2' } } },
      { ...deployment, metadata: { ...deployment.metadata, namespace: 'other' } },
    ];
    const hashes = new Set([appliedHash(deployment), ...variants.map(appliedHash)]);
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('withAppliedHash stamps the annotation and leaves the input alone', () => {
    const stamped = withAppliedHash(deployment);
    expect(stamped.metadata.annotations?.[ANNOTATION_CONTENT_HASH]).toBe(appliedHash(deployment));
    expect(deployment.metadata.annotations?.[ANNOTATION_CONTENT_HASH]).toBeUndefined();
    expect(appliedHash(stamped)).toBe(appliedHash(deployment));
  });
});

describe('compareLive', () => {
  const cases: Array<{ name: string; live: (live: Live) => unknown; desired?: KubeObject; expected: string | true }> = [
    { name: 'as applied, with server defaults and status added', live: (live) => live, expected: true },
    { name: 'absent (deleted by someone)', live: () => undefined, expected: 'absent' },
    {
      name: 'edited by kubectl, our annotation left in place',
      live: (live) => {
        live.spec.template.spec.containers[0].image = 'registry.example.com/web:hacked';
        return live;
      },
      expected: 'spec.template.spec.containers[0].image differs',
    },
    {
      name: 'scaled by kubectl',
      live: (live) => {
        live.spec.replicas = 5;
        return live;
      },
      expected: 'spec.replicas differs',
    },
    {
      name: 'an env var we set removed by hand',
      live: (live) => {
        live.spec.template.spec.containers[0].env = [];
        return live;
      },
      expected: 'spec.template.spec.containers[0].env differs',
    },
    {
      name: 'one of our labels removed by hand',
      live: (live) => {
        delete (live.metadata.labels as Record<string, string>)[LABEL_APP_NAME];
        return live;
      },
      expected: `metadata.labels.${LABEL_APP_NAME} differs`,
    },
    {
      name: 'a field we no longer send is still there: the hash of the last apply tells',
      live: (live) => live,
      desired: {
        ...deployment,
        spec: { ...(deployment.spec as Record<string, unknown>), replicas: undefined },
      },
      expected: 'last applied from other content',
    },
    {
      name: 'the annotation forged onto content someone else applied',
      live: (live) => ({ ...live, metadata: { ...live.metadata, managedFields: [{ ...ourApply, manager: 'kubectl-client-side-apply' }] } }),
      expected: `no server-side apply by ${FIELD_MANAGER} on record`,
    },
    {
      name: 'our manager only wrote the status subresource',
      live: (live) => ({ ...live, metadata: { ...live.metadata, managedFields: [{ ...ourApply, subresource: 'status' }] } }),
      expected: `no server-side apply by ${FIELD_MANAGER} on record`,
    },
    {
      name: 'the annotation removed',
      live: (live) => ({ ...live, metadata: { ...live.metadata, annotations: {} } }),
      expected: 'last applied from other content',
    },
    {
      name: 'a sidecar and an annotation added by others (our apply would leave them in place)',
      live: (live) => {
        live.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{}';
        live.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': 'now' };
        live.spec.template.spec.containers[0].args = ['--verbose'];
        return live;
      },
      expected: true,
    },
    {
      name: 'a container added by others changes the list we send',
      live: (live) => {
        live.spec.template.spec.containers.push({ name: 'sidecar', image: 'x' });
        return live;
      },
      expected: 'spec.template.spec.containers differs',
    },
    { name: 'not an object', live: () => 'text', expected: 'last applied from other content' },
  ];

  for (const { name, live, desired, expected } of cases) {
    it(name, () => {
      const target = desired ?? deployment;
      const comparison = compareLive(live(liveOf(deployment) as Live), target);
      expect(comparison).toEqual(expected === true ? { matches: true } : { matches: false, reason: expected });
      expect(liveMatches(live(liveOf(deployment) as Live), target)).toBe(expected === true);
    });
  }

  it('the sharers we would write are compared (a hand-removed one is put back) but not hashed', () => {
    const shared: KubeObject = {
      ...deployment,
      metadata: { ...deployment.metadata, annotations: { [ANNOTATION_SHARED_BY]: 'demo/web,other/app' } },
    };
    const live = liveOf(shared) as Live;
    expect(liveMatches(live, shared)).toBe(true);
    delete live.metadata.annotations[ANNOTATION_SHARED_BY];
    expect(compareLive(live, shared)).toEqual({ matches: false, reason: `metadata.annotations.${ANNOTATION_SHARED_BY} differs` });
  });

  it('a Secret sent as stringData matches the base64 data the API server stores, and not other data', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'demo', labels },
      stringData: { token: 'abc' },
    };
    const stored = withAppliedHash(secret);
    const live = {
      ...stored,
      stringData: undefined,
      data: { token: Buffer.from('abc').toString('base64') },
      metadata: { ...stored.metadata, managedFields: [ourApply] },
    };
    expect(liveMatches(live, secret)).toBe(true);
    expect(compareLive({ ...live, data: { token: Buffer.from('xyz').toString('base64') } }, secret)).toEqual({
      matches: false,
      reason: 'data.token differs',
    });
  });

  it('an empty map or list we send matches an absent one; null we send matches absent only', () => {
    const configMap: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'demo', labels },
      data: { a: '1' },
      binaryData: {},
      extra: [],
      gone: null,
    };
    const stored = withAppliedHash(configMap);
    const live = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...stored.metadata, managedFields: [ourApply] }, data: { a: '1' } };
    expect(liveMatches(live, configMap)).toBe(true);
    expect(compareLive({ ...live, gone: 'back' }, configMap)).toEqual({ matches: false, reason: 'gone differs' });
  });
});
