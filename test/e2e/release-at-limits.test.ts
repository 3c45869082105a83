import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BUCKET } from '#local/twin.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import type { StoredTarget } from '#shared/delivery/model/plan.ts';
import type { Run } from '#shared/delivery/workflow/run.ts';
import type { ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import { BIG_APP, bigBundle, clusterName } from '../helpers/big-bundle.ts';
import { rawRequest } from '../helpers/kube-raw.ts';
import { startTestTwin, waitFor } from './helpers.ts';

/**
 * The bundle at the limits (1,000 components, 50 clusters, an override per cluster) on the local
 * twin: it ingests from the bucket folder, its release objects land under `releases/` without
 * triggering an ingest, the first cluster gets its 1,000 objects, and a release object someone
 * replaced in the bucket is refused before the next cluster is touched.
 */
let twin: LocalTwin;
let client: ApiClient;
let cleanup: () => Promise<void>;
let dir: string;
const registryDir = mkdtempSync(join(tmpdir(), 'tricenter-limits-'));

beforeAll(async () => {
  const files = bigBundle({ components: 1000, clusters: 50, overrides: 'scattered', approvalAfterFirst: true });
  const started = await startTestTwin({ clustersFile: clustersFileOf(files.clusters) });
  ({ twin, client, cleanup } = started);
  dir = twin.endpoints.bucket.root;
  await twin.deps.bundles.put(LOCAL_BUCKET, `bundles/${BIG_APP.namespace}/${BIG_APP.name}.yaml`, new TextEncoder().encode(files.app));
}, 180_000);
afterAll(async () => {
  await cleanup?.();
  rmSync(registryDir, { recursive: true, force: true });
});

function clustersFileOf(text: string): string {
  const file = join(registryDir, 'clusters.yaml');
  writeFileSync(file, text);
  return file;
}

async function currentRun(): Promise<Run | undefined> {
  const record = await twin.deps.store.getApp(BIG_APP);
  return record?.currentRunId ? twin.deps.store.getRun(record.currentRunId) : undefined;
}

async function configMapOn(cluster: string, name: string): Promise<{ status: number; body: KubeObject }> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(twin.endpoints.kubeconfig);
  kubeConfig.setCurrentContext(cluster);
  const answer = await rawRequest(kubeConfig, { method: 'GET', path: `/api/v1/namespaces/${BIG_APP.namespace}/configmaps/${name}` });
  return { status: answer.status, body: answer.body as KubeObject };
}

describe('a release at the limits on the local twin', () => {
  it('deploys the first cluster from the bucket folder, without release objects ever being ingested', async () => {
    const suspended = await waitFor(
      currentRun,
      (run) => run?.phase === 'workflowSuspending',
      200_000,
      'the first step done, the second waiting for approval',
    );
    expect(suspended!.steps[0]).toMatchObject({ phase: 'succeeded', tasks: [{ cluster: 'c00', status: 'done' }] });

    expect((await twin.deps.gateway.listOwned('c00', BIG_APP)).filter((ref) => ref.kind === 'ConfigMap')).toHaveLength(1000);
    expect((await configMapOn('c00', 'cm-0')).body.data).toMatchObject({ cluster: 'c00' });
    expect((await configMapOn('c00', 'cm-1')).body.data).not.toHaveProperty('cluster');
    expect(await twin.deps.gateway.listOwned('c01', BIG_APP)).toEqual([]);

    const objects = await twin.deps.bundles.list(LOCAL_BUCKET, { prefix: 'releases/objects/' });
    expect(objects).toHaveLength(51);
    // The watcher of bundles/ never saw them: one upload, one release, no failed ingest.
    expect((await twin.deps.store.listReleases(BIG_APP)).items).toHaveLength(1);
    expect((await twin.deps.store.getApp(BIG_APP))?.lastFailedIngest).toBeUndefined();
    for (const object of objects.slice(0, 3))
      expect(await twin.deps.store.getIngest({ bucket: LOCAL_BUCKET, key: object.key, etag: object.etag })).toBeUndefined();
    // Generous bounds: rendering and applying 1,000 objects on a loaded 2-core machine; a bound, not a speed goal.
  }, 240_000);

  it('refuses a release object replaced in the bucket: the next cluster is not touched, and the task says why', async () => {
    const run = (await currentRun())!;
    const release = (await twin.deps.store.getRelease(run.releaseId))!;
    const step = release.plan.steps[1]!;
    const target = (step.type === 'deploy' ? step.targets[0] : undefined) as StoredTarget;
    expect(target.cluster).toBe(clusterName(1));
    // Someone with write access to the bucket (a tenant's OSS key, a hand copy) replaces c01's own pack.
    const own = target.packs.at(-1)!;
    const path = join(dir, LOCAL_BUCKET, 'releases', 'objects', `${own}.json`);
    const poisoned = JSON.stringify([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-1', namespace: 'kube-system' }, data: { evil: 'yes' } },
    ]);
    await writeFile(path, poisoned);

    await client.decide(BIG_APP, 'approve');
    const failed = await waitFor(
      currentRun,
      (r) => r?.steps[1]?.tasks[0]?.message?.includes('integrity') === true,
      120_000,
      'the task on c01 refused',
    );
    expect(failed!.steps[1]!.tasks[0]!.message).toContain(`release object ${own} failed its integrity check`);
    expect(await twin.deps.gateway.listOwned('c01', BIG_APP)).toEqual([]);
    expect((await readdir(join(dir, LOCAL_BUCKET, 'bundles', BIG_APP.namespace))).sort()).toEqual([`${BIG_APP.name}.yaml`]);
  }, 180_000);
});
