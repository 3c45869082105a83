import { TricenterError } from '../../platform/errors.ts';
import { BUNDLE_EXTENSIONS, bundleKey, type BundleExtension } from '../model/bucket-key.ts';
import type { AppRef } from '../model/ownership.ts';
import type { BundleSource } from '../ports/bundle-source.port.ts';
import type { IngestResult } from '../model/records.ts';
import type { RunStore } from '../ports/run-store.port.ts';
import { recordApiUploader } from '../usecases/uploader.ts';
import { formatBytes, MAX_BUNDLE_UPLOAD_BYTES } from './limits.ts';

/**
 * Bundle uploads through the API: the bundle is stored in the bucket under the application's key
 * (built by the one key rule, model/bucket-key.ts, so a name the ingest would refuse is a 400 here),
 * and the bucket's trigger (OSS, or the twin's watcher) ingests it as it would any upload. The
 * uploader then asks for the outcome of exactly that object (bucket + key + eTag).
 */
export interface UploadReceipt {
  app: AppRef;
  bucket: string;
  key: string;
  etag: string;
  size: number;
}

/** `pending` until the ingest has finished; then its result (a run, no change, or the refusal). */
export type UploadOutcome = { status: 'pending' } | ({ status: 'completed' } & IngestResult);

export function parseBundleFormat(value: string | undefined): BundleExtension {
  const format = value ?? 'tar.gz';
  const known = BUNDLE_EXTENSIONS.find((extension) => extension === format);
  if (!known) throw new TricenterError('VALIDATION', `bundle format "${format}" is not one of ${BUNDLE_EXTENSIONS.join(', ')}`);
  return known;
}

export async function uploadBundle(
  deps: { bundles: BundleSource; bucket: string; store: RunStore; clock: { now(): number } },
  app: AppRef,
  format: BundleExtension,
  data: Uint8Array,
  uploader: string,
): Promise<UploadReceipt> {
  if (data.length === 0) throw new TricenterError('VALIDATION', 'the request body (the bundle) is empty');
  if (data.length > MAX_BUNDLE_UPLOAD_BYTES) {
    throw new TricenterError(
      'BUNDLE_TOO_LARGE',
      `the bundle is ${data.length} bytes: exceeds the upload limit of ${formatBytes(MAX_BUNDLE_UPLOAD_BYTES)} (${MAX_BUNDLE_UPLOAD_BYTES} bytes)`,
    );
  }
  const key = bundleKey(app, format);
  // Recorded before the object exists, so the ingest its trigger starts always finds it (no self-approval).
  await recordApiUploader(deps.store, deps.bucket, key, data, uploader, deps.clock.now());
  const info = await deps.bundles.put(deps.bucket, key, data);
  return { app, bucket: info.bucket, key: info.key, etag: info.etag, size: info.size };
}

export async function uploadOutcome(
  deps: { store: RunStore; bucket: string },
  app: AppRef,
  format: BundleExtension,
  etag: string,
): Promise<UploadOutcome> {
  const record = await deps.store.getIngest({ bucket: deps.bucket, key: bundleKey(app, format), etag });
  if (!record?.result || record.status !== 'completed') return { status: 'pending' };
  return { status: 'completed', ...record.result };
}
