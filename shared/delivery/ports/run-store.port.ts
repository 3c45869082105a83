import { ConflictError, NotFoundError } from '../../platform/errors.ts';
import type { ReleasePlan } from '../model/plan.ts';
import type { AppRef } from '../model/ownership.ts';
import type { Run, Transition } from '../workflow/run.ts';

/**
 * Where releases, runs and per-application state live. Shaped for a wide-column store
 * (Tablestore): every write touches one row and is conditional (create-if-absent, or an integer
 * `version` that must match), and every listing is a range read on a primary-key prefix
 * (`namespace/name`) with a limit and an opaque cursor.
 *
 * Conflicts raise ConflictError (retryable): the caller reloads and decides again
 * (see `transitionRun`). Reads return `undefined` when a row does not exist.
 */
export interface RunStore {
  /** Stores a release once; ConflictError when the id exists. */
  putRelease(release: Release): Promise<void>;
  getRelease(id: string): Promise<Release | undefined>;
  /** Newest first (createdAt, then id, descending). */
  listReleases(app: AppRef, page?: PageRequest): Promise<Page<Release>>;

  /** Stores a new run with version 1 and returns it; ConflictError when the id exists. */
  createRun(run: Run): Promise<Run>;
  getRun(id: string): Promise<Run | undefined>;
  /**
   * Replaces the run if its stored version is `expectedVersion`, and returns it with version + 1;
   * ConflictError otherwise (also when the run does not exist).
   */
  updateRun(run: Run, expectedVersion: number): Promise<Run>;
  /** Newest first (createdAt, then id, descending). */
  listRuns(app: AppRef, page?: PageRequest): Promise<Page<Run>>;

  getApp(app: AppRef): Promise<AppRecord | undefined>;
  /**
   * Writes the per-application record: `expectedVersion` null creates it (ConflictError when it
   * exists), a number replaces it only at that version. Returns it with the new version.
   */
  saveApp(record: AppRecord, expectedVersion: number | null): Promise<AppRecord>;
  /** Every application with a record (for the traffic reconciler and the sweep), by namespace/name. */
  listApps(page?: PageRequest): Promise<Page<AppRecord>>;

  /**
   * Claims an ingest key (bucket + key + etag). The first caller gets `{ claimed: true }`; later
   * callers get the existing record — unless that record is still `in-progress` and older than
   * `staleAfterMs`, because its owner died: then they take it over (also `claimed: true`).
   */
  claimIngest(key: IngestKey, now: number, options?: { staleAfterMs?: number }): Promise<IngestClaim>;
  /** Records the outcome of a claimed ingest; ConflictError when the claim was taken over meanwhile. */
  completeIngest(record: IngestRecord, result: IngestResult, now: number): Promise<IngestRecord>;

  /**
   * Records an object under `bundles/` whose key breaks the key rule (shared/delivery/model/bucket-key.ts),
   * once per bucket + key + eTag (create-if-absent): returns the record stored first.
   */
  recordRejectedUpload(upload: RejectedUpload): Promise<RejectedUpload>;
  /** Rejected uploads whose key starts with `keyPrefix` (a tenant's folder), in key order. */
  listRejectedUploads(keyPrefix: string, page?: PageRequest): Promise<Page<RejectedUpload>>;

  /**
   * Claims `claim.resource` for `claim.app` if nobody holds it (create-if-absent). Returns the claim
   * that holds the resource now: the caller's (new or held before, then unchanged), or another
   * application's, which the caller must treat as a refusal.
   */
  claimTraffic(claim: TrafficClaim): Promise<TrafficClaim>;
  getTrafficClaim(resource: string): Promise<TrafficClaim | undefined>;
  /** Releases every claim `app` holds (when the application is deleted); returns what was released. */
  releaseTrafficClaims(app: AppRef): Promise<TrafficClaim[]>;
  /** The ingest record of an object (what `tricenter upload` waits for), if its ingest has begun. */
  getIngest(key: IngestKey): Promise<IngestRecord | undefined>;

  /**
   * Binds an API `Idempotency-Key` to the request that first used it (create-if-absent, never
   * replaced): the first caller gets `claimed: true`; later callers get the first binding.
   */
  claimIdempotencyKey(key: string, request: string, now: number): Promise<IdempotencyClaim>;

  close(): Promise<void>;
}

export interface PageRequest {
  /** At most this many items (default 20, at most 100). */
  limit?: number;
  /** From a previous page's `nextCursor`. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when more items may follow. */
  nextCursor?: string;
}

const DEFAULT_PAGE_LIMIT = 20;
const MAX_PAGE_LIMIT = 100;

export function pageLimit(page: PageRequest | undefined): number {
  return Math.max(1, Math.min(MAX_PAGE_LIMIT, Math.floor(page?.limit ?? DEFAULT_PAGE_LIMIT)));
}

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

/**
 * One GTM resource held by one application. GTM 2.0 serves one domain per instance, so both the
 * instance and the domain are exclusive: a TrafficPolicy claims `trafficClaimResource('instance', id)`
 * and `trafficClaimResource('domain', fqdn)`, and holds them until its application is deleted.
 */
export interface TrafficClaim {
  resource: string;
  app: AppRef;
  /** The pair the policy named when the claim was made (resolved instance id, normalised domain). */
  instanceId: string;
  domain: string;
  claimedAt: number;
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

/**
 * Reads a run, applies `decide` and writes the result conditionally; on a conflict it reloads and
 * decides again (another writer moved the run on). Returns the last transition, whose effects the
 * caller performs only after this resolves — so effects follow a successful write, never precede it.
 */
export async function transitionRun(
  store: RunStore,
  runId: string,
  decide: (run: Run) => Transition,
  options: { maxAttempts?: number } = {},
): Promise<Transition> {
  const maxAttempts = options.maxAttempts ?? 10;
  let lastConflict: unknown;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const run = await store.getRun(runId);
    if (!run) throw new NotFoundError(`run ${runId} does not exist`);
    const transition = decide(run);
    if (!transition.changed) return transition;
    try {
      const stored = await store.updateRun(transition.run, run.version);
      return { ...transition, run: stored };
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      lastConflict = err;
    }
  }
  throw new ConflictError(`run ${runId}: still conflicting after ${maxAttempts} attempts`, { cause: lastConflict });
}
