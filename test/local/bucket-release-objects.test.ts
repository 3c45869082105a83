import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { BucketReleaseObjectStore } from '#shared/delivery/adapters/bucket-release-objects.ts';
import { FolderBucket } from '#shared/delivery/adapters/local/folder-bucket.ts';
import { describeReleaseObjectStoreContract } from '../contract/release-object-store.contract.ts';

const root = mkdtempSync(join(tmpdir(), 'tricenter-release-objects-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

describeReleaseObjectStoreContract('folder bucket', () => {
  const raw = new FolderBucket(join(root, `r${++count}`));
  return { store: new BucketReleaseObjectStore(raw, 'contract-bucket'), bucket: 'contract-bucket', raw };
});
