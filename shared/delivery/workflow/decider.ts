import { TricenterError } from '../../platform/errors.ts';
import { approvalsSatisfy, isListedApprover, type ApprovalPolicy, type Approver } from '../model/approval-policy.ts';
import { DEFAULT_STEP_TIMEOUT_MS, type Plan, type PlanTarget } from '../model/plan.ts';
import {
  DEFAULT_RETRY_POLICY,
  backoffDelay,
  isEnded,
  taskKey,
  type Decision,
  type DecisionEvent,
  type DeployTask,
  type Effect,
  type RetryPolicy,
  type Run,
  type RunEvent,
  type RunPhase,
  type StepState,
  type TaskOutcome,
  type TaskState,
  type Transition,
} from './run.ts';

/**
 * The workflow decider: `next(run, event, now) -> { run, effects }`. Pure: no I/O, no clock, no
 * randomness; the input run is never mutated. The caller writes the new run conditionally on the
 * version it read and only then performs the effects; on a version conflict it reloads and decides
 * again, which is safe because every event is idempotent:
 * - a report counts once per attempt (key run/step/cluster/attempt); reports for an older attempt,
 *   a finished step or an ended run change nothing;
 * - a decision counts once per decision id.
 *
 * Choices where KubeVela leaves room:
 * - `rejected` ends the run `workflowFailed` with reason `rejected by <who>` (KubeVela fails the
 *   suspended step, hence the workflow); `terminate` ends it `workflowTerminated`.
 * - `approved` and `resumed` both continue a suspended step (the approval gate of an `auto: false`
 *   deploy step, or a suspend step); a suspend step with a duration also resumes by itself.
 * - A suspend step with a `timeout` fails (and the run with it) when that time passes without a
 *   decision, as KubeVela fails it; an approval gate and a suspend step without one wait forever.
 * - Steps run one after the other, except the sub-steps of a step-group (consecutive steps with the
 *   same `group`): when the group's turn comes, every sub-step whose `dependsOn` have succeeded
 *   starts, side by side; the group is done when all its sub-steps are. A decision names the
 *   suspended step it is for when several are suspended at once. When a step fails, its running
 *   siblings stop too (failed, "stopped") and the run fails.
 * - A re-send (after backoff, or by the sweep when a message seems lost) is a new attempt with a
 *   new key, so a queue that de-duplicates by key (FC async invoke) still delivers it.
 * - Deadlines and time-based work happen on `tick` only; a report or decision never fails a run.
 * - A step with an approval policy (model/approval-policy.ts) continues only when enough distinct
 *   allowed approvers approved; each earlier approval is recorded `counted`. An approval (or resume)
 *   by someone the policy does not list, or by the run's uploader, is refused: recorded `refused`
 *   (the audit) and reported in `Transition.refused`. A reject needs a comment and fails the step.
 *   The policy's timeout fails (or terminates) the run, never approves; its reminders are effects.
 */

export interface CreateRunInput {
  id: string;
  releaseId: string;
  plan: Plan<PlanTarget>;
  policy?: Partial<RetryPolicy>;
  /** Who uploaded the release (`token:<name>`, `oss:<principal>`): never an approver of this run. */
  uploadedBy?: string;
}

/** The initial run (phase `rendering`, every step pending). Throws when step names repeat or a dependsOn names no step. */
export function createRun(input: CreateRunInput, now: number): Run {
  const seen = new Set<string>();
  const groups = new Set(input.plan.steps.map((s) => s.group).filter((g): g is string => g !== undefined));
  for (const [index, step] of input.plan.steps.entries()) {
    if (seen.has(step.name)) {
      throw new TricenterError('VALIDATION', `plan step ${index} ("${step.name}"): step names must be unique within a workflow`);
    }
    seen.add(step.name);
  }
  for (const [index, step] of input.plan.steps.entries()) {
    const unknown = (step.dependsOn ?? []).filter((name) => !seen.has(name) && !groups.has(name));
    if (unknown.length > 0) {
      throw new TricenterError('VALIDATION', `plan step ${index} ("${step.name}"): dependsOn names no step: ${unknown.join(', ')}`);
    }
  }
  const steps: StepState[] = input.plan.steps.map((step) => {
    const base: Pick<StepState, 'name' | 'phase' | 'group' | 'dependsOn'> = { name: step.name, phase: 'pending' };
    if (step.group !== undefined) base.group = step.group;
    if (step.dependsOn !== undefined) base.dependsOn = [...step.dependsOn];
    if (step.type === 'suspend') {
      const suspend: StepState = { ...base, type: 'suspend', needsApproval: false, parallelism: 0, tasks: [] };
      if (step.durationMs !== undefined) suspend.durationMs = step.durationMs;
      if (step.timeoutMs !== undefined) suspend.timeoutMs = step.timeoutMs;
      if (step.approval !== undefined && step.durationMs === undefined) suspend.approval = structuredClone(step.approval);
      return suspend;
    }
    const deploy: StepState = {
      ...base,
      type: 'deploy',
      timeoutMs: step.timeoutMs,
      needsApproval: step.needsApproval,
      parallelism: Math.max(1, step.parallelism),
      tasks: step.targets.map((target): TaskState => ({ cluster: target.cluster, status: 'pending', attempt: 0 })),
    };
    if (step.approval !== undefined && step.needsApproval) deploy.approval = structuredClone(step.approval);
    return deploy;
  });
  return {
    id: input.id,
    app: { namespace: input.plan.app.namespace, name: input.plan.app.name },
    releaseId: input.releaseId,
    publishVersion: input.plan.publishVersion,
    phase: 'rendering',
    steps,
    currentStep: 0,
    decisions: [],
    policy: { ...DEFAULT_RETRY_POLICY, ...input.policy },
    createdAt: now,
    updatedAt: now,
    version: 0,
    ...(input.uploadedBy !== undefined ? { uploadedBy: input.uploadedBy } : {}),
  };
}

/** createRun followed by the `started` event: the record to create and the first effects. */
export function startRun(input: CreateRunInput, now: number): Transition {
  return next(createRun(input, now), { type: 'started' }, now);
}

/**
 * The task state a queue message stands for, when that message is still worth acting on: the run
 * is active, the step is running, and the task awaits exactly this attempt's report. A handler
 * checks this before applying anything, so a late or duplicate message (or one of a run that a
 * newer release terminated) never touches a cluster.
 */
export function currentTask(run: Run, message: Pick<DeployTask, 'step' | 'cluster' | 'attempt'>): TaskState | undefined {
  if (isEnded(run)) return undefined;
  const step = run.steps.find((s) => s.name === message.step);
  if (step?.phase !== 'running') return undefined;
  const task = step.tasks.find((t) => t.cluster === message.cluster);
  return task && task.status === 'sent' && task.attempt === message.attempt ? task : undefined;
}

interface Context {
  run: Run;
  now: number;
  sends: DeployTask[];
  effects: Effect[];
  /** Set when the event was a decision the step's approval policy refused (recorded for the audit). */
  refused?: string;
  /** advance() is on the stack: a nested call only asks it to look again. */
  advancing?: boolean;
  again?: boolean;
}

export function next(run: Run, event: RunEvent, now: number): Transition {
  if (isEnded(run)) return unchanged(run, `run ${run.id} has ended (${run.phase})`);
  const ctx: Context = { run: cloneRun(run), now, sends: [], effects: [] };
  const ignoredReason = apply(ctx, event);
  if (ignoredReason !== undefined) return unchanged(run, ignoredReason);

  const draft = ctx.run;
  draft.updatedAt = now;
  const effects: Effect[] = [];
  if (ctx.sends.length > 0) effects.push({ type: 'send-tasks', tasks: ctx.sends });
  effects.push(...ctx.effects);
  const wakeAt = isEnded(draft) ? undefined : earliestDue(draft);
  if (wakeAt === undefined) delete draft.wakeAt;
  else draft.wakeAt = wakeAt;
  if (wakeAt !== undefined && wakeAt !== run.wakeAt) effects.push({ type: 'schedule-wakeup', runId: draft.id, at: wakeAt });
  return ctx.refused === undefined ? { run: draft, effects, changed: true } : { run: draft, effects, changed: true, refused: ctx.refused };
}

function unchanged(run: Run, ignoredReason: string): Transition {
  return { run, effects: [], changed: false, ignoredReason };
}

/**
 * A deep copy of a JSON-shaped value (the run record is one: see run.ts), sharing nothing mutable
 * with it. structuredClone did the same for every event at several times the cost, and a report on
 * a step over n clusters copies all n tasks: the copy is on the hot path of every fan-out.
 */
function cloneRun<T>(value: T): T {
  if (Array.isArray(value)) return value.map(cloneRun) as T;
  if (value === null || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = cloneRun((value as Record<string, unknown>)[key]);
  return copy as T;
}

/** Applies one event to the draft; returns why nothing changed, or undefined when something did. */
function apply(ctx: Context, event: RunEvent): string | undefined {
  switch (event.type) {
    case 'started':
      if (ctx.run.phase !== 'rendering') return `run ${ctx.run.id} has already started`;
      advance(ctx);
      return undefined;
    case 'task-reported':
      return onReport(ctx, event.step, event.cluster, event.attempt, event.outcome);
    case 'tasks-reported':
      return onReports(ctx, event.step, event.reports);
    case 'approved':
    case 'resumed':
      return onContinue(ctx, event);
    case 'rejected':
      return onReject(ctx, event);
    case 'terminate':
      return onTerminate(ctx, event);
    case 'tick':
      return onTick(ctx, event.resendAfterMs ?? ctx.run.policy.resendAfterMs);
  }
}

/** Steps that have started and not finished: running, or suspended. */
function activeSteps(run: Run): StepState[] {
  return run.steps.filter((s) => s.phase === 'running' || s.phase === 'suspended');
}

/** The run order's units: a top-level step alone, or the consecutive sub-steps of one step-group. */
function unitOf(run: Run, start: number): { start: number; end: number } {
  const group = run.steps[start]?.group;
  let end = start + 1;
  while (group !== undefined && end < run.steps.length && run.steps[end]?.group === group) end += 1;
  return { start, end };
}

function unitSucceeded(run: Run, start: number): boolean {
  const { end } = unitOf(run, start);
  return run.steps.slice(start, end).every((s) => s.phase === 'succeeded');
}

/** A dependency is met when the step it names, or every sub-step of the group it names, succeeded. */
function dependencyMet(run: Run, name: string): boolean {
  const step = run.steps.find((s) => s.name === name);
  if (step) return step.phase === 'succeeded';
  return run.steps.filter((s) => s.group === name).every((s) => s.phase === 'succeeded');
}

/**
 * Starts whatever may start now: the first unit not yet succeeded, and in it every pending step
 * whose dependsOn succeeded; a unit done moves on to the next; all done ends the run `running`.
 */
function advance(ctx: Context): void {
  if (ctx.advancing) {
    ctx.again = true;
    return;
  }
  ctx.advancing = true;
  try {
    const { run } = ctx;
    do {
      ctx.again = false;
      if (isEnded(run)) return;
      let start = 0;
      while (start < run.steps.length && unitSucceeded(run, start)) start = unitOf(run, start).end;
      if (start >= run.steps.length) {
        run.currentStep = run.steps.length;
        end(ctx, 'running', 'all steps succeeded');
        return;
      }
      const unit = unitOf(run, start);
      run.currentStep = unit.start;
      const members = run.steps.slice(unit.start, unit.end);
      for (const step of members) {
        if (step.phase !== 'pending' || !(step.dependsOn ?? []).every((name) => dependencyMet(run, name))) continue;
        enter(ctx, step);
        if (isEnded(run)) return;
      }
      if (!ctx.again && !members.some((s) => s.phase !== 'pending' && s.phase !== 'succeeded')) {
        // Nothing runs and nothing could start: only a plan whose dependsOn loop can get here (ingest refuses those).
        const waiting = members.filter((s) => s.phase === 'pending').map((s) => s.name);
        failStep(ctx, members.find((s) => s.phase === 'pending') as StepState, `steps ${waiting.join(', ')} wait for each other`);
        return;
      }
    } while (ctx.again);
    run.phase = activeSteps(run).some((s) => s.phase === 'running') ? 'runningWorkflow' : 'workflowSuspending';
  } finally {
    ctx.advancing = false;
  }
}

function enter(ctx: Context, step: StepState): void {
  if (step.type === 'suspend') {
    suspend(ctx, step, step.durationMs === undefined ? 'approval' : 'duration');
    if (step.durationMs !== undefined) step.resumeAt = ctx.now + step.durationMs;
    if (step.timeoutMs !== undefined) step.deadline = ctx.now + step.timeoutMs;
    return;
  }
  if (step.needsApproval) {
    suspend(ctx, step, 'approval');
    return;
  }
  startDeploy(ctx, step);
}

function suspend(ctx: Context, step: StepState, awaiting: 'approval' | 'duration'): void {
  ctx.run.phase = 'workflowSuspending';
  step.phase = 'suspended';
  step.awaiting = awaiting;
  step.startedAt = ctx.now;
  if (awaiting !== 'approval') return;
  ctx.effects.push({ type: 'request-approval', runId: ctx.run.id, step: step.name });
  const policy = step.approval;
  if (policy?.remindEveryMs !== undefined) step.remindAt = ctx.now + policy.remindEveryMs;
  if (policy?.timeoutMs !== undefined) {
    const approvalDeadline = ctx.now + policy.timeoutMs;
    // A suspend step's own timeout may come first; a deploy step's deadline is set when it starts.
    step.deadline = step.type === 'suspend' && step.deadline !== undefined ? Math.min(step.deadline, approvalDeadline) : approvalDeadline;
  }
}

/** Approvals of `step` that counted (every distinct approver once), with the groups they had. */
function countedApprovals(run: Run, step: StepState): Approver[] {
  const byName = new Map<string, Approver>();
  for (const d of run.decisions) {
    if (d.step !== step.name || (d.kind !== 'approve' && d.kind !== 'resume') || d.outcome === 'refused') continue;
    if (!byName.has(d.by)) byName.set(d.by, { name: d.by, groups: d.groups ?? [] });
  }
  return [...byName.values()];
}

/** What a policy still waits for, in words: `1 more approval (ops: 1 more)`. */
function missingApprovals(policy: ApprovalPolicy, approvals: readonly Approver[]): string {
  const more = Math.max(0, policy.required - approvals.length);
  const groups = Object.entries(policy.perGroup ?? {})
    .map(([group, minimum]) => [group, minimum - approvals.filter((a) => a.groups.includes(group)).length] as const)
    .filter(([, missing]) => missing > 0)
    .map(([group, missing]) => `${group}: ${missing} more`);
  const total = Math.max(more, groups.length > 0 ? 1 : 0);
  return `${total} more approval${total === 1 ? '' : 's'}${groups.length > 0 ? ` (${groups.join(', ')})` : ''}`;
}

function isUploader(run: Run, event: DecisionEvent): boolean {
  const { uploadedBy } = run;
  return uploadedBy !== undefined && (uploadedBy === `token:${event.by}` || (event.identities ?? []).includes(uploadedBy));
}

/** Why `event`'s decider may not approve `step` under its policy, or undefined when they may. */
function refusal(run: Run, step: StepState, policy: ApprovalPolicy, event: DecisionEvent): string | undefined {
  if (isUploader(run, event)) return `${event.by} uploaded this release and may not approve it (no self-approval)`;
  if (!isListedApprover(policy, { name: event.by, groups: event.groups ?? [] })) {
    return `${event.by} is not an approver of step "${step.name}" (approvers: ${(policy.approvers ?? []).join(', ')})`;
  }
  return undefined;
}

/** A step that finished well: the run moves on. */
function succeed(ctx: Context, step: StepState): void {
  step.phase = 'succeeded';
  step.finishedAt = ctx.now;
  delete step.awaiting;
  delete step.resumeAt;
  advance(ctx);
}

function startDeploy(ctx: Context, step: StepState): void {
  ctx.run.phase = 'runningWorkflow';
  step.phase = 'running';
  delete step.awaiting;
  step.startedAt = ctx.now;
  step.deadline = ctx.now + (step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS);
  if (step.tasks.length > 1) step.verifying = true;
  fillSlots(ctx, step);
  completeIfDone(ctx, step);
}

/** Sends pending tasks while fewer than `parallelism` are in flight (sent or waiting to retry). */
function fillSlots(ctx: Context, step: StepState): void {
  let inFlight = step.tasks.filter((t) => t.status === 'sent' || t.status === 'waiting').length;
  for (const task of step.tasks) {
    if (inFlight >= step.parallelism) break;
    if (task.status !== 'pending') continue;
    send(ctx, step, task);
    inFlight += 1;
  }
}

function send(ctx: Context, step: StepState, task: TaskState): void {
  task.attempt += 1;
  task.status = 'sent';
  task.lastSentAt = ctx.now;
  delete task.nextAttemptAt;
  const { id } = ctx.run;
  ctx.sends.push({
    runId: id,
    step: step.name,
    cluster: task.cluster,
    attempt: task.attempt,
    key: taskKey(id, step.name, task.cluster, task.attempt),
  });
}

function completeIfDone(ctx: Context, step: StepState): void {
  if (!step.tasks.every((t) => t.status === 'done')) return;
  if (step.verifying) {
    // Every cluster accepted the whole step: now the real writes, as new attempts of the same tasks.
    delete step.verifying;
    for (const task of step.tasks) {
      task.status = 'pending';
      delete task.finishedAt;
    }
    fillSlots(ctx, step);
    return;
  }
  // A step without clusters changed nothing that traffic could follow.
  if (step.tasks.length > 0) ctx.effects.push({ type: 'reconcile-traffic', runId: ctx.run.id, app: ctx.run.app, step: step.name });
  succeed(ctx, step);
}

function onReport(ctx: Context, stepName: string, cluster: string, attempt: number, outcome: TaskOutcome): string | undefined {
  const { run, now } = ctx;
  const step = run.steps.find((s) => s.name === stepName);
  if (step?.phase !== 'running') {
    return `step "${stepName}" is not running in run ${run.id}`;
  }
  const task = step.tasks.find((t) => t.cluster === cluster);
  if (!task) return `step "${stepName}" has no cluster "${cluster}"`;
  if (task.status !== 'sent' || task.attempt !== attempt) {
    return `report for ${taskKey(run.id, stepName, cluster, attempt)} is a duplicate or stale (task is ${task.status}, attempt ${task.attempt})`;
  }
  if (outcome.kind === 'done') {
    task.status = 'done';
    task.finishedAt = now;
    if (outcome.message !== undefined) task.message = outcome.message;
    else delete task.message;
    fillSlots(ctx, step);
    completeIfDone(ctx, step);
    return undefined;
  }
  task.message = outcome.message;
  if (outcome.kind === 'failed' && !outcome.retryable) {
    task.status = 'failed';
    task.finishedAt = now;
    const applied = step.verifying ? ' (verification: nothing of this step was applied on any cluster)' : '';
    failStep(ctx, step, `step "${step.name}" failed on ${cluster}${applied}: ${outcome.message}`);
    return undefined;
  }
  task.status = 'waiting';
  task.nextAttemptAt = now + backoffDelay(run.policy, task.attempt);
  return undefined;
}

/** Each report as its own `task-reported`, in order; changed when any of them changed the run. */
function onReports(
  ctx: Context,
  stepName: string,
  reports: ReadonlyArray<{ cluster: string; attempt: number; outcome: TaskOutcome }>,
): string | undefined {
  let changed = false;
  let ignored: string | undefined;
  for (const report of reports) {
    const reason = onReport(ctx, stepName, report.cluster, report.attempt, report.outcome);
    if (reason === undefined) changed = true;
    else ignored ??= reason;
  }
  return changed ? undefined : (ignored ?? `no reports for step "${stepName}"`);
}

function findDecision(run: Run, id: string): Decision | undefined {
  return run.decisions.find((d) => d.id === id);
}

function recordDecision(ctx: Context, decision: Omit<Decision, 'at'>): void {
  const entry: Decision = { ...decision, at: ctx.now };
  if (entry.comment === undefined) delete entry.comment;
  if (entry.step === undefined) delete entry.step;
  ctx.run.decisions.push(entry);
}

/** The suspended step a decision may act on, or why there is none. */
function suspendedStep(run: Run, named: string | undefined): StepState | string {
  const suspended = run.steps.filter((s) => s.phase === 'suspended');
  const [only] = suspended;
  if (!only) return `run ${run.id} is not waiting for a decision (phase ${run.phase})`;
  const names = suspended.map((s) => `"${s.name}"`).join(', ');
  if (named === undefined) {
    return suspended.length === 1 ? only : `run ${run.id} is suspended at several steps (${names}); name the step the decision is for`;
  }
  return (
    suspended.find((s) => s.name === named) ??
    `step ${JSON.stringify(named)} is not waiting for a decision in run ${run.id} (waiting: ${names})`
  );
}

function onContinue(ctx: Context, event: DecisionEvent): string | undefined {
  const { run } = ctx;
  if (findDecision(run, event.decisionId)) return `decision ${event.decisionId} was already applied`;
  const step = suspendedStep(run, event.step);
  if (typeof step === 'string') return step;
  const kind = event.type === 'approved' ? 'approve' : 'resume';
  const decision: Omit<Decision, 'at'> = { id: event.decisionId, kind, by: event.by, comment: event.comment, step: step.name };
  if (event.groups !== undefined && event.groups.length > 0) decision.groups = [...event.groups];
  if (event.audit) decision.audit = { ...event.audit };
  const policy = step.approval;
  if (policy !== undefined && step.awaiting === 'approval') {
    const refused = refusal(run, step, policy, event);
    if (refused !== undefined) {
      recordDecision(ctx, { ...decision, outcome: 'refused', reason: refused });
      ctx.refused = refused;
      return undefined;
    }
    const before = countedApprovals(run, step);
    if (before.some((a) => a.name === event.by)) {
      return `${event.by} has already approved step "${step.name}"; it waits for ${missingApprovals(policy, before)}`;
    }
    const after = [...before, { name: event.by, groups: event.groups ?? [] }];
    if (!approvalsSatisfy(policy, after)) {
      recordDecision(ctx, { ...decision, outcome: 'counted', reason: `waiting for ${missingApprovals(policy, after)}` });
      return undefined;
    }
  }
  recordDecision(ctx, decision);
  delete step.remindAt;
  if (step.awaiting === 'approval') {
    ctx.effects.push({ type: 'approval-decided', runId: run.id, step: step.name, decision: 'approved', by: event.by });
  }
  if (step.type === 'suspend') {
    delete step.deadline;
    succeed(ctx, step);
  } else {
    startDeploy(ctx, step);
    advance(ctx);
  }
  return undefined;
}

function onReject(ctx: Context, event: DecisionEvent): string | undefined {
  const { run } = ctx;
  if (findDecision(run, event.decisionId)) return `decision ${event.decisionId} was already applied`;
  const step = suspendedStep(run, event.step);
  if (typeof step === 'string') return step;
  const policy = step.approval;
  const decision: Omit<Decision, 'at'> = { id: event.decisionId, kind: 'reject', by: event.by, comment: event.comment, step: step.name };
  if (event.groups !== undefined && event.groups.length > 0) decision.groups = [...event.groups];
  if (event.audit) decision.audit = { ...event.audit };
  if (policy !== undefined && step.awaiting === 'approval') {
    if (!event.comment?.trim()) return `a reject of step "${step.name}" needs a comment saying why`;
    // The uploader may withdraw their own release; anyone else must be an approver of the step.
    if (!isUploader(run, event) && !isListedApprover(policy, { name: event.by, groups: event.groups ?? [] })) {
      const refused = `${event.by} is not an approver of step "${step.name}" (approvers: ${(policy.approvers ?? []).join(', ')})`;
      recordDecision(ctx, { ...decision, outcome: 'refused', reason: refused });
      ctx.refused = refused;
      return undefined;
    }
  }
  recordDecision(ctx, decision);
  delete step.remindAt;
  if (step.awaiting === 'approval') {
    ctx.effects.push({ type: 'approval-decided', runId: run.id, step: step.name, decision: 'rejected', by: event.by });
  }
  delete step.awaiting;
  delete step.deadline;
  failStep(ctx, step, `rejected by ${event.by}`, event.comment);
  return undefined;
}

function onTerminate(ctx: Context, event: Extract<RunEvent, { type: 'terminate' }>): string | undefined {
  const { run } = ctx;
  if (event.decisionId !== undefined && findDecision(run, event.decisionId)) return `decision ${event.decisionId} was already applied`;
  const active = activeSteps(run);
  recordDecision(ctx, {
    id: event.decisionId ?? `terminate-${run.id}-${run.decisions.length + 1}`,
    kind: 'terminate',
    by: event.by,
    comment: event.reason,
    step: active[0]?.name ?? run.steps[run.currentStep]?.name,
    ...(event.audit ? { audit: { ...event.audit } } : {}),
  });
  const reason = `terminated by ${event.by}: ${event.reason}`;
  for (const step of active) stop(ctx, step, reason);
  skipRemaining(run);
  end(ctx, 'workflowTerminated', reason);
  return undefined;
}

function onTick(ctx: Context, resendAfterMs: number): string | undefined {
  const { run, now } = ctx;
  if (run.phase === 'rendering') return 'nothing is due';
  let changed = false;
  for (const step of activeSteps(run)) {
    if (isEnded(run)) break;
    if (step.phase !== 'running' && step.phase !== 'suspended') continue;
    if (step.phase === 'suspended') {
      if (step.resumeAt !== undefined && now >= step.resumeAt) {
        delete step.deadline;
        succeed(ctx, step);
        changed = true;
      } else if (approvalExpired(step, now)) {
        expireApproval(ctx, step);
        changed = true;
      } else if (step.deadline !== undefined && now >= step.deadline) {
        delete step.awaiting;
        failStep(
          ctx,
          step,
          `step "${step.name}" was suspended longer than its timeout of ${formatDuration(step.timeoutMs ?? 0)} without a decision`,
        );
        changed = true;
      } else if (step.remindAt !== undefined && now >= step.remindAt && step.approval?.remindEveryMs !== undefined) {
        const missing = missingApprovals(step.approval, countedApprovals(run, step));
        ctx.effects.push({ type: 'remind-approval', runId: run.id, step: step.name, missing });
        // One reminder however late the tick: the next is an interval after now, not a backlog.
        step.remindAt += step.approval.remindEveryMs;
        if (step.remindAt <= now) step.remindAt = now + step.approval.remindEveryMs;
        changed = true;
      }
      continue;
    }
    if (step.deadline !== undefined && now >= step.deadline) {
      failStep(ctx, step, deadlineReason(step));
      changed = true;
      continue;
    }
    for (const task of step.tasks) {
      const retryDue = task.status === 'waiting' && (task.nextAttemptAt ?? 0) <= now;
      const presumedLost = task.status === 'sent' && (task.lastSentAt ?? 0) + resendAfterMs <= now;
      if (retryDue || presumedLost) {
        send(ctx, step, task);
        changed = true;
      }
    }
  }
  return changed ? undefined : 'nothing is due';
}

/** The approval policy's own timeout has passed (a suspend step's `timeoutMs` may come first; that one fails as before). */
function approvalExpired(step: StepState, now: number): boolean {
  const timeoutMs = step.approval?.timeoutMs;
  return step.awaiting === 'approval' && timeoutMs !== undefined && step.startedAt !== undefined && now >= step.startedAt + timeoutMs;
}

/** No decision within the policy's timeout: the step fails, or the run is terminated. Never an approval. */
function expireApproval(ctx: Context, step: StepState): void {
  const policy = step.approval as ApprovalPolicy;
  const reason = `step "${step.name}" was not approved within its approval timeout of ${formatDuration(policy.timeoutMs ?? 0)} (waiting for ${missingApprovals(policy, countedApprovals(ctx.run, step))})`;
  delete step.awaiting;
  delete step.remindAt;
  delete step.deadline;
  if (policy.onTimeout === 'fail') {
    failStep(ctx, step, reason);
    return;
  }
  for (const active of activeSteps(ctx.run)) stop(ctx, active, reason);
  skipRemaining(ctx.run);
  end(ctx, 'workflowTerminated', reason);
}

function deadlineReason(step: StepState): string {
  const unhealthy = step.tasks
    .filter((t) => t.status !== 'done')
    .map((t) => (t.message ? `${t.cluster} (${t.message})` : `${t.cluster} (${t.status === 'pending' ? 'not started' : 'no report'})`));
  return `step "${step.name}" exceeded its deadline of ${formatDuration(step.timeoutMs ?? 0)}: not healthy: ${unhealthy.join(', ')}`;
}

function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1_000 === 0) return `${ms / 1_000}s`;
  return `${ms}ms`;
}

function failStep(ctx: Context, step: StepState, reason: string, message?: string): void {
  step.phase = 'failed';
  step.finishedAt = ctx.now;
  step.message = reason;
  // Sub-steps still running beside it stop with it: the run is over.
  for (const sibling of activeSteps(ctx.run)) stop(ctx, sibling, `stopped: step "${step.name}" failed`);
  skipRemaining(ctx.run);
  end(ctx, 'workflowFailed', reason, message);
}

function stop(ctx: Context, step: StepState, reason: string): void {
  step.phase = 'failed';
  step.finishedAt = ctx.now;
  step.message = reason;
  delete step.awaiting;
}

function skipRemaining(run: Run): void {
  for (const step of run.steps) {
    if (step.phase === 'pending') step.phase = 'skipped';
  }
}

function end(ctx: Context, phase: RunPhase, reason: string, message?: string): void {
  const { run } = ctx;
  run.phase = phase;
  run.reason = reason;
  if (message !== undefined) run.message = message;
  run.endedAt = ctx.now;
  ctx.effects.push({ type: 'finish', runId: run.id, phase, reason });
  if (phase === 'running') ctx.effects.push({ type: 'collect-garbage', runId: run.id, releaseId: run.releaseId });
}

/** The earliest moment a tick has something to do for this run. */
function earliestDue(run: Run): number | undefined {
  const candidates: number[] = [];
  for (const step of activeSteps(run)) collectDue(run, step, candidates);
  return candidates.length > 0 ? Math.min(...candidates) : undefined;
}

function collectDue(run: Run, step: StepState, candidates: number[]): void {
  if (step.phase === 'suspended') {
    if (step.resumeAt !== undefined) candidates.push(step.resumeAt);
    if (step.deadline !== undefined) candidates.push(step.deadline);
    if (step.remindAt !== undefined) candidates.push(step.remindAt);
  }
  if (step.phase === 'running') {
    if (step.deadline !== undefined) candidates.push(step.deadline);
    for (const task of step.tasks) {
      if (task.status === 'waiting' && task.nextAttemptAt !== undefined) candidates.push(task.nextAttemptAt);
      if (task.status === 'sent' && task.lastSentAt !== undefined) candidates.push(task.lastSentAt + run.policy.resendAfterMs);
    }
  }
}
