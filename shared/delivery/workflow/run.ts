import type { AppRef } from '../model/ownership.ts';
import type { DriftState } from '../model/drift.ts';
import type { ApprovalPolicy } from '../model/approval-policy.ts';

/**
 * The run record: the single source of truth of one workflow execution. Everything the decider
 * needs to continue after any process dies lives here (attempts, backoff, deadlines, decisions),
 * and the record is JSON-serialisable so every store can keep it as one row.
 */

/** KubeVela's application phases (`rendering` is the state of a run that has not started yet). */
export type RunPhase =
  | 'rendering'
  | 'runningWorkflow'
  | 'workflowSuspending'
  | 'workflowTerminated'
  | 'workflowFailed'
  | 'running'
  | 'unhealthy';

/** Phases after which no event changes the run any more. */
const ENDED_PHASES: ReadonlySet<RunPhase> = new Set(['workflowTerminated', 'workflowFailed', 'running', 'unhealthy']);

export type StepPhase = 'pending' | 'running' | 'suspended' | 'succeeded' | 'failed' | 'skipped';

/**
 * - `pending`: not sent yet (waiting for a parallelism slot);
 * - `sent`: attempt `attempt` is on the queue, no report yet;
 * - `waiting`: attempt `attempt` reported "not healthy yet" or a retryable failure; attempt + 1 goes
 *   out at `nextAttemptAt`;
 * - `done` / `failed`: final.
 */
export type TaskStatus = 'pending' | 'sent' | 'waiting' | 'done' | 'failed';

export interface TaskState {
  cluster: string;
  status: TaskStatus;
  /** The attempt currently out (or last reported); 0 before the first send. */
  attempt: number;
  lastSentAt?: number;
  nextAttemptAt?: number;
  /** The last report's explanation, e.g. `3/5 replicas ready`. */
  message?: string;
  finishedAt?: number;
}

export interface StepState {
  name: string;
  type: 'deploy' | 'suspend';
  /** The step-group this step is a sub-step of: consecutive steps of one group run side by side. */
  group?: string;
  /** Steps (or step-groups) that must have succeeded before this one starts. */
  dependsOn?: string[];
  /** Deploy steps: suspend for approval before starting (KubeVela `auto: false`). */
  needsApproval: boolean;
  parallelism: number;
  /** Deploy steps: always; suspend steps: only when the workflow gave a timeout (else they wait forever). */
  timeoutMs?: number;
  /** Suspend steps: resume by itself after this long. */
  durationMs?: number;
  phase: StepPhase;
  /**
   * Deploy steps over several clusters start verifying: each task checks ownership and dry-runs
   * its cluster's objects, and only when every cluster passed do the tasks run again for real, so
   * a step one cluster refuses writes nothing anywhere.
   */
  verifying?: boolean;
  /** Who must approve this step and how many (model/approval-policy.ts); absent: any one approver. */
  approval?: ApprovalPolicy;
  /** While suspended for approval under a policy with `remindEveryMs`: when the next reminder goes out. */
  remindAt?: number;
  /** What a suspended step waits for: a person's decision, or its duration to pass. */
  awaiting?: 'approval' | 'duration';
  startedAt?: number;
  /** startedAt + timeoutMs: deploy steps, and suspend steps with a timeout (reaching it fails the step). */
  deadline?: number;
  /** Suspend steps with a duration: when they resume by themselves. */
  resumeAt?: number;
  finishedAt?: number;
  message?: string;
  tasks: TaskState[];
}

/** `rollback` is recorded on the run it started (its first decision), with who asked and how. */
type DecisionKind = 'approve' | 'reject' | 'resume' | 'terminate' | 'rollback';

export interface Decision {
  /** Idempotency key: the same decision id applied twice is recorded once. */
  id: string;
  kind: DecisionKind;
  by: string;
  at: number;
  comment?: string;
  /** The step the decision acted on, when there was one. */
  step?: string;
  /**
   * `counted`: an approval under a policy that still waits for more; `refused`: the decider refused
   * it (not an allowed approver, or the uploader), recorded for the audit and answered with 403.
   * Absent: the decision acted.
   */
  outcome?: 'counted' | 'refused';
  /** Why a decision was refused, or how many approvals are still missing. */
  reason?: string;
  /** The decider's groups (from the approval token configuration), when it had any. */
  groups?: string[];
  /** How the decision came in, for the audit (absent on decisions recorded before it existed). */
  audit?: DecisionAudit;
}

/** Where a decision came from: the channel, the client's address, and what the person was shown. */
export interface DecisionAudit {
  /** `cli` is what the client says it is (the CLI sends `X-Tricenter-Client: cli`); `api` anything else on the API. */
  channel: 'page' | 'api' | 'cli' | 'link';
  /** The request's source address, as the HTTP trigger saw it. */
  source?: string;
  /** The review page's digest of what was shown (page and link decisions). */
  digest?: string;
  policyVersion?: string;
}

/** Timing rules of a run, persisted with it so that every process decides the same way. */
export interface RetryPolicy {
  /** First retry delay after a `waiting` report or a retryable failure. */
  backoffBaseMs: number;
  /** Backoff never exceeds this. */
  backoffMaxMs: number;
  /** A sent task without a report for this long is presumed lost and re-sent by the sweep. */
  resendAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { backoffBaseMs: 1_000, backoffMaxMs: 30_000, resendAfterMs: 60_000 };

/**
 * One drift finding of the sweep on a run that ended `running` and what it did (drift-history.ts
 * records them).
 */
export interface DriftEvent {
  at: number;
  cluster: string;
  /** `apps/v1 Deployment demo/web` (refKey). */
  object: string;
  state: Exclude<DriftState, 'in-sync'>;
  /** For `modified`: the first differing fields. */
  fields?: string[];
  /**
   * - `healed`: applied again (apply-once fields kept as the cluster has them);
   * - `heal-failed`: applied again and refused (`reason` says why); tried again next round;
   * - `reported`: left alone (`reason`: self-heal is off, or the object is not ours).
   */
  action: 'healed' | 'heal-failed' | 'reported';
  reason: string;
}

export interface Run {
  id: string;
  app: AppRef;
  releaseId: string;
  publishVersion: string;
  phase: RunPhase;
  steps: StepState[];
  /**
   * Index of the first step of the active unit (a top-level step, or the first sub-step of the
   * step-group whose turn it is); equals steps.length once every step succeeded.
   */
  currentStep: number;
  decisions: Decision[];
  policy: RetryPolicy;
  /**
   * Who uploaded the release (the API token's name, `token:<name>`; or the OSS uploader's principal,
   * `oss:<principalId>`): they never approve this run.
   */
  uploadedBy?: string;
  /** Why the run ended, in words a person reads (`rejected by alice`, which step timed out...). */
  reason?: string;
  /** Extra detail about the end, e.g. the comment of a rejection. */
  message?: string;
  /** The earliest moment something is due (retry, re-send, deadline, end of a suspension). */
  wakeAt?: number;
  createdAt: number;
  updatedAt: number;
  endedAt?: number;
  /** What the sweep found drifted on the clusters after the run succeeded, and did (drift-history.ts); newest last. */
  driftEvents?: DriftEvent[];
  /** Managed by the store: incremented by every conditional write. */
  version: number;
}

/** A queue message: "look at run R, step S, cluster C" for one attempt. `key` is its idempotency id. */
export interface DeployTask {
  runId: string;
  step: string;
  cluster: string;
  attempt: number;
  /** `runId/step/cluster/attempt`. */
  key: string;
}

export type TaskOutcome =
  | { kind: 'done'; message?: string }
  | { kind: 'waiting'; message: string }
  | { kind: 'failed'; message: string; retryable: boolean };

/**
 * One task's report in its own row of the run store (runId/step/cluster), apart from the run record:
 * the reports of a step fanned out to many clusters do not all rewrite, and race for, the one run
 * row. The run takes them in (`tasks-reported`) only when the step's aggregate changes
 * (task-reports.ts). A later attempt replaces the row; the first report of an attempt stays.
 */
export interface TaskReport {
  runId: string;
  step: string;
  cluster: string;
  attempt: number;
  outcome: TaskOutcome;
  at: number;
}

/** A person's decision on a suspended step; `step`, when given, must be the step that is suspended. */
export interface DecisionEvent {
  type: 'approved' | 'resumed' | 'rejected';
  by: string;
  comment?: string;
  decisionId: string;
  step?: string;
  /** The decider's groups from the approval token configuration (an approval policy may name groups). */
  groups?: string[];
  /** Other identities of the decider (`oss:<principalId>`), compared with the run's uploader. */
  identities?: string[];
  audit?: DecisionAudit;
}

export type RunEvent =
  | { type: 'started' }
  | { type: 'task-reported'; step: string; cluster: string; attempt: number; outcome: TaskOutcome }
  /** Reports of several tasks of one step, from their rows (task-reports.ts): each counts as its own `task-reported`. */
  | { type: 'tasks-reported'; step: string; reports: Array<Pick<TaskReport, 'cluster' | 'attempt' | 'outcome'>> }
  | DecisionEvent
  | { type: 'terminate'; by: string; reason: string; decisionId?: string; audit?: DecisionAudit }
  /** Time passed: deadlines, due retries, ends of suspensions, re-sends of tasks presumed lost. */
  | { type: 'tick'; resendAfterMs?: number };

export type Effect =
  | { type: 'send-tasks'; tasks: DeployTask[] }
  | { type: 'request-approval'; runId: string; step: string }
  /** A step still waits for approval after its policy's reminder interval; `missing` says what it waits for. */
  | { type: 'remind-approval'; runId: string; step: string; missing: string }
  /** A step waiting for approval was let through (enough approvals) or rejected: people are told. */
  | { type: 'approval-decided'; runId: string; step: string; decision: 'approved' | 'rejected'; by: string }
  | { type: 'schedule-wakeup'; runId: string; at: number }
  | { type: 'finish'; runId: string; phase: RunPhase; reason: string }
  /** The run ended `running`: prune what the previous release deployed and this one does not. */
  | { type: 'collect-garbage'; runId: string; releaseId: string }
  /**
   * A deploy step succeeded (its real writes, not its verifying pass): reconcile this application's
   * traffic now, so a new Ingress address reaches GTM in seconds rather than at the next tick.
   */
  | { type: 'reconcile-traffic'; runId: string; app: AppRef; step: string };

export interface Transition {
  run: Run;
  effects: Effect[];
  /** False when the event changed nothing; then `run` is the input object and there is nothing to write. */
  changed: boolean;
  /** Why an event changed nothing (a duplicate, an old attempt, a run that is not suspended...). */
  ignoredReason?: string;
  /**
   * The decision was refused by the step's approval policy (not an allowed approver, the uploader):
   * the run changed only by recording the refusal (audit), and the caller answers 403 with this.
   */
  refused?: string;
}

export function isEnded(run: Pick<Run, 'phase'>): boolean {
  return ENDED_PHASES.has(run.phase);
}

export function taskKey(runId: string, step: string, cluster: string, attempt: number): string {
  return `${runId}/${step}/${cluster}/${attempt}`;
}

/** Delay before attempt `attempt + 1` after attempt `attempt` asked to retry: base · 2^(attempt-1), capped. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const exponent = Math.max(0, attempt - 1);
  // 2^31 already exceeds any sensible cap; stop the exponent there so the product stays finite.
  return Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.min(exponent, 31));
}
