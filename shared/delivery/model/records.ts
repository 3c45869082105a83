import type { AppRef } from './ownership.ts';
import type { ReleasePlan } from './plan.ts';

/**
 * The records the run store keeps (shared/delivery/ports/run-store.port.ts): releases, per-application
 * records, ingest claims and outcomes, rejected uploads, idempotency keys; and the rules on their keys.
 */

export interface ObjectSource {
  bucket: string;
  key: string;
  etag: string;
}

/**
 * A rendered bundle, stored once: the snapshot of what a run deploys (like KubeVela's
 * ApplicationRevision). The row stays small whatever the bundle renders to: its plan names, per
 * step and cluster, the digests of the packs in object storage that hold the manifests.
 */
export interface Release {
  id: string;
  app: AppRef;
  publishVersion: string;
  contentHash: string;
  createdAt: number;
  plan: ReleasePlan;
  source: ObjectSource;
}

export interface FailedIngest {
  error: string;
  source: ObjectSource;
  at: number;
}

export interface AppRecord {
  app: AppRef;
  currentRunId?: string;
  lastReleaseId?: string;
  /** The last upload that could not become a release (a bad bundle), for `status`. */
  lastFailedIngest?: FailedIngest;
  updatedAt: number;
  /** Managed by the store. */
  version: number;
}

export type IngestKey = ObjectSource;

export interface IngestResult {
  outcome: 'run-started' | 'unchanged' | 'failed';
  runId?: string;
  releaseId?: string;
  error?: string;
}

export interface IngestRecord {
  key: IngestKey;
  status: 'in-progress' | 'completed';
  claimedAt: number;
  completedAt?: number;
  result?: IngestResult;
  /** Managed by the store. */
  version: number;
}

export type IngestClaim = { claimed: true; record: IngestRecord } | { claimed: false; record: IngestRecord };

/** An object under `bundles/` that was refused for its key alone, and never deployed. */
export interface RejectedUpload {
  source: ObjectSource;
  reason: string;
  at: number;
}

export interface IdempotencyClaim {
  claimed: boolean;
  /** The request the key is bound to (the first caller's). */
  request: string;
  claimedAt: number;
}

/** Idempotency keys share the ingest table; their row ids cannot collide with `bucket/key@etag`. */
export function idempotencyKeyRowId(key: string): string {
  return `idempotency-key:${key}`;
}

export const DEFAULT_INGEST_STALE_AFTER_MS = 5 * 60 * 1000;

export function ingestKeyString(key: IngestKey): string {
  return `${key.bucket}/${key.key}@${key.etag}`;
}

export const DEFAULT_MAX_BUNDLE_BYTES = 20 * 1024 * 1024;

/** OSS ETags travel quoted in HTTP headers and unquoted in events; compare them without quotes or case. */
export function sameEtag(a: string, b: string): boolean {
  const normalise = (etag: string) => etag.replace(/^W\//, '').replace(/"/g, '').toUpperCase();
  return normalise(a) === normalise(b);
}
