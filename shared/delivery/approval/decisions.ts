import type { AppRef } from '../model/ownership.ts';
import { decide, rollback, type DecisionAction } from '../usecases/decisions.ts';
import type { WorkflowDeps } from '../usecases/deps.ts';
import { currentRun } from '../usecases/releases.ts';
import type { DecisionAudit, Run } from '../workflow/run.ts';
import type { Principal } from './auth.ts';
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
  /** The decider's groups and other identities (Principal), for the step's approval policy: take them from `deciderOf`. */
  groups?: string[];
  identities?: string[];
  /** The waiting step the decision is for; without it, a decision while several steps wait is refused (409). */
  step?: string;
  audit?: DecisionAudit;
}

/**
 * Who decides, as every channel must pass it: the name, the groups (approval policies may name
 * them) and the other identities (`oss:<principalId>`, the uploads that are theirs: no
 * self-approval). The page, the API, the CLI (through the API) and links take it from here.
 */
export function deciderOf(principal: Principal): Pick<ApiDecision, 'by' | 'groups' | 'identities'> {
  return {
    by: principal.name,
    ...(principal.groups && principal.groups.length > 0 ? { groups: [...principal.groups] } : {}),
    ...(principal.identities && principal.identities.length > 0 ? { identities: [...principal.identities] } : {}),
  };
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
      `${action}${input.step !== undefined ? ` of step ${JSON.stringify(input.step)}` : ''} of ${app.namespace}/${app.name} (${run ? `run ${run.id}` : 'no run'})`,
      deps.clock.now(),
    );
  }
  const decisionId = input.idempotencyKey ?? input.requestId;
  if (action === 'rollback')
    return rollback(deps, { app, by, decisionId, ...(comment ? { comment } : {}), ...(input.audit ? { audit: input.audit } : {}) });
  return decide(deps, {
    app,
    action,
    by,
    decisionId,
    ...(comment ? { comment } : {}),
    ...(input.groups ? { groups: input.groups } : {}),
    ...(input.identities ? { identities: input.identities } : {}),
    ...(input.step !== undefined ? { step: input.step } : {}),
    ...(input.audit ? { audit: input.audit } : {}),
  });
}
