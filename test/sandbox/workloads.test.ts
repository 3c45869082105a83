import { PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateHealth } from '#shared/delivery/adapters/kube/health.ts';
import { clientsFor, failure, rawRequest, testSandbox, watchUntil, type Clients } from './helpers.ts';

/**
 * The kinds besides Deployment/Service/Ingress that users deploy (KubeVela's `task`, `cron-task`
 * and `storage`, and k8s-objects): discovery, server-side apply and dry run, the API server's
 * validation errors, and the controllers that complete Jobs and bind claims.
 */
let sandbox: Awaited<ReturnType<typeof testSandbox>>;
let c: Clients;
const NS = 'batch';

beforeAll(async () => {
  sandbox = await testSandbox(['alpha']);
  c = clientsFor(sandbox, 'alpha');
  await c.core.createNamespace({ body: { metadata: { name: NS } } });
});
afterAll(async () => sandbox?.cleanup());

type Obj = Record<string, any>;
const apply = (obj: Obj, options: { dryRun?: boolean; manager?: string } = {}) =>
  c.objects.patch(
    obj as any,
    undefined,
    options.dryRun ? 'All' : undefined,
    options.manager ?? 'tricenter',
    true,
    PatchStrategy.ServerSideApply,
  ) as Promise<Obj>;
const read = (obj: Obj) => c.objects.read(obj as any) as Promise<Obj>;

/** A Job; restartPolicy '' leaves it out. */
function job(name: string, image = 'busybox:1.36', restartPolicy = 'Never'): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: {
      template: {
        metadata: { labels: { app: name } },
        spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'main', image, command: ['true'] }] },
      },
    },
  };
}

function cronJob(name: string, schedule: string | undefined): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: NS },
    spec: {
      ...(schedule === undefined ? {} : { schedule }),
      jobTemplate: {
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'busybox:1.36' }] } } },
      },
    },
  };
}

function claim(name: string, spec: Obj = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } }): Obj {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: NS }, spec };
}

function workload(kind: 'StatefulSet' | 'DaemonSet', name: string, image = 'nginx:1.25'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: NS },
    spec: {
      ...(kind === 'StatefulSet' ? { serviceName: name, replicas: 2 } : {}),
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
    },
  };
}

const ref = (obj: Obj) => ({ apiVersion: obj.apiVersion, kind: obj.kind, namespace: NS, name: obj.metadata.name });
const causes = (status: Obj) => (status.details?.causes ?? []).map((x: Obj) => `${x.field}: ${x.message}`);

describe('discovery', () => {
  it('lists the batch, storage and policy kinds with their subresources and short names', async () => {
    const batch = await rawRequest(sandbox, 'alpha', 'GET', '/apis/batch/v1');
    expect(batch.body.resources.map((r: Obj) => r.name)).toEqual(['jobs', 'jobs/status', 'cronjobs', 'cronjobs/status']);
    expect(batch.body.resources.find((r: Obj) => r.name === 'cronjobs')).toMatchObject({ kind: 'CronJob', shortNames: ['cj'] });
    const core = await rawRequest(sandbox, 'alpha', 'GET', '/api/v1');
    const names = core.body.resources.map((r: Obj) => r.name);
    expect(names).toEqual(expect.arrayContaining(['persistentvolumeclaims', 'persistentvolumeclaims/status', 'serviceaccounts']));
    expect(names).not.toContain('serviceaccounts/status');
    const groups = await rawRequest(sandbox, 'alpha', 'GET', '/apis');
    expect(groups.body.groups.map((g: Obj) => g.preferredVersion.groupVersion)).toEqual(
      expect.arrayContaining(['batch/v1', 'autoscaling/v2', 'policy/v1']),
    );
    // 1.20's versions of these kinds are not served: a client asking for them learns so.
    expect((await rawRequest(sandbox, 'alpha', 'GET', '/apis/batch/v1beta1')).code).toBe(404);
  });
});

describe('Job', () => {
  it('dry run answers the defaulted Job with a generated selector and stores nothing', async () => {
    const dry = await apply(job('dry'), { dryRun: true });
    expect(dry.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6 });
    expect(dry.spec.selector.matchLabels['controller-uid']).toBe(dry.metadata.uid);
    expect(dry.spec.template.metadata.labels).toEqual({ app: 'dry', 'controller-uid': dry.metadata.uid, 'job-name': 'dry' });
    expect((await failure(read(job('dry')))).code).toBe(404);
  });

  it('completes after its pod runs: succeeded, Complete, written by the controller; healthy then', async () => {
    const created = await apply(job('once'));
    expect(evaluateHealth(ref(created), created)).toEqual({ ref: ref(created), healthy: false, reason: '0/1 succeeded, 0 active' });
    const done = await watchUntil(
      c.kc,
      `/apis/batch/v1/namespaces/${NS}/jobs`,
      'once',
      (o) => (o.status?.conditions ?? []).some((x: Obj) => x.type === 'Complete'),
      'the Job to complete',
    );
    expect(done.status).toMatchObject({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] });
    expect(done.status.startTime).toEqual(expect.any(String));
    expect(done.status.completionTime).toEqual(expect.any(String));
    // 1.20's managedFields name no subresource: the controller's entry is the one that owns the status.
    const controller = done.metadata.managedFields.find((m: Obj) => m.manager === 'kube-controller-manager');
    expect(Object.keys(controller.fieldsV1)).toEqual(['f:status']);
    expect(evaluateHealth(ref(done), done)).toEqual({ ref: ref(done), healthy: true });
    // Re-applying the same Job is a no-op; a new pod template is refused (a Job's template is immutable).
    await apply(job('once'));
    const changed = await failure(apply(job('once', 'busybox:1.37')));
    expect(changed.code).toBe(422);
    expect(causes(changed.status)).toEqual([expect.stringMatching(/^spec\.template: Invalid value: .*field is immutable$/)]);
  });

  it('fails with BackoffLimitExceeded when its image is tagged `fail`, and health says why', async () => {
    await apply(job('broken', 'busybox:fail'));
    const failed = await watchUntil(
      c.kc,
      `/apis/batch/v1/namespaces/${NS}/jobs`,
      'broken',
      (o) => (o.status?.conditions ?? []).some((x: Obj) => x.type === 'Failed'),
      'the Job to fail',
    );
    expect(failed.status).toMatchObject({ failed: 7, conditions: [{ type: 'Failed', reason: 'BackoffLimitExceeded' }] });
    expect(evaluateHealth(ref(failed), failed)).toEqual({
      ref: ref(failed),
      healthy: false,
      reason: 'failed: BackoffLimitExceeded: Job has reached the specified backoff limit',
    });
  });

  it('requires a restart policy of OnFailure or Never, and containers, as kube-apiserver 1.20 does', async () => {
    const missing = await failure(apply(job('always', 'busybox:1.36', '')));
    expect(missing.code).toBe(422);
    expect(missing.status).toMatchObject({
      reason: 'Invalid',
      message: 'Job.batch "always" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
      details: { name: 'always', group: 'batch', kind: 'Job' },
    });
    expect(causes((await failure(apply(job('always', 'busybox:1.36', 'Always')))).status)).toEqual([
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
    const empty = job('empty');
    empty.spec.template.spec.containers = [];
    const noContainers = await failure(apply(empty));
    expect(causes(noContainers.status)).toEqual(['spec.template.spec.containers: Required value']);
    const negative = job('negative');
    negative.spec.backoffLimit = -1;
    expect(causes((await failure(apply(negative))).status)).toEqual([
      'spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0',
    ]);
    expect((await failure(read(job('always')))).code).toBe(404);
  });
});

describe('CronJob', () => {
  it('is applied with its defaults and exists (healthy) without running anything', async () => {
    const applied = await apply(cronJob('nightly', '0 3 * * *'));
    expect(applied.spec).toMatchObject({
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
    expect(applied.metadata.generation).toBe(1);
    expect(evaluateHealth(ref(applied), applied).healthy).toBe(true);
    await apply(cronJob('hourly', '@hourly'));
    await apply(cronJob('ranges', '*/15 9-17 * jan-jun mon,fri'));
  });

  it('refuses a missing or malformed schedule and a Job template that restarts Always', async () => {
    expect(causes((await failure(apply(cronJob('none', undefined)))).status)).toEqual(['spec.schedule: Required value']);
    expect(causes((await failure(apply(cronJob('words', 'every minute')))).status)).toEqual([
      'spec.schedule: Invalid value: "every minute": Expected exactly 5 fields, found 2: every minute',
    ]);
    expect(causes((await failure(apply(cronJob('minute', '61 * * * *')))).status)).toEqual([
      'spec.schedule: Invalid value: "61 * * * *": End of range (61) above maximum (59): 61',
    ]);
    const always = cronJob('always', '* * * * *');
    always.spec.jobTemplate.spec.template.spec.restartPolicy = 'Always';
    expect(causes((await failure(apply(always))).status)).toEqual([
      'spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
    const long = cronJob('x'.repeat(53), '* * * * *');
    expect((await failure(apply(long))).status.details.causes[0]).toMatchObject({ field: 'metadata.name' });
  });
});

describe('PersistentVolumeClaim', () => {
  it('is Pending on a dry run, then bound to a volume by the controller; healthy when Bound', async () => {
    const dry = await apply(claim('data'), { dryRun: true });
    expect(dry.status).toEqual({ phase: 'Pending' });
    expect(dry.spec.volumeMode).toBe('Filesystem');
    expect(evaluateHealth(ref(dry), dry)).toEqual({ ref: ref(dry), healthy: false, reason: 'claim is Pending' });
    const created = await apply(claim('data'));
    const bound = await watchUntil(
      c.kc,
      `/api/v1/namespaces/${NS}/persistentvolumeclaims`,
      'data',
      (o) => o.status?.phase === 'Bound',
      'the claim to be bound',
    );
    expect(bound.spec.volumeName).toBe(`pvc-${created.metadata.uid}`);
    expect(bound.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
    expect(bound.metadata.annotations['pv.kubernetes.io/bind-completed']).toBe('yes');
    expect(evaluateHealth(ref(bound), bound).healthy).toBe(true);
    // Re-applying without volumeName keeps the binding; a bound claim may grow, not change its access modes.
    const grown = await apply(claim('data', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } }));
    expect(grown.spec).toMatchObject({ volumeName: `pvc-${created.metadata.uid}`, resources: { requests: { storage: '2Gi' } } });
    const changed = await failure(apply(claim('data', { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '2Gi' } } })));
    expect(changed.code).toBe(422);
    expect(causes(changed.status)).toEqual([
      'spec: Forbidden: spec is immutable after creation except resources.requests for bound claims',
    ]);
  });

  it('stays Pending when it asks for a particular volume (the sandbox has none)', async () => {
    await apply(claim('wants-pv', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: 'pv-1' }));
    // Created after it and bound by the same controller: the first claim had its chance before.
    await apply(claim('after'));
    await watchUntil(c.kc, `/api/v1/namespaces/${NS}/persistentvolumeclaims`, 'after', (o) => o.status?.phase === 'Bound', 'binding');
    expect((await read(claim('wants-pv'))).status).toEqual({ phase: 'Pending' });
  });

  it('refuses a claim without access modes or storage (422), and a malformed quantity while decoding (400)', async () => {
    const empty = await failure(apply(claim('empty', {})));
    expect(empty.code).toBe(422);
    expect(causes(empty.status)).toEqual([
      'spec.accessModes: Required value: at least 1 access mode is required',
      'spec.resources[storage]: Required value',
    ]);
    const mode = await failure(apply(claim('mode', { accessModes: ['ReadWriteSometimes'], resources: { requests: { storage: '1Gi' } } })));
    expect(causes(mode.status)).toEqual([
      'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce"',
    ]);
    const zero = await failure(apply(claim('zero', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '0' } } })));
    expect(causes(zero.status)).toEqual(['spec.resources[storage]: Invalid value: "0": must be greater than zero']);
    const malformed = await failure(apply(claim('bad', { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: 'lots' } } })));
    expect(malformed.code).toBe(400);
    expect(malformed.status.message).toMatch(/quantities must match the regular expression/);
  });
});

describe('StatefulSet, DaemonSet, HorizontalPodAutoscaler, PodDisruptionBudget, ServiceAccount', () => {
  it('settles a StatefulSet and a DaemonSet for each generation (healthy), but not with a failing image', async () => {
    await apply(workload('StatefulSet', 'db'));
    const sts = await watchUntil(c.kc, `/apis/apps/v1/namespaces/${NS}/statefulsets`, 'db', (o) => o.status?.readyReplicas === 2, 'ready');
    expect(sts.spec).toMatchObject({ podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate' } });
    expect(evaluateHealth(ref(sts), sts).healthy).toBe(true);
    await apply(workload('DaemonSet', 'agent', 'agent:fail'));
    const ds = await watchUntil(
      c.kc,
      `/apis/apps/v1/namespaces/${NS}/daemonsets`,
      'agent',
      (o) => o.status?.observedGeneration === 1,
      'observed',
    );
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 1, numberReady: 0, numberUnavailable: 1 });
    expect(evaluateHealth(ref(ds), ds).healthy).toBe(false);
    // Only replicas, template and updateStrategy of a StatefulSet may change.
    const renamed = workload('StatefulSet', 'db');
    renamed.spec.serviceName = 'other';
    expect(causes((await failure(apply(renamed))).status)).toEqual([
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'template', and 'updateStrategy' are forbidden",
    ]);
  });

  it('validates HPA bounds and PDB budgets, defaults the HPA metric, creates ServiceAccounts', async () => {
    const hpa = (maxReplicas: number, minReplicas?: number): Obj => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: NS },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas, minReplicas },
    });
    const applied = await apply(hpa(5));
    expect(applied.spec.minReplicas).toBe(1);
    expect(applied.spec.metrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
    ]);
    expect(causes((await failure(apply(hpa(2, 3)))).status)).toEqual([
      'spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`',
    ]);
    const pdb = {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web', namespace: NS },
      spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
    };
    expect((await failure(apply(pdb))).status.details.causes[0]).toMatchObject({
      field: 'spec',
      message: expect.stringMatching(/minAvailable and maxUnavailable cannot be both set$/),
    });
    const sa = await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'runner', namespace: NS } });
    expect(sa.metadata.uid).toEqual(expect.any(String));
  });

  it('empties them with their namespace', async () => {
    const terminating = (await c.core.deleteNamespace({ name: NS })) as Obj;
    await watchUntil(c.kc, '/api/v1/namespaces', NS, (_o, type) => type === 'DELETED', 'the namespace to go', {
      resourceVersion: terminating.metadata.resourceVersion,
    });
    for (const path of ['/apis/batch/v1/jobs', '/apis/batch/v1/cronjobs', '/api/v1/persistentvolumeclaims', '/apis/apps/v1/statefulsets']) {
      expect((await rawRequest(sandbox, 'alpha', 'GET', path)).body.items, path).toEqual([]);
    }
  });
});
