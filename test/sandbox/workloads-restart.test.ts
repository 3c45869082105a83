import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '#sandbox/index.ts';
import { clientsFor, watchUntil } from './helpers.ts';

/** A restarted twin finishes the Jobs, claims and StatefulSets its controllers had not settled (timers do not survive). */
const CLUSTERS = [{ name: 'one', aliases: [], labels: {} }];
const NEVER_MS = 3_600_000;

let dir: string;
let running: Sandbox | undefined;

const start = async (readyDelayMs: number) => {
  running = await startSandbox({ clusters: CLUSTERS, dir, dataPlanePort: 0, readyDelayMs, state: { file: join(dir, 'objects.db') } });
  return clientsFor(running, 'one');
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tricenter-sandbox-workloads-'));
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('controllers after a restart', () => {
  it('complete a started Job, bind a pending claim and settle a StatefulSet', async () => {
    const before = await start(NEVER_MS);
    await before.core.createNamespace({ body: { metadata: { name: 'demo' } } });
    const pod = { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.36' }] };
    await before.objects.create({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once', namespace: 'demo' },
      spec: { template: { spec: pod } },
    } as any);
    await before.objects.create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'demo' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    } as any);
    await before.objects.create({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'demo' },
      spec: {
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } },
      },
    } as any);
    const started = await watchUntil(
      before.kc,
      '/apis/batch/v1/namespaces/demo/jobs',
      'once',
      (o) => o.status?.active === 1,
      'the pod to start',
    );
    expect(started.status.conditions).toBeUndefined();
    await running?.stop();

    const after = await start(0);
    const done = await watchUntil(
      after.kc,
      '/apis/batch/v1/namespaces/demo/jobs',
      'once',
      (o) => (o.status?.conditions ?? []).some((c: { type: string }) => c.type === 'Complete'),
      'the Job to complete',
    );
    expect(done.status.startTime).toBe(started.status.startTime);
    await watchUntil(after.kc, '/api/v1/namespaces/demo/persistentvolumeclaims', 'data', (o) => o.status?.phase === 'Bound', 'binding');
    await watchUntil(after.kc, '/apis/apps/v1/namespaces/demo/statefulsets', 'db', (o) => o.status?.readyReplicas === 1, 'readiness');
  });
});
