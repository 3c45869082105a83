import { describe, expect, it } from 'vitest';
import { checkKubeObject, kubeObjectSchema } from '#shared/delivery/model/kube-schema.ts';

/** Member order at every level, which JSON and YAML output show. */
const shape = (value: unknown): unknown =>
  typeof value === 'object' && value !== null ? Object.entries(value).map(([key, member]) => [key, shape(member)]) : value;

const valid: unknown[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns', labels: { x: '1' }, annotations: { y: '2' }, uid: 'u' } },
  // Members out of the schema's order: zod puts apiVersion, kind, metadata and name, namespace, labels, annotations first.
  { spec: { replicas: 1 }, kind: 'Deployment', metadata: { labels: { app: 'a' }, name: 'a', extra: 1 }, apiVersion: 'apps/v1' },
  { apiVersion: 'v1', kind: 'Service', metadata: { annotations: { a: 'b' }, name: 's', labels: { z: 'z', a: 'a' }, namespace: 'n' } },
  { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', namespace: undefined, labels: undefined } },
  { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', labels: JSON.parse('{"__proto__": "p", "k": "v"}') } },
  JSON.parse('{"apiVersion": "v1", "kind": "X", "metadata": {"name": "a", "__proto__": 1}, "__proto__": 2, "z": 3}'),
  { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', labels: { 2: 'two', 1: 'one', b: 'b' } } },
];

const invalid: unknown[] = [
  null,
  [],
  'text',
  { kind: 'X', metadata: { name: 'a' } },
  { apiVersion: '', kind: 'X', metadata: { name: 'a' } },
  { apiVersion: 'v1', kind: 'X', metadata: { name: '' } },
  { apiVersion: 'v1', kind: 'X', metadata: [] },
  { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', namespace: '' } },
  { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', labels: { k: 1 } } },
  { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', annotations: ['x'] } },
  { apiVersion: 'v1', kind: 'X', metadata: { name: 'a', labels: { [Symbol('s')]: 'v' } } },
  Object.assign(Object.create(null), { apiVersion: 'v1', kind: 'X', metadata: { name: 'a' } }),
];

describe('checkKubeObject', () => {
  it('accepts what zod accepts, with the same members in the same order', () => {
    for (const value of valid) {
      const fast = checkKubeObject(value);
      const zod = kubeObjectSchema.safeParse(value);
      expect(fast.success).toBe(true);
      expect(zod.success).toBe(true);
      expect(shape(fast.success && fast.data)).toEqual(shape(zod.success && zod.data));
      expect(JSON.stringify(fast.success && fast.data)).toBe(JSON.stringify(zod.success && zod.data));
    }
  });

  it('returns an object already in order as it is, and leaves the input of a reordered one alone', () => {
    const inOrder = valid[1];
    const result = checkKubeObject(inOrder);
    expect(result.success && result.data).toBe(inOrder);
    const reordered = structuredClone(valid[2]);
    const before = JSON.stringify(reordered);
    checkKubeObject(reordered);
    expect(JSON.stringify(reordered)).toBe(before);
  });

  it("refuses what zod refuses, with zod's issues", () => {
    for (const value of invalid) {
      const fast = checkKubeObject(value);
      const zod = kubeObjectSchema.safeParse(value);
      expect(zod.success, JSON.stringify(value)).toBe(fast.success);
      if (!fast.success && !zod.success) expect(fast.error.issues).toEqual(zod.error.issues);
    }
  });
});
