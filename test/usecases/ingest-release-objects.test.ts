import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BucketReleaseObjectStore } from '#shared/delivery/adapters/bucket-release-objects.ts';
import { FolderBucket } from '#shared/delivery/adapters/local/folder-bucket.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { ReleaseObjectStore } from '#shared/delivery/ports/release-object-store.port.ts';
import { DEFAULT_INGEST_STALE_AFTER_MS } from '#shared/delivery/model/records.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { ingestBundle } from '#shared/delivery/usecases/ingest-bundle.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { BIG_APP, bigBundle } from '../helpers/big-bundle.ts';

/** Ingest writes the release objects before the row that names them: a crash in between never leaves a release pointing at missing objects. */
const root = mkdtempSync(join(tmpdir(), 'tricenter-ingest-objects-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const BUCKET = 'tricenter-bundles';
const KEY = `bundles/${BIG_APP.namespace}/${BIG_APP.name}.yaml`;

async function setUp(wrap: (objects: ReleaseObjectStore) => ReleaseObjectStore) {
  const files = bigBundle({ components: 60, clusters: 4, overrides: 'same' });
  const bucket = new FolderBucket(join(root, `r${++count}`));
  const clock = new ManualClock(1_000_000);
  const events: string[] = [];
  const store = new SqliteRunStore({ path: ':memory:' });
  const putRelease = store.putRelease.bind(store);
  store.putRelease = async (release) => {
    events.push('release row');
    await putRelease(release);
  };
  const objects = new BucketReleaseObjectStore(bucket, BUCKET);
  const deps: WorkflowDeps = {
    store,
    queue: { send: async () => {} },
    gateway: {} as ClusterGateway,
    bundles: bucket,
    manifests: new ReleaseManifests(
      wrap({
        put: async (digest, data) => {
          events.push('object');
          await objects.put(digest, data);
        },
        get: (digest) => objects.get(digest),
      }),
    ),
    registry: async () => parseClusterRegistry(await loadBundleBytes('clusters.yaml', new TextEncoder().encode(files.clusters))),
    clock,
    logger: silentLogger,
    newId: () => `run-${++count}`,
    healthWait: { totalMs: 0, pollMs: 1 },
  };
  const uploaded = await bucket.put(BUCKET, KEY, new TextEncoder().encode(files.app));
  return { deps, bucket, clock, events, source: { bucket: BUCKET, key: KEY, etag: uploaded.etag } };
}

describe('ingest and release objects', () => {
  it('stores every release object before the release row', async () => {
    const { deps, events, source } = await setUp((objects) => objects);
    expect(await ingestBundle(deps, source)).toMatchObject({ outcome: 'run-started' });
    expect(events.at(-1)).toBe('release row');
    expect(events.filter((e) => e === 'release row')).toHaveLength(1);
    expect(events.length).toBeGreaterThan(1);
  });

  it('after a failure while storing objects there is no release; a retry stores the rest and the release', async () => {
    let puts = 0;
    const { deps, bucket, clock, source } = await setUp((objects) => ({
      put: async (digest, data) => {
        if (++puts === 2) throw new TricenterError('UNREACHABLE', 'OSS went away', { retryable: true });
        await objects.put(digest, data);
      },
      get: (digest) => objects.get(digest),
    }));
    await expect(ingestBundle(deps, source)).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect((await deps.store.listReleases(BIG_APP)).items).toEqual([]);
    expect((await deps.store.getApp(BIG_APP))?.currentRunId).toBeUndefined();

    clock.advance(DEFAULT_INGEST_STALE_AFTER_MS + 1);
    expect(await ingestBundle(deps, source)).toMatchObject({ outcome: 'run-started' });
    const [release] = (await deps.store.listReleases(BIG_APP)).items;
    const named = new Set(release!.plan.steps.flatMap((s) => (s.type === 'deploy' ? s.targets.flatMap((t) => t.packs) : [])));
    const stored = new Set(
      (await bucket.list(BUCKET, { prefix: 'releases/objects/' })).map((o) => o.key.slice('releases/objects/'.length, -'.json'.length)),
    );
    for (const digest of named) expect(stored.has(digest)).toBe(true);
  });
});
