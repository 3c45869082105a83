import * as z from 'zod/mini';
import { fcHandler } from '#shared/platform/handler.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { deployTaskSchema } from '#shared/platform/triggers/async-invocation.ts';
import { timerEventSchema } from '#shared/platform/triggers/timer.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { runDeployTask, type TaskResult } from '#shared/delivery/usecases/run-task.ts';
import { sweepRuns } from '#shared/delivery/usecases/sweep.ts';
import { sweepDrift, type DriftRound } from '#shared/delivery/usecases/keep-state.ts';

const deployStepEventSchema = z.union([deployTaskSchema, timerEventSchema]);

export interface DeployStepOptions {
  /**
   * State keeping at most this often (default 0: at every timer event, once a minute in the cloud).
   * The local twin's timer fires every few seconds; drift need not be looked for that often.
   */
  keepStateEveryMs?: number;
}

/**
 * Async invocation: one task (one step on one cluster). Timer: the sweep (due retries, deadlines,
 * lost messages), then state keeping (drift found, healed or reported: keep-state.ts).
 */
export function createDeployStepHandler(getDeps: (context: FcContext) => Promise<WorkflowDeps>, options: DeployStepOptions = {}) {
  // Only a cadence hint (an instance is disposable): a new instance keeps state at its first timer event.
  let keptAt: number | undefined;
  return fcHandler({
    fn: 'deploy-step',
    trigger: deployStepEventSchema,
    deps: getDeps,
    async handle(event, { deps, log }): Promise<TaskResult | { checked: number; advanced: number; drift?: DriftRound }> {
      if ('triggerTime' in event) {
        const swept = await sweepRuns({ ...deps, logger: log });
        if (swept.advanced > 0) log.info('sweep advanced runs', swept);
        const now = deps.clock.now();
        if (keptAt !== undefined && now - keptAt < (options.keepStateEveryMs ?? 0)) return swept;
        keptAt = now;
        const drift = await sweepDrift({ ...deps, logger: log });
        if (drift.drifted > 0 || drift.unobserved.length > 0) log.info('drift round', { ...drift });
        return { ...swept, drift };
      }
      return runDeployTask({ ...deps, logger: log.child({ runId: event.runId }) }, event);
    },
  });
}
