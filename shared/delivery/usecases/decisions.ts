import { ConflictError, NotFoundError, TricenterError } from '../../platform/errors.ts';
import type { AppRef } from '../model/ownership.ts';
import { transitionRun } from './transition-run.ts';
import type { Release } from '../model/records.ts';
import { next } from '../workflow/decider.ts';
import type { DecisionAudit, Run } from '../workflow/run.ts';
import type { WorkflowDeps } from './deps.ts';
import { performEffects } from './effects.ts';
import { currentRun, startReleaseRun } from './releases.ts';

export type DecisionAction = 'approve' | 'reject' | 'resume' | 'terminate';

export interface DecisionInput {
  app: AppRef;
  action: DecisionAction;
  by: string;
  comment?: string;
  /** Idempotency: the same id applied twice is recorded once (a retried HTTP request). */
  decisionId: string;
  /** How the decision came in (channel, source address, the digest shown): recorded with it. */
  audit?: DecisionAudit;
  /** The suspended step the decision is for; needed only when several are suspended at once (sub-steps of a step-group). */
  step?: string;
  /** The decider's groups (approval token configuration), for approval policies that name groups. */
  groups?: string[];
  /** Other identities of the decider (`oss:<principalId>`), compared with the run's uploader. */
  identities?: string[];
}

/**
 * A person's (or a bot's) decision on the application's current run. The write is conditional,
 * so of two approvals at once exactly one wins; the other finds the run no longer suspended and
 * gets a ConflictError (HTTP 409) saying why. A decision the step's approval policy refuses (not
 * an approver, the uploader) is recorded on the run (the audit) and then answered with FORBIDDEN (403),
 * also when the same decision id is sent again.
 */
export async function decide(deps: WorkflowDeps, input: DecisionInput): Promise<Run> {
  const { run } = await currentRun(deps.store, input.app);
  if (!run) throw new NotFoundError(`application ${input.app.namespace}/${input.app.name} has no run`);
  const now = deps.clock.now();
  const transition = await transitionRun(deps.store, run.id, (latest) => {
    const base = {
      by: input.by,
      decisionId: input.decisionId,
      ...(input.comment ? { comment: input.comment } : {}),
      ...(input.step ? { step: input.step } : {}),
      ...(input.audit ? { audit: input.audit } : {}),
      ...(input.groups && input.groups.length > 0 ? { groups: input.groups } : {}),
      ...(input.identities && input.identities.length > 0 ? { identities: input.identities } : {}),
    };
    switch (input.action) {
      case 'approve':
        return next(latest, { type: 'approved', ...base }, now);
      case 'resume':
        return next(latest, { type: 'resumed', ...base }, now);
      case 'reject':
        return next(latest, { type: 'rejected', ...base }, now);
      case 'terminate':
        return next(
          latest,
          {
            type: 'terminate',
            by: input.by,
            reason: input.comment ?? `terminated by ${input.by}`,
            decisionId: input.decisionId,
            ...(input.audit ? { audit: input.audit } : {}),
          },
          now,
        );
    }
  });
  if (!transition.changed) {
    const already = transition.run.decisions.find((d) => d.id === input.decisionId);
    if (already?.outcome === 'refused') throw refusedError(input, already.reason ?? 'refused by the approval policy');
    if (already) return transition.run;
    throw new ConflictError(
      `cannot ${input.action} ${input.app.namespace}/${input.app.name}: ${transition.ignoredReason ?? 'nothing to do'}`,
    );
  }
  if (transition.refused !== undefined) {
    deps.logger.child({ runId: run.id }).warn('decision refused', { action: input.action, by: input.by, reason: transition.refused });
    throw refusedError(input, transition.refused);
  }
  deps.logger.child({ runId: run.id }).info('decision recorded', { action: input.action, by: input.by, comment: input.comment });
  await performEffects(deps, transition.run, transition.effects);
  return transition.run;
}

function refusedError(input: DecisionInput, reason: string): TricenterError {
  return new TricenterError('FORBIDDEN', `cannot ${input.action} ${input.app.namespace}/${input.app.name}: ${reason}`);
}

export interface RollbackInput {
  app: AppRef;
  by: string;
  comment?: string;
  decisionId: string;
  audit?: DecisionAudit;
}

/**
 * Starts a run of the newest earlier release whose run succeeded (phase `running`). The rollback
 * is the new run's first decision (who, when, comment, how it came in), and the run it replaces,
 * when still active, is terminated with the same audit.
 */
export async function rollback(deps: WorkflowDeps, input: RollbackInput): Promise<Run> {
  const { app, by, comment } = input;
  const { run: current } = await currentRun(deps.store, app);
  if (!current) throw new NotFoundError(`application ${app.namespace}/${app.name} has no run`);
  const target = await lastGoodRelease(deps, app, current.releaseId);
  if (!target) throw new ConflictError(`cannot roll back ${app.namespace}/${app.name}: no earlier release ever reached running`);
  return startReleaseRun(deps, target, {
    by,
    reason: `rollback to publishVersion ${target.publishVersion} by ${by}${comment ? `: ${comment}` : ''}`,
    decision: {
      id: input.decisionId,
      kind: 'rollback',
      ...(comment ? { comment } : {}),
      ...(input.audit ? { audit: input.audit } : {}),
    },
  });
}

async function lastGoodRelease(deps: WorkflowDeps, app: AppRef, currentReleaseId: string): Promise<Release | undefined> {
  let cursor: string | undefined;
  do {
    const page = await deps.store.listRuns(app, { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const run of page.items) {
      if (run.phase !== 'running' || run.releaseId === currentReleaseId) continue;
      const release = await deps.store.getRelease(run.releaseId);
      if (release) return release;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return undefined;
}

export function parseDecisionAction(value: string): DecisionAction | 'rollback' {
  if (value === 'approve' || value === 'reject' || value === 'resume' || value === 'terminate' || value === 'rollback') return value;
  throw new TricenterError('NOT_FOUND', `unknown action "${value}": expected approve, reject, resume, terminate or rollback`);
}
