import { createHash } from 'node:crypto';
import type { RunStore } from '../ports/run-store.port.ts';

/**
 * Who uploaded a bundle, for "no self-approval" (model/approval-policy.ts). An upload through the
 * approval API records its token's name (`token:<name>`) before the object is written, bound to the
 * bucket, key and the content's SHA-256; the ingest then finds it. An object written to the bucket
 * directly has no such record: its uploader is the OSS event's principal (`oss:<principalId>`).
 *
 * The record shares the idempotency-key rows (create-if-absent, so the first binding of a content
 * stays): its id holds a space, which an `Idempotency-Key` header can never contain, so no client
 * can forge or squat one.
 */
function uploaderKey(bucket: string, key: string, data: Uint8Array): string {
  return `uploader ${bucket}/${key} sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The API upload route, before it writes the object: `token:<name>` uploads this content. */
export async function recordApiUploader(
  store: RunStore,
  bucket: string,
  key: string,
  data: Uint8Array,
  tokenName: string,
  now: number,
): Promise<void> {
  await store.claimIdempotencyKey(uploaderKey(bucket, key, data), `token:${tokenName}`, now);
}

/** The ingest: the API uploader of exactly this content, else the OSS principal (undefined when the event named none). */
export async function uploaderOf(
  store: RunStore,
  bucket: string,
  key: string,
  data: Uint8Array,
  ossPrincipal: string | undefined,
  now: number,
): Promise<string | undefined> {
  const fallback = ossPrincipal ? `oss:${ossPrincipal}` : 'unknown';
  const claim = await store.claimIdempotencyKey(uploaderKey(bucket, key, data), fallback, now);
  return claim.request === 'unknown' ? undefined : claim.request;
}
