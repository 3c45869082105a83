import * as z from 'zod/mini';
import { decodeEvent, deployTaskSchema, timerEventSchema, type FcContext } from '#shared/model/events.ts';
import { noFaults, type FaultHook } from '#shared/ports/task-queue.port.ts';
import type { WorkflowDeps } from '#shared/usecases/deps.ts';
import { runDeployTask, type TaskResult } from '#shared/usecases/run-task.ts';
import { sweepRuns } from '#shared/usecases/sweep.ts';

const deployStepEventSchema = z.union([deployTaskSchema, timerEventSchema]);

/**
 * Async invocation: one task (one step on one cluster). Timer: the sweep (due retries, deadlines,
 * lost messages). `faults` exists for the local twin's chaos tests; FC never passes it.
 */
export function createDeployStepHandler(getDeps: () => Promise<WorkflowDeps>) {
  return async (event: Buffer, context: FcContext, faults: FaultHook = noFaults): Promise<TaskResult | { checked: number; advanced: number }> => {
    const deps = await getDeps();
    const parsed = deployStepEventSchema.parse(decodeEvent(event));
    if ('triggerTime' in parsed) {
      const log = deps.logger.child({ fn: 'deploy-step', requestId: context.requestId });
      const swept = await sweepRuns({ ...deps, logger: log });
      if (swept.advanced > 0) log.info('sweep advanced runs', swept);
      return swept;
    }
    const log = deps.logger.child({ fn: 'deploy-step', requestId: context.requestId, runId: parsed.runId });
    return runDeployTask({ ...deps, logger: log }, parsed, faults);
  };
}
