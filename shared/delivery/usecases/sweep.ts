import { errorMessage } from '../../platform/errors.ts';
import { transitionRun } from './transition-run.ts';
import { nextWithReports, stepsAwaitingReports } from '../workflow/task-reports.ts';
import { isEnded } from '../workflow/run.ts';
import type { WorkflowDeps } from './deps.ts';
import { performEffects } from './effects.ts';

/**
 * The timer's pass over every active run: due retries go out, deadlines fail their step, timed
 * suspensions resume, and tasks sent long ago without a report (a lost message) are re-sent.
 * Runs with nothing due are only read.
 */
export async function sweepRuns(deps: WorkflowDeps, tick: TickOptions = {}): Promise<{ checked: number; advanced: number }> {
  let checked = 0;
  let advanced = 0;
  let cursor: string | undefined;
  do {
    const page = await deps.store.listApps({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      if (!record.currentRunId) continue;
      checked++;
      try {
        if (await tickRun(deps, record.currentRunId, tick)) advanced++;
      } catch (err) {
        deps.logger.warn('sweep could not advance run', { runId: record.currentRunId, error: errorMessage(err) });
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { checked, advanced };
}

/**
 * `resendAfterMs` overrides the run's own: 0 re-sends every task sent and not reported, which is
 * right only when no message can still be on its way (the local twin starting after a crash: its
 * queue died with the process).
 */
export interface TickOptions {
  resendAfterMs?: number;
}

/** One `tick` for one run; true when it changed something. */
export async function tickRun(deps: WorkflowDeps, runId: string, tick: TickOptions = {}): Promise<boolean> {
  const run = await deps.store.getRun(runId);
  if (!run || isEnded(run)) return false;
  // Tasks that reported into their rows (workflow/task-reports.ts) are taken in first: done is done, not presumed lost.
  const reports = (await Promise.all(stepsAwaitingReports(run).map((step) => deps.store.listTaskReports(runId, step)))).flat();
  const transition = await transitionRun(deps.store, runId, (latest) =>
    nextWithReports(latest, reports, { type: 'tick', ...tick }, deps.clock.now()),
  );
  if (!transition.changed) return false;
  await performEffects(deps, transition.run, transition.effects);
  return true;
}
