import type { Page, PageRequest } from '../../platform/page.ts';
import type { AppRef } from '../model/ownership.ts';
import type {
  AppRecord,
  IdempotencyClaim,
  IngestClaim,
  IngestKey,
  IngestRecord,
  IngestResult,
  RejectedUpload,
  Release,
} from '../model/records.ts';
import type { Run, TaskReport } from '../workflow/run.ts';
import type { TrafficClaim } from '../../traffic/domain/claims.ts';

/**
 * Where releases, runs and per-application state live. Shaped for a wide-column store
 * (Tablestore): every write touches one row and is conditional (create-if-absent, or an integer
 * `version` that must match), and every listing is a range read on a primary-key prefix
 * (`namespace/name`) with a limit and an opaque cursor.
 *
 * Conflicts raise ConflictError (retryable): the caller reloads and decides again
 * (see `transitionRun`, shared/delivery/usecases/transition-run.ts). Reads return `undefined` when a row does not exist.
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

  /**
   * Writes one task's report to its own row (run id, step, cluster): creates it, or replaces it only
   * when the stored report is of an earlier attempt (the first report of an attempt stays). Returns
   * the report the row holds afterwards: the caller's, or the one that was there first.
   */
  recordTaskReport(report: TaskReport): Promise<TaskReport>;
  getTaskReport(runId: string, step: string, cluster: string): Promise<TaskReport | undefined>;
  /** Every task row of one step of a run, by cluster (a range read on the run and step). */
  listTaskReports(runId: string, step: string): Promise<TaskReport[]>;

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
