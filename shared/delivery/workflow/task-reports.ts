import { next } from './decider.ts';
import type { Run, RunEvent, StepState, TaskReport, TaskState, Transition } from './run.ts';

/**
 * Task rows and the run record (pure). A task writes its outcome to its own row; the run record is
 * written only when the step's aggregate changes, so the reports of a step fanned out to n clusters
 * cost n small row writes and a handful of run writes instead of n conditional rewrites of a record
 * that holds all n tasks (each losing writer re-reading and retrying).
 *
 * The aggregate changes when a report is not `done` (a retry to schedule, a step to fail), when a
 * `done` frees a parallelism slot a pending task waits for, and when the last task of the pass is
 * done (the verification pass ends, or the step succeeds). Reports that change nothing else wait in
 * their rows; whoever writes the run next takes them in with it (the report that completes the pass,
 * a tick, a status read shows them). Every writer lists the rows after writing its own, so of the
 * step's last reporters at least one sees every row.
 */

/** The reports that answer the attempt a task of `step` awaits (sent, same attempt). */
function answering(step: StepState, reports: readonly TaskReport[]): Array<{ task: TaskState; report: TaskReport }> {
  const tasks = new Map(step.tasks.map((t) => [t.cluster, t]));
  return reports.flatMap((report) => {
    const task = tasks.get(report.cluster);
    return task && task.status === 'sent' && task.attempt === report.attempt && report.step === step.name ? [{ task, report }] : [];
  });
}

function reportsEvent(step: StepState, found: ReadonlyArray<{ report: TaskReport }>): RunEvent {
  return {
    type: 'tasks-reported',
    step: step.name,
    reports: found.map(({ report }) => ({ cluster: report.cluster, attempt: report.attempt, outcome: report.outcome })),
  };
}

export interface AggregateChange {
  event: RunEvent;
  /**
   * Set when the rows change the run only by completing the pass (every task done): every reporter
   * of the pass that lists all rows gets here, so one of them takes the rows in, the one whose
   * claim row (PASS_CLAIM_CLUSTER at this pass number) is stored first, and the others write nothing.
   */
  completesPass?: number;
}

/**
 * The task-row "cluster" under which the reporters that complete a pass claim taking its rows in:
 * no registry cluster has an empty name, and rows of clusters a step does not have answer nothing.
 */
export const PASS_CLAIM_CLUSTER = '';

/**
 * What takes `reports` (rows of one step) into the run when the step's aggregate changes with them;
 * undefined when the run record may stay as it is (every row answers a task, the step waits for others).
 */
export function aggregateChange(run: Run, stepName: string, reports: readonly TaskReport[]): AggregateChange | undefined {
  const step = run.steps.find((s) => s.name === stepName);
  if (step?.phase !== 'running') return undefined;
  const found = answering(step, reports);
  if (found.length === 0) return undefined;
  const reported = new Set(found.map(({ task }) => task.cluster));
  const notDone = found.some(({ report }) => report.outcome.kind !== 'done');
  const slotWaiting = step.tasks.some((t) => t.status === 'pending');
  const passComplete = step.tasks.every((t) => t.status === 'done' || reported.has(t.cluster));
  if (notDone || slotWaiting) return { event: reportsEvent(step, found) };
  if (!passComplete) return undefined;
  // Every send raises one task's attempt: the sum names this pass of the step (it only grows).
  return { event: reportsEvent(step, found), completesPass: step.tasks.reduce((sum, t) => sum + t.attempt, 0) };
}

/**
 * `event` applied to the run after every row that answers a task of a running step was taken in
 * (for a tick: a task that reported `done` long ago is done, not presumed lost). `reports` are the
 * rows of the run's running steps.
 */
export function nextWithReports(run: Run, reports: readonly TaskReport[], event: RunEvent, now: number): Transition {
  let current = run;
  const effects: Transition['effects'] = [];
  let changed = false;
  for (const step of run.steps) {
    if (step.phase !== 'running') continue;
    const found = answering(step, reports);
    if (found.length === 0) continue;
    const taken = next(current, reportsEvent(step, found), now);
    if (!taken.changed) continue;
    current = taken.run;
    effects.push(...taken.effects);
    changed = true;
  }
  const after = next(current, event, now);
  if (!after.changed) return changed ? { run: current, effects, changed: true } : after;
  return { ...after, effects: [...effects, ...after.effects] };
}

/**
 * The run as a reader should show it: each task whose row answers its current attempt shows that
 * report (done, waiting, failed) although the run record has not taken it in yet. Nothing else
 * changes (no step completes here: that is the decider's, when the run is written).
 */
export function withReports(run: Run, reports: readonly TaskReport[]): Run {
  const byStep = new Map<string, TaskReport[]>();
  for (const report of reports) byStep.set(report.step, [...(byStep.get(report.step) ?? []), report]);
  if (byStep.size === 0) return run;
  return {
    ...run,
    steps: run.steps.map((step) => {
      const rows = byStep.get(step.name);
      if (!rows || step.phase !== 'running') return step;
      const found = new Map(answering(step, rows).map(({ task, report }) => [task.cluster, report]));
      if (found.size === 0) return step;
      return {
        ...step,
        tasks: step.tasks.map((task): TaskState => {
          const report = found.get(task.cluster);
          if (!report) return task;
          const { outcome } = report;
          const status = outcome.kind === 'done' ? 'done' : outcome.kind === 'failed' && !outcome.retryable ? 'failed' : 'waiting';
          const shown: TaskState = { ...task, status };
          if (outcome.message !== undefined) shown.message = outcome.message;
          if (status !== 'waiting') shown.finishedAt = report.at;
          return shown;
        }),
      };
    }),
  };
}

/** The running steps of a run that have tasks out (their rows are worth reading). */
export function stepsAwaitingReports(run: Run): string[] {
  return run.steps.filter((s) => s.phase === 'running' && s.tasks.some((t) => t.status === 'sent')).map((s) => s.name);
}
