import { ConflictError } from '../../platform/errors.ts';
import type { AppRef } from '../model/ownership.ts';
import { transitionRun } from './transition-run.ts';
import type { AppRecord, FailedIngest, Release } from '../model/records.ts';
import type { RunStore } from '../ports/run-store.port.ts';
import { next, startRun } from '../workflow/decider.ts';
import type { Decision, Run } from '../workflow/run.ts';
import type { WorkflowDeps } from './deps.ts';
import { performEffects } from './effects.ts';

/**
 * Starts a run of a release (a new upload, or a rollback to an earlier one): create the run, point
 * the application at it, terminate the run it replaces, then send the first tasks.
 */
export async function startReleaseRun(
  deps: WorkflowDeps,
  release: Release,
  why: { by: string; reason: string; uploadedBy?: string; decision?: Omit<Decision, 'at' | 'by'> },
): Promise<Run> {
  const now = deps.clock.now();
  const uploadedBy = why.uploadedBy !== undefined ? { uploadedBy: why.uploadedBy } : {};
  const transition = startRun({ id: deps.newId(), releaseId: release.id, plan: release.plan, ...uploadedBy }, now);
  // A person's decision that started the run (a rollback) is its first audit entry, created with it.
  if (why.decision) transition.run.decisions.push({ ...why.decision, by: why.by, at: now });
  const run = await deps.store.createRun(transition.run);
  const log = deps.logger.child({ runId: run.id });
  log.info('run started', { app: release.app, publishVersion: release.publishVersion, releaseId: release.id, why: why.reason });

  const previous = await updateAppRecord(deps, release.app, (record) => {
    const replaced = record.currentRunId;
    record.currentRunId = run.id;
    record.lastReleaseId = release.id;
    delete record.lastFailedIngest;
    return replaced;
  });
  if (previous && previous !== run.id) {
    const ended = await transitionRun(deps.store, previous, (old) =>
      next(
        old,
        {
          type: 'terminate',
          by: why.by,
          reason: `superseded by run ${run.id} (${why.reason})`,
          ...(why.decision?.audit ? { audit: why.decision.audit } : {}),
        },
        deps.clock.now(),
      ),
    );
    if (ended.changed) log.info('previous run terminated', { previousRunId: previous });
  }
  await performEffects(deps, run, transition.effects);
  return run;
}

/** Records an upload that could not become a release, for `status` to show. */
export async function recordFailedIngest(deps: WorkflowDeps, app: AppRef, failure: FailedIngest): Promise<void> {
  await updateAppRecord(deps, app, (record) => {
    record.lastFailedIngest = failure;
  });
}

/**
 * Read-modify-write of the per-application record, conditional on its version; on a conflict it
 * reloads and applies `change` again. Returns what `change` returned on the write that won.
 */
async function updateAppRecord<T>(deps: WorkflowDeps, app: AppRef, change: (record: AppRecord) => T): Promise<T> {
  for (let attempt = 1; attempt <= 10; attempt++) {
    const stored = await deps.store.getApp(app);
    const record: AppRecord = stored ? structuredClone(stored) : { app, updatedAt: 0, version: 0 };
    const result = change(record);
    record.updatedAt = deps.clock.now();
    try {
      await deps.store.saveApp(record, stored ? stored.version : null);
      return result;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  throw new ConflictError(`application ${app.namespace}/${app.name}: record still conflicting after 10 attempts`);
}

/** The run an application's record points at. */
export async function currentRun(store: RunStore, app: AppRef | AppRecord): Promise<{ record?: AppRecord; run?: Run }> {
  const record = 'version' in app ? app : await store.getApp(app);
  const run = record?.currentRunId ? await store.getRun(record.currentRunId) : undefined;
  return { ...(record ? { record } : {}), ...(run ? { run } : {}) };
}

/** The release of the application's current run: what its clusters and its traffic follow. */
export async function currentRelease(store: RunStore, app: AppRef | AppRecord): Promise<Release | undefined> {
  const { run } = await currentRun(store, app);
  return run ? store.getRelease(run.releaseId) : undefined;
}
