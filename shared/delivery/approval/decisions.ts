import type { AppRef } from '../model/ownership.ts';
import { decide, rollback, type DecisionAction } from '../usecases/decisions.ts';
import type { WorkflowDeps } from '../usecases/deps.ts';
import { currentRun } from '../usecases/releases.ts';
import type { DecisionAudit, Run } from '../workflow/run.ts';
import { bindIdempotencyKey } from './idempotency.ts';

export interface ApiDecision {
  app: AppRef;
  action: DecisionAction | 'rollback';
  by: string;
  comment?: string;
  /** The request's `Idempotency-Key`, if it sent one. */
  idempotencyKey?: string;
  /** Identifies the decision when no key was sent (a retry is then a new request). */
  requestId: string;
  /** The decider's groups and other identities (Principal), for the step's approval policy. */
  groups?: string[];
  identities?: string[];
  audit?: DecisionAudit;
}

/**
 * A decision through the API. With an `Idempotency-Key`, the key is first bound to this
 * application, action and current run (or its absence): a retry of the same request replays (the
 * decision id is the key, so the run records it once); the key sent with anything else is refused.
 * A rollback starts a new run, so its retry after success no longer matches the current run and is
 * refused rather than rolling back twice.
 */
export async function decideThroughApi(deps: WorkflowDeps, input: ApiDecision): Promise<Run> {
  const { app, action, by, comment } = input;
  if (input.idempotencyKey !== undefined) {
    // Bound even when the request then fails (no run, a conflict): a key is spent by its first use.
    const { run } = await currentRun(deps.store, app);
    await bindIdempotencyKey(
      deps.store,
      input.idempotencyKey,
      `${action} of ${app.namespace}/${app.name} (${run ? `run ${run.id}` : 'no run'})`,
      deps.clock.now(),
    );
  }
  if (action === 'rollback') return rollback(deps, app, by, comment);
  return decide(deps, {
    app,
    action,
    by,
    decisionId: input.idempotencyKey ?? input.requestId,
    ...(comment ? { comment } : {}),
    ...(input.groups ? { groups: input.groups } : {}),
    ...(input.identities ? { identities: input.identities } : {}),
    ...(input.audit ? { audit: input.audit } : {}),
  });
}
