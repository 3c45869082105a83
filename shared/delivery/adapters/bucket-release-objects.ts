import { createHash } from 'node:crypto';
import { TricenterError } from '../../platform/errors.ts';
import { isDigest } from '../model/release-packs.ts';
import { sameEtag } from '../model/records.ts';
import type { BundleSource } from '../ports/bundle-source.port.ts';
import type { ReleaseObjectStore } from '../ports/release-object-store.port.ts';

/**
 * Release objects in the bundle bucket, at `releases/objects/<sha256>.json`: OSS in the cloud, the
 * bucket folder locally (both are BundleSources). The OSS triggers and the folder watcher listen
 * under `bundles/` only, so storing release objects never starts an ingest.
 *
 * `put` asks for the object's ETag first (OSS: the hex MD5 of a simple upload) and uploads only
 * when it is missing or differs, so storing a release again costs a HEAD per object, and an
 * object someone replaced in the bucket is repaired by the next release that needs it.
 */
const RELEASE_OBJECTS_PREFIX = 'releases/objects/';

/** One pack holds at most one cluster's manifests of one release, themselves bounded by the bundle limits. */
const MAX_RELEASE_OBJECT_BYTES = 128 * 1024 * 1024;

export class BucketReleaseObjectStore implements ReleaseObjectStore {
  constructor(
    private readonly bundles: BundleSource,
    private readonly bucket: string,
  ) {}

  async put(digest: string, data: Uint8Array): Promise<void> {
    const key = releaseObjectKey(digest);
    const existing = await this.bundles.head(this.bucket, key);
    if (existing && sameEtag(existing.etag, createHash('md5').update(data).digest('hex'))) return;
    await this.bundles.put(this.bucket, key, data);
  }

  async get(digest: string): Promise<Uint8Array> {
    return (await this.bundles.get(this.bucket, releaseObjectKey(digest), { maxBytes: MAX_RELEASE_OBJECT_BYTES })).data;
  }
}

function releaseObjectKey(digest: string): string {
  if (!isDigest(digest))
    throw new TricenterError('VALIDATION', `"${digest.slice(0, 80)}" is not a release object digest (64 lower-case hex characters)`);
  return `${RELEASE_OBJECTS_PREFIX}${digest}.json`;
}
