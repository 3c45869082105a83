import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchFolderBucket, type BucketWatcher } from '#shared/delivery/adapters/local/folder-bucket-watcher.ts';
import { FolderBucket } from '#shared/delivery/adapters/local/folder-bucket.ts';
import { BUNDLE_PREFIX, parseBucketKey } from '#shared/delivery/model/bucket-key.ts';

/**
 * The twin's bucket trigger, like the OSS trigger filtered on `bundles/` alone, announces keys the
 * key rule refuses, so that ingest records them; only the rule decides what is deployed.
 */
describe('folder bucket watcher and the bundle key rule', () => {
  let watcher: BucketWatcher | undefined;
  afterEach(async () => watcher?.close());

  it('announces every object under bundles/, refused keys included, and nothing outside it', async () => {
    const bucket = new FolderBucket(mkdtempSync(join(tmpdir(), 'tricenter-watch-keys-')));
    const keys = [
      'bundles/rt/web.yaml',
      'bundles/rt/web.YAML',
      'bundles/rt/sub/evil.yaml',
      'bundles/rt/w\u0435b.yaml',
      'bundles/rt/%2e%2e.yaml',
      'bundles/rt/web.yaml.',
    ];
    for (const key of keys) await bucket.put('bundles', key, new TextEncoder().encode(key));
    await bucket.put('bundles', 'config/clusters.yaml', new TextEncoder().encode('clusters: []'));
    const announced: string[] = [];
    watcher = await watchFolderBucket(bucket, {
      bucket: 'bundles',
      prefix: BUNDLE_PREFIX,
      debounceMs: 20,
      onEvent: (event) => void announced.push(event.events[0]!.oss.object.key),
    });
    expect(announced.sort()).toEqual([...keys].sort());
    expect(announced.filter((key) => parseBucketKey(key).ok)).toEqual(['bundles/rt/web.yaml']);
  });
});
