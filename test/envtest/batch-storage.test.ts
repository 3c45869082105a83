/**
 * The sandbox's Job and PersistentVolumeClaim answers against a real kube-apiserver 1.20: the same
 * requests to both, the status code, the Status reason and every cause (field, reason, message)
 * compared, and the defaults a created Job gets. What 1.20 does not serve at the sandbox's version
 * (CronJob batch/v1, from 1.21) is pinned down too: docs/sandbox-vs-kube-apiserver.md lists it.
 * The real server has no kubelet or volume provisioner here, so Job completion and claim binding
 * (the sandbox's controllers) are not compared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '#sandbox/index.ts';
import { kubeBinariesAvailable, type RealCluster, startKubeApiServer } from '../helpers/envtest.ts';
import { type RawRequest, rawRequest } from '../helpers/kube-raw.ts';

const CLUSTER = 'batch-cluster';
const NS = 'bs';
type Obj = Record<string, any>;

function job(name: string, pod: Obj = { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] }): Obj {
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name }, spec: { template: { spec: pod } } };
}

function claim(name: string, spec: Obj): Obj {
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec };
}

const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`;
const CLAIMS = `/api/v1/namespaces/${NS}/persistentvolumeclaims`;
const RWO = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };

/** Requests whose answers must match: code, reason, causes (field, reason and message). */
function cronJob(name: string, spec: Obj): Obj {
  return { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name }, spec };
}

const CRONJOBS = `/apis/batch/v1/namespaces/${NS}/cronjobs`;
const CRON_TEMPLATE = { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'main', image: 'busybox' }] } } } };

/**
 * Requests whose answers must match: code, reason, causes (field, reason and message). CronJobs go
 * to batch/v1beta1 on the real 1.20 server (its only CronJob version) and to batch/v1 on the sandbox.
 */
const STEPS: Array<{ name: string; method: 'POST' | 'PUT'; path: string; body?: Obj }> = [
  { name: 'CronJob without schedule', method: 'POST', path: CRONJOBS, body: cronJob('none', { jobTemplate: CRON_TEMPLATE }) },
  {
    name: 'CronJob with a schedule of words',
    method: 'POST',
    path: CRONJOBS,
    body: cronJob('words', { schedule: 'every minute', jobTemplate: CRON_TEMPLATE }),
  },
  {
    name: 'CronJob at minute 61',
    method: 'POST',
    path: CRONJOBS,
    body: cronJob('minute', { schedule: '61 * * * *', jobTemplate: CRON_TEMPLATE }),
  },
  {
    name: 'CronJob whose Job restarts Always',
    method: 'POST',
    path: CRONJOBS,
    body: cronJob('always', {
      schedule: '@hourly',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox' }] } } } },
    }),
  },
  {
    name: 'CronJob',
    method: 'POST',
    path: CRONJOBS,
    body: cronJob('ok', { schedule: '*/5 9-17 * * mon-fri', jobTemplate: CRON_TEMPLATE }),
  },
  {
    name: 'Job without restartPolicy',
    method: 'POST',
    path: JOBS,
    body: job('always', { containers: [{ name: 'main', image: 'busybox' }] }),
  },
  {
    name: 'Job restarting Always',
    method: 'POST',
    path: JOBS,
    body: job('always2', { restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox' }] }),
  },
  { name: 'Job without containers', method: 'POST', path: JOBS, body: job('empty', { restartPolicy: 'Never', containers: [] }) },
  {
    name: 'Job without template spec',
    method: 'POST',
    path: JOBS,
    body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bare' } },
  },
  { name: 'claim without access modes or storage', method: 'POST', path: CLAIMS, body: claim('empty', {}) },
  {
    name: 'claim with an unknown access mode',
    method: 'POST',
    path: CLAIMS,
    body: claim('mode', { ...RWO, accessModes: ['ReadWriteSometimes'] }),
  },
  { name: 'claim of zero bytes', method: 'POST', path: CLAIMS, body: claim('zero', { ...RWO, resources: { requests: { storage: '0' } } }) },
  { name: 'claim', method: 'POST', path: CLAIMS, body: claim('data', RWO) },
  {
    name: 'claim changing access modes',
    method: 'PUT',
    path: `${CLAIMS}/data`,
    body: claim('data', { ...RWO, accessModes: ['ReadWriteMany'] }),
  },
];

function essence(res: { status: number; body: unknown }): Obj {
  const body = (res.body ?? {}) as Obj;
  // The real server appends a Go diff of the old and new spec to an immutable-spec message (sandbox: first line only).
  const causes = ((body.details?.causes ?? []) as Obj[]).map((c) => `${c.field} ${c.reason}: ${String(c.message).split('\n')[0]}`);
  return { code: res.status, reason: body.reason, causes };
}

describe.skipIf(!kubeBinariesAvailable())('Jobs and claims: sandbox vs real kube-apiserver 1.20', () => {
  let real: RealCluster | undefined;
  let sandbox: Sandbox | undefined;
  let dir: string;
  let sandboxConfig: KubeConfig;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tricenter-batch-envtest-'));
    sandbox = await startSandbox({ clusters: [{ name: CLUSTER, aliases: [], labels: {} }], dir, readyDelayMs: 0, dataPlanePort: 0 });
    real = await startKubeApiServer({ contextName: CLUSTER, simulateWorkloads: false });
    sandboxConfig = new KubeConfig();
    sandboxConfig.loadFromFile(sandbox.kubeconfigPath);
    sandboxConfig.setCurrentContext(CLUSTER);
    for (const config of [real.kubeConfig, sandboxConfig]) {
      const created = await rawRequest(config, { method: 'POST', path: '/api/v1/namespaces', body: { metadata: { name: NS } } });
      expect(created.status).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([real?.stop(), sandbox?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(STEPS)('$name: same answer', async (step) => {
    if (!real) throw new Error('no real server');
    const request: RawRequest = { method: step.method, path: step.path, body: step.body };
    const answers = [];
    for (const config of [real.kubeConfig, sandboxConfig]) {
      if (step.method === 'PUT') {
        // An update carries the live resourceVersion, as a client's would.
        const live = (await rawRequest(config, { method: 'GET', path: step.path })).body as Obj;
        request.body = {
          ...(step.body as Obj),
          metadata: { ...(step.body as Obj).metadata, resourceVersion: live.metadata.resourceVersion },
        };
      }
      const onReal = config === real.kubeConfig && step.path.includes('/cronjobs');
      const sent: RawRequest = onReal
        ? {
            ...request,
            path: request.path.replace('/batch/v1/', '/batch/v1beta1/'),
            body: { ...(request.body as Obj), apiVersion: 'batch/v1beta1' },
          }
        : request;
      answers.push(essence(await rawRequest(config, sent)));
    }
    expect(answers[1], 'sandbox').toEqual(answers[0]);
  });

  it('a malformed storage quantity is a 400 on both, before validation', async () => {
    if (!real) throw new Error('no real server');
    const body = claim('bad', { ...RWO, resources: { requests: { storage: 'lots' } } });
    for (const config of [real.kubeConfig, sandboxConfig]) {
      const res = await rawRequest(config, { method: 'POST', path: CLAIMS, body });
      expect(res.status).toBe(400);
      expect((res.body as Obj).message).toMatch(/quantities must match the regular expression/);
    }
  });

  it('a created Job gets the same defaults, generated selector and labels on both', async () => {
    if (!real) throw new Error('no real server');
    const shapes = [];
    for (const config of [real.kubeConfig, sandboxConfig]) {
      const res = await rawRequest(config, { method: 'POST', path: `${JOBS}?dryRun=All`, body: job('defaults') });
      expect(res.status).toBe(201);
      const created = res.body as Obj;
      const uid = created.metadata.uid as string;
      const spec = JSON.parse(JSON.stringify(created.spec).replaceAll(uid, 'UID')) as Obj;
      shapes.push({ spec, status: created.status });
    }
    expect(shapes[1], 'sandbox').toEqual(shapes[0]);
  });

  it('1.20 serves CronJob at batch/v1beta1 only; the sandbox at batch/v1 only (what tricenter renders)', async () => {
    if (!real) throw new Error('no real server');
    const realV1 = await rawRequest(real.kubeConfig, { method: 'GET', path: `/apis/batch/v1/namespaces/${NS}/cronjobs` });
    const realBeta = await rawRequest(real.kubeConfig, { method: 'GET', path: `/apis/batch/v1beta1/namespaces/${NS}/cronjobs` });
    const sandboxV1 = await rawRequest(sandboxConfig, { method: 'GET', path: `/apis/batch/v1/namespaces/${NS}/cronjobs` });
    const sandboxBeta = await rawRequest(sandboxConfig, { method: 'GET', path: `/apis/batch/v1beta1/namespaces/${NS}/cronjobs` });
    expect([realV1.status, realBeta.status, sandboxV1.status, sandboxBeta.status]).toEqual([404, 200, 200, 404]);
  });
});
