import { errorMessage, isTricenterError } from '../../platform/errors.ts';
import { objectRef } from '../model/kube.ts';
import type { HealthReport } from '../ports/cluster-gateway.port.ts';
import { transitionRun } from './transition-run.ts';
import { currentTask, next } from '../workflow/decider.ts';
import type { DeployTask, Run, TaskOutcome } from '../workflow/run.ts';
import type { WorkflowDeps } from './deps.ts';
import { performEffects } from './effects.ts';

export type TaskResult = { handled: true; outcome: TaskOutcome } | { handled: false; reason: string };

/**
 * One task = one step on one cluster: read that cluster's manifests of the release (no others),
 * apply them, wait for health (bounded), record the outcome conditionally and advance the run. A
 * duplicate or late message (an old attempt, a finished task, an ended run) changes nothing.
 */
export async function runDeployTask(deps: WorkflowDeps, task: DeployTask): Promise<TaskResult> {
  const log = deps.logger.child({ runId: task.runId, step: task.step, cluster: task.cluster, attempt: task.attempt });
  const run = await deps.store.getRun(task.runId);
  if (!run || !currentTask(run, task)) {
    const reason = run ? `not the current attempt of a running step (run ${run.phase})` : `run ${task.runId} does not exist`;
    log.info('task ignored', { reason });
    return { handled: false, reason };
  }

  const outcome = await deployAndWait(deps, run, task);
  log.info('task reported', { outcome });
  const transition = await transitionRun(deps.store, task.runId, (latest) =>
    next(latest, { type: 'task-reported', step: task.step, cluster: task.cluster, attempt: task.attempt, outcome }, deps.clock.now()),
  );
  if (!transition.changed) {
    log.info('report changed nothing', { reason: transition.ignoredReason });
    return { handled: false, reason: transition.ignoredReason ?? 'no change' };
  }
  await performEffects(deps, transition.run, transition.effects);
  return { handled: true, outcome };
}

async function deployAndWait(deps: WorkflowDeps, run: Run, task: DeployTask): Promise<TaskOutcome> {
  const release = await deps.store.getRelease(run.releaseId);
  const step = release?.plan.steps.find((s) => s.name === task.step);
  const target = step?.type === 'deploy' ? step.targets.find((t) => t.cluster === task.cluster) : undefined;
  if (!target)
    return { kind: 'failed', message: `release ${run.releaseId} has no manifests for ${task.step} on ${task.cluster}`, retryable: false };

  try {
    const manifests = await deps.manifests.manifestsOf(target);
    if (run.steps.find((s) => s.name === task.step)?.verifying) {
      // The step's first pass: every cluster must accept every object before any cluster gets one.
      // Objects whose live state already is what we would apply (applied-hash.ts) get no dry run: nothing would be written.
      await deps.gateway.verify(task.cluster, manifests);
      return { kind: 'done', message: `${manifests.length} objects verified: ownership checked, every write passes a server-side dry run` };
    }
    await deps.gateway.apply(task.cluster, manifests);
    const refs = manifests.map(objectRef);
    const started = deps.clock.now();
    let report: HealthReport = await deps.gateway.health(task.cluster, refs);
    while (!report.healthy && deps.clock.now() - started + deps.healthWait.pollMs <= deps.healthWait.totalMs) {
      await new Promise((resolve) => setTimeout(resolve, deps.healthWait.pollMs));
      report = await deps.gateway.health(task.cluster, refs);
    }
    if (report.healthy) return { kind: 'done', message: `${refs.length} objects healthy` };
    const waiting = report.objects.filter((o) => !o.healthy).map((o) => `${o.ref.kind} ${o.ref.name}: ${o.reason ?? 'not healthy'}`);
    return { kind: 'waiting', message: waiting.join('; ') };
  } catch (err) {
    return { kind: 'failed', message: errorMessage(err), retryable: isTricenterError(err) ? err.retryable : true };
  }
}
