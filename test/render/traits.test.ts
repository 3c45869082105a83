import { describe, expect, it } from 'vitest';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import type { SourcePlace } from '#shared/delivery/model/source.ts';
import { parseTrait } from '#shared/delivery/model/traits.ts';
import { mergePatch } from '#shared/delivery/render/merge-patch.ts';
import { CopyOnWrite, deepFreeze } from '#shared/delivery/render/shared-objects.ts';
import { applyTrait } from '#shared/delivery/render/traits.ts';

const place: SourcePlace = { file: 'app.yaml', document: 3, line: 40, object: 'Policy demo/p', path: 'properties.components[0].traits[0]' };

function deployment(
  containers: unknown[] = [
    {
      name: 'web',
      image: 'nginx',
      env: [
        { name: 'A', value: '1' },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        { name: 'C', value: '3' },
      ],
    },
  ],
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'demo' },
    spec: { replicas: 2, template: { spec: { containers } } },
  };
}
const configMap = (): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'cfg', namespace: 'demo' },
  data: { a: 'b' },
});

/** Applies one trait (validated as a policy would be) to the given objects; returns them. */
function apply(objects: KubeObject[], trait: unknown, component = 'web'): KubeObject[] {
  applyTrait(objects, parseTrait(trait, place), component);
  return objects;
}
function envOf(object: KubeObject | undefined, container = 'web'): unknown {
  const spec = object?.spec as { template: { spec: { containers: Array<{ name: string; env?: unknown }> } } };
  return spec.template.spec.containers.find((c) => c.name === container)?.env;
}

describe('env', () => {
  it('sets over existing entries in place, replaces valueFrom by a value, appends new ones, unsets', () => {
    const [out] = apply([deployment()], { type: 'env', properties: { env: { B: 'two', D: '4' }, unset: ['C'] } });
    expect(envOf(out)).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'two' },
      { name: 'D', value: '4' },
    ]);
  });

  it('replace: true makes env exactly the given map', () => {
    const [out] = apply([deployment()], { type: 'env', properties: { replace: true, env: { Z: 'z' } } });
    expect(envOf(out)).toEqual([{ name: 'Z', value: 'z' }]);
  });

  it('targets the container named containerName, default the component name', () => {
    const two = () =>
      deployment([
        { name: 'web', image: 'a' },
        { name: 'sidecar', image: 'b' },
      ]);
    const [byDefault] = apply([two()], { type: 'env', properties: { env: { X: '1' } } });
    expect([envOf(byDefault, 'web'), envOf(byDefault, 'sidecar')]).toEqual([[{ name: 'X', value: '1' }], undefined]);
    const [named] = apply([two()], { type: 'env', properties: { containerName: 'sidecar', env: { X: '1' } } });
    expect([envOf(named, 'web'), envOf(named, 'sidecar')]).toEqual([undefined, [{ name: 'X', value: '1' }]]);
  });

  it('reaches a CronJob container through its job template', () => {
    const cron: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'job' },
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', image: 'x' }] } } } } },
    };
    const [out] = apply([cron], { type: 'env', properties: { env: { X: '1' } } }, 'job');
    expect(out?.spec).toMatchObject({
      jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', env: [{ name: 'X', value: '1' }] }] } } } },
    });
  });

  it('fails on a missing container, naming the containers there are and the field', () => {
    expect(() => apply([deployment()], { type: 'env', properties: { containerName: 'nope', env: { X: '1' } } })).toThrow(
      /app\.yaml \(document 4, Policy demo\/p\) field properties\.components\[0\]\.traits\[0\]\.properties\.containerName: container "nope" not found in Deployment demo\/web \(containers: web\)/,
    );
    expect(() => apply([deployment()], { type: 'env', properties: { env: { X: '1' } } }, 'other')).toThrow(
      /containerName defaults to the component name\): container "other" not found/,
    );
  });

  it('fails on an object without a pod template', () => {
    expect(() => apply([configMap()], { type: 'env', properties: { env: { X: '1' } } })).toThrow(
      /env needs a workload with a pod template; ConfigMap demo\/cfg has none/,
    );
  });
});

describe('scaler', () => {
  it('sets spec.replicas of workloads and of custom objects that have it', () => {
    expect(apply([deployment()], { type: 'scaler', properties: { replicas: 7 } })[0]?.spec).toMatchObject({ replicas: 7 });
    const sts: KubeObject = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: {} };
    expect(apply([sts], { type: 'scaler', properties: { replicas: 0 } })[0]?.spec).toEqual({ replicas: 0 });
    const rollout: KubeObject = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', metadata: { name: 'r' }, spec: { replicas: 3 } };
    expect(apply([rollout], { type: 'scaler', properties: { replicas: 1 } })[0]?.spec).toEqual({ replicas: 1 });
  });

  it('fails on a ConfigMap and on a negative count', () => {
    expect(() => apply([configMap()], { type: 'scaler', properties: { replicas: 2 } })).toThrow(
      /scaler needs an object with spec\.replicas; ConfigMap demo\/cfg has none/,
    );
    expect(() => apply([deployment()], { type: 'scaler', properties: { replicas: -1 } })).toThrow(
      /field properties\.components\[0\]\.traits\[0\]\.properties\.replicas/,
    );
  });
});

describe('labels and annotations', () => {
  it('set values and delete keys given null', () => {
    const object = configMap();
    object.metadata.labels = { keep: 'k', drop: 'd' };
    const [labelled] = apply([object], { type: 'labels', properties: { add: 'a', drop: null } });
    expect(labelled?.metadata.labels).toEqual({ keep: 'k', add: 'a' });
    const [annotated] = apply([labelled as KubeObject], { type: 'annotations', properties: { note: 'n' } });
    expect(annotated?.metadata.annotations).toEqual({ note: 'n' });
    expect(annotated?.metadata.labels).toEqual({ keep: 'k', add: 'a' });
  });

  it('many traits on one component, sharing one CopyOnWrite, copy each part once and all apply in order', () => {
    const deploy = deepFreeze(deployment([{ name: 'web', image: 'nginx' }]));
    const objects: KubeObject[] = [deploy];
    const cow = new CopyOnWrite();
    for (let i = 0; i < 300; i++) {
      applyTrait(objects, parseTrait({ type: 'env', properties: { env: { [`V${i % 100}`]: String(i) } } }, place), 'web', cow);
      applyTrait(objects, parseTrait({ type: 'labels', properties: { [`l${i % 50}`]: String(i) } }, place), 'web', cow);
      applyTrait(objects, parseTrait({ type: 'scaler', properties: { replicas: i } }, place), 'web', cow);
    }
    const [out] = objects;
    const env = envOf(out) as Array<{ name: string; value: string }>;
    expect(env).toHaveLength(100);
    expect(env[0]).toEqual({ name: 'V0', value: '200' });
    expect(env[99]).toEqual({ name: 'V99', value: '299' });
    expect(Object.keys(out?.metadata.labels ?? {})).toHaveLength(50);
    expect(out?.metadata.labels?.l49).toBe('299');
    expect((out?.spec as { replicas: number }).replicas).toBe(299);
    expect(deploy.spec).toEqual({ replicas: 2, template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } } });
  });

  it('change copies of the parts on the way and leave the objects given (frozen, shared) as they were', () => {
    const deploy = deepFreeze({
      ...deployment(),
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      },
    });
    const cron = deepFreeze({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'job', namespace: 'demo' },
      spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', image: 'x' }] } } } } },
    });
    const before = structuredClone([deploy, cron]);
    const objects = apply([deploy], { type: 'labels', properties: { team: 't' } });
    apply(objects, { type: 'env', properties: { env: { A: '1' } } });
    apply(objects, { type: 'scaler', properties: { replicas: 5 } });
    const [out] = objects;
    expect(out?.metadata.labels).toEqual({ team: 't' });
    expect((out?.spec as { template: { metadata: unknown } }).template.metadata).toEqual({ labels: { team: 't' } });
    expect(envOf(out)).toEqual([{ name: 'A', value: '1' }]);
    expect((out?.spec as { replicas: number }).replicas).toBe(5);
    // What no trait touched is still the shared part.
    expect((out?.spec as { selector: unknown }).selector).toBe(deploy.spec.selector);
    const [cronOut] = apply([cron], { type: 'annotations', properties: { note: 'n' } }, 'job');
    apply([cronOut as KubeObject], { type: 'env', properties: { env: { B: '2' } } }, 'job');
    expect([deploy, cron]).toEqual(before);
  });
});

describe('target', () => {
  it('patches the first object by default and the named one when given', () => {
    const objects = [deployment(), configMap()];
    apply(objects, { type: 'labels', properties: { first: 'yes' } });
    apply(objects, { type: 'labels', target: { kind: 'ConfigMap' }, properties: { second: 'yes' } });
    apply(objects, { type: 'json-merge-patch', target: { kind: 'ConfigMap', name: 'cfg' }, properties: { data: { a: null, c: 'd' } } });
    expect(objects.map((o) => o.metadata.labels)).toEqual([{ first: 'yes' }, { second: 'yes' }]);
    expect(objects[1]?.data).toEqual({ c: 'd' });
  });

  it('fails when the target matches no object or several', () => {
    expect(() => apply([deployment(), configMap()], { type: 'labels', target: { kind: 'Secret' }, properties: { a: 'b' } })).toThrow(
      /field properties\.components\[0\]\.traits\[0\]\.target: target \{"kind":"Secret"\} matches no object of component "web" \(objects: Deployment web, ConfigMap cfg\)/,
    );
    expect(() => apply([configMap(), configMap()], { type: 'labels', target: { name: 'cfg' }, properties: { a: 'b' } })).toThrow(
      /matches 2 objects/,
    );
  });
});

describe('json-merge-patch follows RFC 7396 (Appendix A)', () => {
  const table: Array<[unknown, unknown, unknown]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];

  it.each(table)('%j patched with %j gives %j', (original, patch, result) => {
    const before = structuredClone(original);
    expect(mergePatch(original, patch)).toEqual(result);
    expect(original).toEqual(before);
  });

  it.each(table.filter(([, patch]) => patch !== null))('as a trait on spec.x: %j + %j = %j', (original, patch, result) => {
    const object: KubeObject = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: { x: original } };
    const [out] = apply([object], { type: 'json-merge-patch', properties: { spec: { x: patch } } });
    expect((out?.spec as { x: unknown }).x).toEqual(result);
  });

  it('fails when the patch removes what every object needs', () => {
    expect(() => apply([configMap()], { type: 'json-merge-patch', properties: { metadata: { name: null } } })).toThrow(
      /traits\[0\]\.properties: the json-merge-patch result on ConfigMap demo\/cfg is no longer a valid Kubernetes object \(metadata\.name/,
    );
  });
});

describe('json-patch follows RFC 6902 (Appendix A)', () => {
  /** The RFC's documents live under `spec` of an object, so each pointer gets a /spec prefix. */
  function patchSpec(doc: unknown, operations: Array<Record<string, unknown>>): unknown {
    const object: KubeObject = { apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 't' }, spec: doc };
    const prefixed = operations.map((op) => ({
      ...op,
      path: `/spec${String(op.path)}`,
      ...(op.from === undefined ? {} : { from: `/spec${String(op.from)}` }),
    }));
    const [out] = apply([object], { type: 'json-patch', properties: { operations: prefixed } });
    return out?.spec;
  }

  it.each<[string, unknown, Array<Record<string, unknown>>, unknown]>([
    ['A.1 adding an object member', { foo: 'bar' }, [{ op: 'add', path: '/baz', value: 'qux' }], { baz: 'qux', foo: 'bar' }],
    ['A.2 adding an array element', { foo: ['bar', 'baz'] }, [{ op: 'add', path: '/foo/1', value: 'qux' }], { foo: ['bar', 'qux', 'baz'] }],
    ['A.3 removing an object member', { baz: 'qux', foo: 'bar' }, [{ op: 'remove', path: '/baz' }], { foo: 'bar' }],
    ['A.4 removing an array element', { foo: ['bar', 'qux', 'baz'] }, [{ op: 'remove', path: '/foo/1' }], { foo: ['bar', 'baz'] }],
    ['A.5 replacing a value', { baz: 'qux', foo: 'bar' }, [{ op: 'replace', path: '/baz', value: 'boo' }], { baz: 'boo', foo: 'bar' }],
    [
      'A.6 moving a value',
      { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    ],
    [
      'A.7 moving an array element',
      { foo: ['all', 'grass', 'cows', 'eat'] },
      [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
      { foo: ['all', 'cows', 'eat', 'grass'] },
    ],
    [
      'A.8 testing a value: success',
      { baz: 'qux', foo: ['a', 2, 'c'] },
      [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
      ],
      { baz: 'qux', foo: ['a', 2, 'c'] },
    ],
    [
      'A.10 adding a nested member object',
      { foo: 'bar' },
      [{ op: 'add', path: '/child', value: { grandchild: {} } }],
      { foo: 'bar', child: { grandchild: {} } },
    ],
    [
      'A.11 ignoring unrecognized elements',
      { foo: 'bar' },
      [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }],
      { foo: 'bar', baz: 'qux' },
    ],
    ['A.14 ~ escape ordering', { '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: 10 }], { '/': 9, '~1': 10 }],
    [
      'A.16 adding an array value',
      { foo: ['bar'] },
      [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
      { foo: ['bar', ['abc', 'def']] },
    ],
    ['copying a value (4.5)', { foo: { a: 1 } }, [{ op: 'copy', from: '/foo', path: '/bar' }], { foo: { a: 1 }, bar: { a: 1 } }],
  ])('%s', (_name, doc, operations, expected) => {
    expect(patchSpec(doc, operations)).toEqual(expected);
  });

  it('A.9 a failing test is an error naming the policy and the operation index', () => {
    expect(() =>
      patchSpec({ baz: 'qux' }, [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/baz', value: 'bar' },
      ]),
    ).toThrow(
      /app\.yaml \(document 4, Policy demo\/p\) field properties\.components\[0\]\.traits\[0\]\.properties\.operations\[1\]: json-patch operation 1 \(test \/spec\/baz\).*test failed/,
    );
  });

  it('A.12 adding to a nonexistent target is an error', () => {
    expect(() => patchSpec({ foo: 'bar' }, [{ op: 'add', path: '/baz/bat', value: 'qux' }])).toThrow(
      /operations\[0\]: json-patch operation 0 \(add \/spec\/baz\/bat\)/,
    );
  });

  it('A.15 comparing strings and numbers: "10" is not 10', () => {
    expect(() => patchSpec({ '/': 9, '~1': 10 }, [{ op: 'test', path: '/~01', value: '10' }])).toThrow(/test failed/);
  });

  it('rejects an unknown op, listing the supported ones', () => {
    expect(() => patchSpec({}, [{ op: 'merge', path: '/a', value: 1 }])).toThrow(
      /operations\[0\]\.op: .*'add' \| 'remove' \| 'replace' \| 'move' \| 'copy' \| 'test'/,
    );
  });
});

describe('unknown traits', () => {
  it('are rejected with the supported list', () => {
    expect(() => parseTrait({ type: 'nocalhost', properties: {} }, place)).toThrow(
      /field properties\.components\[0\]\.traits\[0\]\.type: unknown trait type "nocalhost"; supported: env, scaler, json-merge-patch, json-patch, labels, annotations, sidecar, init-container, /,
    );
  });
});
