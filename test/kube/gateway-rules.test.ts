import { describe, expect, it } from 'vitest';
import { evaluateHealth, ingressAddressesOf, workloadStatus } from '#shared/delivery/adapters/kube/health.ts';
import { applyTiers, identityKey, isOwnedBy, managersOverridden, prepareForApply } from '#shared/delivery/adapters/kube/manifests.ts';
import type { KubeObject, ObjectRef } from '#shared/delivery/model/kube.ts';

const obj = (apiVersion: string, kind: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, namespace: 'demo' },
  ...extra,
});

describe('apply order', () => {
  it('puts namespaces, then config, services, workloads, ingresses, and everything else last; stable inside a tier', () => {
    const manifests = [
      obj('networking.k8s.io/v1', 'Ingress', 'web'),
      obj('batch/v1', 'Job', 'migrate'),
      obj('apps/v1', 'Deployment', 'web'),
      obj('v1', 'Service', 'web'),
      obj('v1', 'Secret', 'creds'),
      obj('v1', 'ConfigMap', 'web'),
      obj('v1', 'Namespace', 'demo'),
      obj('apps/v1', 'StatefulSet', 'db'),
      obj('v1', 'ServiceAccount', 'web'),
    ];
    expect(applyTiers(manifests).map((tier) => tier.map((m) => `${m.kind}/${m.metadata.name}`))).toEqual([
      ['Namespace/demo'],
      ['Secret/creds', 'ConfigMap/web', 'ServiceAccount/web'],
      ['Service/web'],
      ['Deployment/web', 'StatefulSet/db'],
      ['Ingress/web'],
      ['Job/migrate'],
    ]);
  });
});

describe('manifest preparation', () => {
  it('defaults a Service port protocol to TCP, strips server-set fields, and does not touch the input', () => {
    const svc = obj('v1', 'Service', 'web', { spec: { ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] } });
    (svc.metadata as Record<string, unknown>).resourceVersion = '12';
    (svc.metadata as Record<string, unknown>).uid = 'u';
    const prepared = prepareForApply(svc, 'demo');
    expect(prepared.spec).toEqual({
      ports: [
        { port: 80, protocol: 'TCP' },
        { port: 53, protocol: 'UDP' },
      ],
    });
    expect(prepared.metadata).toEqual({ name: 'web', namespace: 'demo' });
    expect((svc.spec as { ports: Array<{ protocol?: string }> }).ports[0]?.protocol).toBeUndefined();
    expect(prepareForApply(obj('v1', 'Namespace', 'demo'), undefined).metadata).toEqual({ name: 'demo' });
  });

  it('identifies objects across API versions and checks every ownership label', () => {
    const a: ObjectRef = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'demo', name: 'web' };
    expect(identityKey(a)).toBe(identityKey({ ...a, apiVersion: 'networking.k8s.io/v1beta1' }));
    expect(identityKey(a)).not.toBe(identityKey({ ...a, namespace: 'other' }));
    const app = { namespace: 'demo', name: 'web' };
    const labels = { 'app.kubernetes.io/managed-by': 'tricenter', 'app.oam.dev/namespace': 'demo', 'app.oam.dev/name': 'web' };
    expect(isOwnedBy(labels, app)).toBe(true);
    expect(isOwnedBy({ ...labels, 'app.oam.dev/name': 'other' }, app)).toBe(false);
    expect(isOwnedBy({ ...labels, 'app.kubernetes.io/managed-by': 'helm' }, app)).toBe(false);
    expect(isOwnedBy(undefined, app)).toBe(false);
  });

  it('names the field managers a forced apply took fields from', () => {
    const managed = (entries: Array<{ manager: string; fields: Record<string, unknown> }>) => ({
      metadata: { managedFields: entries.map((e) => ({ manager: e.manager, operation: 'Update', fieldsV1: e.fields })) },
    });
    const before = managed([
      { manager: 'kubectl-edit', fields: { 'f:data': { 'f:color': {}, 'f:size': {} } } },
      { manager: 'tricenter', fields: { 'f:data': { 'f:other': {} } } },
      { manager: 'untouched', fields: { 'f:metadata': { 'f:annotations': { 'f:x': {} } } } },
    ]);
    const after = managed([
      { manager: 'kubectl-edit', fields: { 'f:data': { 'f:size': {} } } },
      { manager: 'tricenter', fields: { 'f:data': { 'f:other': {}, 'f:color': {} } } },
      { manager: 'untouched', fields: { 'f:metadata': { 'f:annotations': { 'f:x': {} } } } },
    ]);
    expect(managersOverridden(before, after, 'tricenter')).toEqual(['kubectl-edit']);
    expect(managersOverridden(after, after, 'tricenter')).toEqual([]);
  });
});

describe('health rules', () => {
  const deploy: ObjectRef = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'demo', name: 'web' };
  const live = (status: Record<string, unknown>, generation = 2, replicas = 3) => ({
    metadata: { generation },
    spec: { replicas },
    status,
  });

  it.each([
    [
      'rolled out',
      live({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }),
      true,
      undefined,
    ],
    [
      'not observed yet',
      live({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }),
      false,
      'rollout of generation 2 not yet observed (observed 1)',
    ],
    [
      'partly ready',
      live({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 1, availableReplicas: 1 }),
      false,
      '1/3 ready, 1/3 available',
    ],
    [
      'old replicas left',
      live({ observedGeneration: 2, replicas: 4, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }),
      false,
      '3/3 ready, 1 old replicas terminating',
    ],
    [
      'stuck, with the condition',
      live({
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 3,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' }],
      }),
      false,
      '0/3 ready, 0/3 available, ProgressDeadlineExceeded: too slow',
    ],
    ['scaled to zero', live({ observedGeneration: 2 }, 2, 0), true, undefined],
  ])('Deployment %s', (_label, object, healthy, reason) => {
    expect(evaluateHealth(deploy, object)).toEqual(reason === undefined ? { ref: deploy, healthy } : { ref: deploy, healthy, reason });
  });

  it('needs an address for an Ingress, existence for other kinds', () => {
    const ing: ObjectRef = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'demo', name: 'web' };
    expect(evaluateHealth(ing, { status: { loadBalancer: {} } })).toEqual({ ref: ing, healthy: false, reason: 'no address yet' });
    const withAddress = { status: { loadBalancer: { ingress: [{ ip: '127.0.0.2' }, { hostname: 'lb.example.com' }] } } };
    expect(evaluateHealth(ing, withAddress)).toEqual({ ref: ing, healthy: true });
    expect(ingressAddressesOf(withAddress)).toEqual(['127.0.0.2', 'lb.example.com']);
    const cm: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'demo', name: 'web' };
    expect(evaluateHealth(cm, {})).toEqual({ ref: cm, healthy: true });
    expect(evaluateHealth(cm, undefined)).toEqual({ ref: cm, healthy: false, reason: 'not found' });
  });

  it('reads kubectl-style workload figures and the first image', () => {
    const object = {
      spec: { replicas: 5, template: { spec: { containers: [{ image: 'web:1' }, { image: 'sidecar:2' }] } } },
      status: { readyReplicas: 3, updatedReplicas: 4, availableReplicas: 2 },
    };
    expect(workloadStatus(deploy, object)).toEqual({ ref: deploy, desired: 5, ready: 3, upToDate: 4, available: 2, image: 'web:1' });
  });
});
