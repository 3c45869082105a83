import { errorMessage } from '../../platform/errors.ts';
import type { Logger } from '../../platform/log.ts';
import { objectRef } from '../model/kube.ts';
import type { Effect, Run } from '../workflow/run.ts';
import type { WorkflowDeps } from './deps.ts';
import { notificationsFor, notify } from './notify.ts';

/**
 * Performs a transition's effects, always after its run was written. Effects are safe to repeat:
 * tasks are idempotent, wake-ups only tick, pruning deletes what is already gone without error.
 */
export async function performEffects(deps: WorkflowDeps, run: Run, effects: readonly Effect[]): Promise<void> {
  const log = deps.logger.child({ runId: run.id });
  for (const effect of effects) {
    switch (effect.type) {
      case 'send-tasks':
        await deps.queue.send(effect.tasks);
        log.info('tasks sent', { tasks: effect.tasks.map((t) => t.key) });
        break;
      case 'request-approval':
        log.info('waiting for approval', { app: run.app, step: effect.step });
        break;
      case 'remind-approval':
        log.info('still waiting for approval', { app: run.app, step: effect.step, missing: effect.missing });
        break;
      case 'schedule-wakeup':
        deps.scheduleWakeup?.(effect.runId, effect.at);
        break;
      case 'finish':
        log.info('run finished', { app: run.app, phase: effect.phase, reason: effect.reason });
        break;
      case 'collect-garbage':
        await collectGarbage(deps, run);
        break;
      case 'reconcile-traffic':
        await requestTrafficReconcile(deps, effect, log);
        break;
      case 'approval-decided':
        log.info('approval decided', { app: run.app, step: effect.step, decision: effect.decision, by: effect.by });
        break;
    }
  }
  // Last, after everything the workflow needs: a slow or failing robot delays nothing else and never throws.
  if (deps.notifications) {
    const messages = effects.flatMap((effect) => notificationsFor(run, effect, deps.notifications?.reviewLink));
    await notify({ ...deps.notifications, logger: log }, messages, run);
  }
}

/** A send that fails is only logged: the timer's reconcile catches up within a minute. */
async function requestTrafficReconcile(
  deps: WorkflowDeps,
  effect: Extract<Effect, { type: 'reconcile-traffic' }>,
  log: Logger,
): Promise<void> {
  if (!deps.trafficQueue) return;
  const { runId, app, step } = effect;
  try {
    await deps.trafficQueue.send([{ key: `step-finished/${runId}/${step}`, type: 'step-finished', app, step }]);
    log.info('traffic reconcile requested', { app, step });
  } catch (err) {
    log.warn('traffic reconcile request failed (the timer will catch up)', { app, step, error: errorMessage(err) });
  }
}

/**
 * Deletes, on every registry cluster, what tricenter owns for this application and the release no
 * longer wants (objects of earlier releases, clusters dropped from the topology), reading per
 * cluster only the release objects deployed there. A cluster that cannot be reached, or whose
 * release objects cannot be read, is logged and skipped: it never blocks the others.
 */
export async function collectGarbage(deps: WorkflowDeps, run: Run): Promise<void> {
  const log = deps.logger.child({ runId: run.id });
  const release = await deps.store.getRelease(run.releaseId);
  if (!release) {
    log.error('garbage collection skipped: release missing', { releaseId: run.releaseId });
    return;
  }
  if (release.plan.keepLegacyResources) {
    // A garbage-collect policy with keepLegacyResource: what earlier releases deployed stays until removed by hand.
    log.info('garbage collection skipped: the garbage-collect policy keeps legacy resources', { releaseId: run.releaseId });
    return;
  }
  const registry = await deps.registry();
  await Promise.all(
    registry.clusters.map(async ({ name }) => {
      try {
        // A pack that cannot be read (or fails its integrity check) aborts this cluster's prune: an incomplete keep list would delete live objects.
        const keep = (await deps.manifests.desiredOn(release.plan, name)).map(objectRef);
        const deleted = await deps.gateway.prune(name, run.app, keep);
        if (deleted.length > 0) log.info('pruned', { cluster: name, deleted });
      } catch (err) {
        log.warn('prune skipped for this cluster', { cluster: name, error: errorMessage(err) });
      }
    }),
  );
}
