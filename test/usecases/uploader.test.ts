import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseApprovalTokens } from '#functions/cloud.ts';
import { BucketReleaseObjectStore } from '#shared/delivery/adapters/bucket-release-objects.ts';
import { FolderBucket } from '#shared/delivery/adapters/local/folder-bucket.ts';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { parseIdempotencyKey } from '#shared/delivery/approval/idempotency.ts';
import { uploadBundle } from '#shared/delivery/approval/uploads.ts';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { ingestBundle } from '#shared/delivery/usecases/ingest-bundle.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { recordApiUploader, uploaderOf } from '#shared/delivery/usecases/uploader.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { BIG_APP, bigBundle } from '../helpers/big-bundle.ts';

/** Who uploaded a release (for no self-approval): the API token recorded at upload, else the OSS event's principal. */
const root = mkdtempSync(join(tmpdir(), 'tricenter-uploader-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const BUCKET = 'tricenter-bundles';
const KEY = `bundles/${BIG_APP.namespace}/${BIG_APP.name}.yaml`;
const bytes = (text: string) => new TextEncoder().encode(text);
let count = 0;

function setUp(): { deps: WorkflowDeps; bucket: FolderBucket; files: ReturnType<typeof bigBundle> } {
  const files = bigBundle({ components: 2, clusters: 2, overrides: 'same' });
  const bucket = new FolderBucket(join(root, `r${++count}`));
  const deps: WorkflowDeps = {
    store: new SqliteRunStore({ path: ':memory:' }),
    queue: { send: async () => {} },
    gateway: {} as ClusterGateway,
    bundles: bucket,
    manifests: new ReleaseManifests(new BucketReleaseObjectStore(bucket, BUCKET)),
    registry: async () => parseClusterRegistry(await loadBundleBytes('clusters.yaml', bytes(files.clusters))),
    clock: new ManualClock(1_000_000),
    logger: silentLogger,
    newId: () => `run-${++count}`,
    healthWait: { totalMs: 0, pollMs: 1 },
  };
  return { deps, bucket, files };
}

describe('uploader identity', () => {
  it("a bundle written to the bucket directly is the OSS principal's; the run records it", async () => {
    const { deps, bucket, files } = setUp();
    const put = await bucket.put(BUCKET, KEY, bytes(files.app));
    const result = await ingestBundle(deps, { bucket: BUCKET, key: KEY, etag: put.etag }, { ossPrincipal: '2718281828' });
    expect((await deps.store.getRun(result.runId ?? ''))?.uploadedBy).toBe('oss:2718281828');
  });

  it("a bundle uploaded through the API is the token's, whatever principal the function wrote it with", async () => {
    const { deps, files } = setUp();
    const receipt = await uploadBundle({ ...deps, bucket: BUCKET }, BIG_APP, 'yaml', bytes(files.app), 'alice');
    const result = await ingestBundle(deps, { bucket: BUCKET, key: receipt.key, etag: receipt.etag }, { ossPrincipal: 'fc-role' });
    expect((await deps.store.getRun(result.runId ?? ''))?.uploadedBy).toBe('token:alice');
  });

  it("the record is bound to the content: other bytes at the same key are not the token's", async () => {
    const { deps } = setUp();
    await recordApiUploader(deps.store, BUCKET, KEY, bytes('first'), 'alice', 0);
    expect(await uploaderOf(deps.store, BUCKET, KEY, bytes('second'), 'bob-principal', 0)).toBe('oss:bob-principal');
    expect(await uploaderOf(deps.store, BUCKET, KEY, bytes('first'), 'bob-principal', 0)).toBe('token:alice');
    // The first binding stays: a later claim for the same content cannot rewrite who uploaded it.
    await recordApiUploader(deps.store, BUCKET, KEY, bytes('first'), 'mallory', 0);
    expect(await uploaderOf(deps.store, BUCKET, KEY, bytes('first'), undefined, 0)).toBe('token:alice');
    expect(await uploaderOf(deps.store, BUCKET, KEY, bytes('third'), undefined, 0)).toBeUndefined();
  });

  it('no Idempotency-Key can name an uploader record (its id holds a space)', () => {
    expect(() => parseIdempotencyKey(`uploader ${BUCKET}/${KEY} sha256:00`)).toThrow(/visible ASCII/);
  });
});

describe('approval tokens in the function configuration', () => {
  it('reads groups and OSS principals after the token', () => {
    expect(parseApprovalTokens('alice:approver:0123456789abcdef0:ops+release:2718+3141,bob:viewer:0123456789abcdef1')).toEqual([
      { name: 'alice', scope: 'approver', token: '0123456789abcdef0', groups: ['ops', 'release'], ossPrincipals: ['2718', '3141'] },
      { name: 'bob', scope: 'viewer', token: '0123456789abcdef1' },
    ]);
  });

  it('refuses an entry with more parts', () => {
    expect(() => parseApprovalTokens('alice:approver:0123456789abcdef0:ops:1:extra')).toThrow(/TRICENTER_APPROVAL_TOKENS/);
  });
});
