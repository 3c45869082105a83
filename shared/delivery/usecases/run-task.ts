import { errorMessage, isTricenterError } from '../../platform/errors.ts';
import { objectRef } from '../model/kube.ts';
import type { HealthReport } from '../ports/cluster-gateway.port.ts';
import { transitionRun } from './transition-run.ts';
import { currentTask, next } from '../workflow/decider.ts';
import type { DeployTask, Run, TaskOutcome, TaskReport, Transition } from '../workflow/run.ts';
import { aggregateChange, PASS_CLAIM_CLUSTER } from '../workflow/task-reports.ts';
import type { WorkflowDeps } from './deps.ts';
import { performEffects } from './effects.ts';

export type TaskResult = { handled: true; outcome: TaskOutcome } | { handled: false; reason: string };

/**
 * One task = one step on one cluster: read that cluster's manifests of the release (no others),
 * apply them, wait for health (bounded), record the outcome in the task's own row (conditional on
 * its attempt) and, when that changes the step's aggregate, advance the run (a conditional write of
 * the run record: workflow/task-reports.ts). A duplicate or late message (an old attempt, a finished
 * task, an ended run) changes nothing and touches no cluster; a repeated message of an attempt that
 * already reported (its run write failed, say) deploys nothing and only takes the rows in again.
 */
export async function runDeployTask(deps: WorkflowDeps, task: DeployTask): Promise<TaskResult> {
  const log = deps.logger.child({ runId: task.runId, step: task.step, cluster: task.cluster, attempt: task.attempt });
  const run = await deps.store.getRun(task.runId);
  const earlier = run && currentTask(run, task) ? await deps.store.getTaskReport(task.runId, task.step, task.cluster) : undefined;
  if (!run || !currentTask(run, task) || (earlier && earlier.attempt > task.attempt)) {
    const reason = !run ? `run ${task.runId} does not exist` : `not the current attempt of a running step (run ${run.phase})`;
    log.info('task ignored', { reason });
    return { handled: false, reason };
  }

  let outcome: TaskOutcome;
  const repeated = earlier?.attempt === task.attempt;
  if (earlier && repeated) {
    outcome = earlier.outcome;
    log.info('attempt already reported: its row is taken in, nothing is deployed', { outcome });
  } else {
    outcome = await deployAndWait(deps, run, task);
    log.info('task reported', { outcome });
    const report: TaskReport = { ...rowKey(task), outcome, at: deps.clock.now() };
    const stored = await deps.store.recordTaskReport(report);
    if (stored.attempt !== report.attempt || stored.at !== report.at || stored.outcome.kind !== outcome.kind) {
      const reason = `report for ${task.key} is a duplicate or stale (the row holds attempt ${stored.attempt}, ${stored.outcome.kind})`;
      log.info('report changed nothing', { reason });
      return { handled: false, reason };
    }
  }

  const transition = await takeIn(deps, task);
  if (transition?.changed) {
    await performEffects(deps, transition.run, transition.effects);
    return { handled: true, outcome };
  }
  if (repeated) return { handled: false, reason: `attempt ${task.attempt} of this task has already reported (${outcome.kind})` };
  return { handled: true, outcome };
}

function rowKey(task: DeployTask): Pick<TaskReport, 'runId' | 'step' | 'cluster' | 'attempt'> {
  return { runId: task.runId, step: task.step, cluster: task.cluster, attempt: task.attempt };
}

/**
 * Takes the step's rows into the run when they change its aggregate. The rows are listed after this
 * task's own row was written, so of the step's last reporters at least one sees every row. When the
 * rows only complete the pass, every reporter that sees them all would write the same run: they
 * claim the pass first (a small conditional row) and only the first claimant writes the run.
 */
async function takeIn(deps: WorkflowDeps, task: DeployTask): Promise<Transition | undefined> {
  const rows = await deps.store.listTaskReports(task.runId, task.step);
  const latest = await deps.store.getRun(task.runId);
  const change = latest && aggregateChange(latest, task.step, rows);
  if (!change) return undefined;
  if (change.completesPass !== undefined) {
    const claim: TaskReport = {
      runId: task.runId,
      step: task.step,
      cluster: PASS_CLAIM_CLUSTER,
      attempt: change.completesPass,
      outcome: { kind: 'done', message: `taken in by ${task.cluster} attempt ${task.attempt}` },
      at: deps.clock.now(),
    };
    const held = await deps.store.recordTaskReport(claim);
    if (held.attempt !== claim.attempt || held.outcome.message !== claim.outcome.message) return undefined;
  }
  return transitionRun(deps.store, task.runId, (run) => {
    const again = aggregateChange(run, task.step, rows);
    if (again) return next(run, again.event, deps.clock.now());
    return { run, effects: [], changed: false, ignoredReason: 'the rows were taken in meanwhile' };
  });
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
