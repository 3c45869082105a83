import { describe, expect, it } from 'vitest';
import { fromFieldsV1, members, prettyPath, toFieldsV1 } from '#sandbox/kube/fieldpath.ts';
import { serverSideApply } from '#sandbox/kube/managed-fields.ts';
import { strategicMergePatch, mergePatch } from '#sandbox/kube/patch.ts';
import { findResource, type ResourceType } from '#sandbox/kube/resources.ts';
import { matchesLabels, parseLabelSelector } from '#sandbox/kube/selectors.ts';
import { humanDuration } from '#sandbox/kube/table.ts';
import { ApiError } from '#sandbox/kube/status.ts';

/** The pure pieces under the API server: selectors, field sets, patches, SSA, printing. */
const DEPLOYMENTS = findResource('apps', 'v1', 'deployments') as ResourceType;

describe('label selectors', () => {
  it.each([
    ['a=1,b!=2', { a: '1', b: '3' }, true],
    ['a=1,b!=2', { a: '1', b: '2' }, false],
    ['x in (p, q),!y', { x: 'q' }, true],
    ['x notin (p)', {}, true],
    ['x', {}, false],
    ['', { any: 'thing' }, true],
  ])('%s on %j is %s', (selector, labels, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('rejects what kube-apiserver rejects', () => {
    expect(() => parseLabelSelector('a=b c')).toThrow(ApiError);
    expect(() => parseLabelSelector('a=bad value!')).toThrow(/unable to parse requirement/);
  });
});

describe('field sets', () => {
  const obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', labels: { app: 'x' } },
    spec: {
      selector: { matchLabels: { app: 'x' } },
      template: { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
    },
  };

  it('serializes as fieldsV1 with list keys and item markers, and reads back', () => {
    const fields = toFieldsV1(members('Deployment', obj).keys());
    expect(fields).toEqual({
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:selector': {},
        'f:template': {
          'f:spec': {
            'f:containers': {
              'k:{"name":"c"}': {
                '.': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
              },
            },
          },
        },
      },
    });
    expect(fromFieldsV1(fields)).toEqual(new Set(members('Deployment', obj).keys()));
  });

  it('prints paths the way conflicts name them', () => {
    const path = [...members('Deployment', obj).keys()].find((p) => p.endsWith('f:protocol')) ?? '';
    expect(prettyPath(path)).toBe('.spec.template.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].protocol');
  });
});

describe('patches', () => {
  const live = {
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'a', image: '1' },
            { name: 'b', image: '2' },
          ],
        },
      },
    },
  };

  it('strategic merge: by key, $patch delete, $setElementOrder (orders as kube-apiserver 1.20 does)', () => {
    const patched = strategicMergePatch('Deployment', structuredClone(live), {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'b', $patch: 'delete' },
              { name: 'c', image: '3' },
            ],
          },
        },
      },
    });
    // kube-apiserver puts the patch's items first when no order is given.
    expect((patched.spec as any).template.spec.containers).toEqual([
      { name: 'c', image: '3' },
      { name: 'a', image: '1' },
    ]);
    const ordered = strategicMergePatch('Deployment', structuredClone(live), {
      spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } } },
    });
    expect((ordered.spec as any).template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['b', 'a']);
  });

  it('JSON merge patch replaces lists and deletes with null', () => {
    expect(mergePatch({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { c: null } })).toEqual({ a: [3], b: { d: 2 } });
  });
});

describe('server-side apply', () => {
  const base = (containers: Array<Record<string, string>>) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: { template: { spec: { containers } } },
  });
  const opts = (manager: string, force = false) => ({ manager, force, apiVersion: 'apps/v1', nowMs: 0 });

  it('removes a list item the applier stopped setting, keeps one another manager owns', () => {
    let live = serverSideApply(
      DEPLOYMENTS,
      undefined,
      base([
        { name: 'a', image: '1' },
        { name: 'b', image: '2' },
      ]),
      opts('one'),
    );
    live = serverSideApply(DEPLOYMENTS, live, base([{ name: 'b', image: '2' }]), opts('two'));
    live = serverSideApply(DEPLOYMENTS, live, base([]), opts('one'));
    expect((live.spec as any).template.spec.containers).toEqual([{ name: 'b', image: '2' }]);
  });

  it('does not conflict when the value is the same, and lists every conflicting manager otherwise', () => {
    let live = serverSideApply(DEPLOYMENTS, undefined, base([{ name: 'a', image: '1' }]), opts('one'));
    live = serverSideApply(DEPLOYMENTS, live, base([{ name: 'a', image: '1' }]), opts('two'));
    let error: ApiError | undefined;
    try {
      serverSideApply(DEPLOYMENTS, live, base([{ name: 'a', image: '9' }]), opts('three'));
    } catch (err) {
      error = err as ApiError;
    }
    expect(error?.code).toBe(409);
    expect(error?.message).toBe(
      'Apply failed with 2 conflicts: conflicts with "one":\n- .spec.template.spec.containers[name="a"].image\nconflicts with "two":\n- .spec.template.spec.containers[name="a"].image',
    );
  });
});

describe('printing', () => {
  it.each([
    [5_000, '5s'],
    [150_000, '2m30s'],
    [3_600_000 * 5 + 60_000 * 7, '5h7m'],
    [86_400_000 * 3, '3d'],
  ])('%d ms is %s', (ms, text) => expect(humanDuration(ms)).toBe(text));
});
