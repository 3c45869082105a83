import { describe, expect, it } from 'vitest';
import { fieldDiff, previewObject, prunedObject } from '#shared/delivery/model/preview.ts';

const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'demo', name: 'web' };

function deployment(image: string, replicas: number, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'demo', labels: { app: 'web' }, ...extra },
    spec: { replicas, template: { spec: { containers: [{ name: 'web', image, env: [{ name: 'A', value: '1' }] }] } } },
  };
}

describe('fieldDiff (dry-run result against live, server-managed fields ignored)', () => {
  it.each([
    {
      what: 'identical objects',
      live: deployment('web:1', 2),
      desired: deployment('web:1', 2),
      expected: [],
    },
    {
      what: 'server-managed metadata and status differ only',
      live: {
        ...deployment('web:1', 2, {
          resourceVersion: '5',
          uid: 'u1',
          generation: 3,
          managedFields: [{ manager: 'x' }],
          creationTimestamp: 't',
        }),
        status: { readyReplicas: 2 },
      },
      desired: deployment('web:1', 2, { resourceVersion: '6', uid: 'u1', generation: 4, managedFields: [{ manager: 'tricenter' }] }),
      expected: [],
    },
    {
      what: 'a new image and replica count are notable, named list items are matched by name',
      live: deployment('web:1', 2),
      desired: deployment('web:2', 3),
      expected: [
        { path: 'spec.replicas', before: 2, after: 3, notable: true },
        { path: 'spec.template.spec.containers[web].image', before: 'web:1', after: 'web:2', notable: true },
      ],
    },
    {
      what: 'an env var added and a label removed',
      live: deployment('web:1', 2),
      desired: (() => {
        const d = deployment('web:1', 2);
        d.metadata.labels = {} as { app: string };
        d.spec.template.spec.containers[0]?.env.push({ name: 'B', value: '2' });
        return d;
      })(),
      expected: [
        { path: 'metadata.labels.app', before: 'web', notable: false },
        { path: 'spec.template.spec.containers[web].env[B].name', after: 'B', notable: false },
        { path: 'spec.template.spec.containers[web].env[B].value', after: '2', notable: false },
      ],
    },
    {
      what: "the last-applied annotation is the server's, the content hash is ours",
      live: deployment('web:1', 2, {
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'tricenter.io/content-hash': 'a' },
      }),
      desired: deployment('web:1', 2, { annotations: { 'tricenter.io/content-hash': 'b' } }),
      expected: [{ path: 'metadata.annotations.tricenter.io/content-hash', before: 'a', after: 'b', notable: false }],
    },
    {
      what: 'unnamed list items are compared by index',
      live: { apiVersion: 'v1', kind: 'X', metadata: { name: 'x' }, spec: { args: ['a', 'b'] } },
      desired: { apiVersion: 'v1', kind: 'X', metadata: { name: 'x' }, spec: { args: ['a', 'c', 'd'] } },
      expected: [
        { path: 'spec.args[1]', before: 'b', after: 'c', notable: false },
        { path: 'spec.args[2]', after: 'd', notable: false },
      ],
    },
  ])('$what', ({ live, desired, expected }) => {
    expect(fieldDiff(live, desired)).toEqual(expected);
  });

  it('an added object lists its leaves, not one blob', () => {
    const fields = fieldDiff(undefined, deployment('web:1', 2));
    expect(fields.map((f) => f.path)).toContain('spec.template.spec.containers[web].image');
    expect(fields.every((f) => f.before === undefined)).toBe(true);
    expect(fields.filter((f) => f.notable).map((f) => f.path)).toEqual(['spec.replicas', 'spec.template.spec.containers[web].image']);
  });

  it('hostile input: non-objects and a null live side never throw', () => {
    expect(fieldDiff('nonsense', null)).toEqual([]);
    expect(fieldDiff(null, { a: 1 })).toEqual([{ path: 'a', after: 1, notable: false }]);
  });
});

describe('previewObject and prunedObject', () => {
  it.each([
    { what: 'absent live: add', live: undefined, after: deployment('web:1', 1), action: 'add', liveVersion: '' },
    {
      what: 'no field differs: same',
      live: deployment('web:1', 1, { resourceVersion: '7' }),
      after: deployment('web:1', 1),
      action: 'same',
      liveVersion: '7',
    },
    {
      what: 'a field differs: change',
      live: deployment('web:1', 1, { resourceVersion: '7' }),
      after: deployment('web:2', 1),
      action: 'change',
      liveVersion: '7',
    },
  ])('$what', ({ live, after, action, liveVersion }) => {
    const preview = previewObject(ref, live, after);
    expect(preview.action).toBe(action);
    expect(preview.liveVersion).toBe(liveVersion);
    expect(preview.ref).toEqual(ref);
  });

  it('a pruned object carries no fields and its live version', () => {
    expect(prunedObject(ref, { metadata: { resourceVersion: '9' } })).toEqual({ ref, action: 'prune', fields: [], liveVersion: '9' });
  });
});
