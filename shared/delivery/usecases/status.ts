import { errorMessage } from '../../platform/errors.ts';
import type { AppRef } from '../model/ownership.ts';
import { targetsByCluster, type ReleasePlan } from '../model/plan.ts';
import type { DriftState } from '../model/drift.ts';
import { refKey } from '../model/kube.ts';
import type { DriftEvent } from '../workflow/run.ts';
import type { FailedIngest, RejectedUpload } from '../model/records.ts';
import type { Decision, Run, RunPhase, StepPhase, TaskStatus } from '../workflow/run.ts';
import { stepsAwaitingReports, withReports } from '../workflow/task-reports.ts';
import type { WorkflowDeps } from './deps.ts';
import { currentRun } from './releases.ts';

/** What `GET /apps/{ns}/{name}` and `tricenter status` show. */
export interface AppStatus {
  app: AppRef;
  phase: RunPhase | 'none';
  publishVersion?: string;
  runId?: string;
  releaseId?: string;
  reason?: string;
  message?: string;
  steps: Array<{
    name: string;
    type: 'deploy' | 'suspend';
    phase: StepPhase;
    needsApproval: boolean;
    awaiting?: 'approval' | 'duration';
    deadline?: number;
    clusters: Array<{ cluster: string; status: TaskStatus; attempt: number; message?: string }>;
  }>;
  /** Live rollout figures per cluster, like `kubectl amc get deployment -m all`. */
  clusters: Array<{
    cluster: string;
    reachable: boolean;
    error?: string;
    workloads: Array<{
      kind: string;
      namespace?: string;
      name: string;
      ready: string;
      upToDate: number;
      available: number;
      image?: string;
    }>;
    /**
     * Drift against the current release, once its run ended `running` (during a rollout, clusters not
     * deployed yet would all look drifted): objects in sync, and each one that is not.
     */
    drift?: { inSync: number; objects: Array<{ object: string; state: Exclude<DriftState, 'in-sync'>; fields?: string[] }> };
  }>;
  /** The newest drift findings of the current run and what the sweep did (healed, reported...), newest last. */
  driftEvents?: DriftEvent[];
  decisions: Decision[];
  lastFailedIngest?: FailedIngest;
  /** Objects of the tenant's folder refused for their key (never deployed), newest first. */
  rejectedUploads?: RejectedUpload[];
  updatedAt?: number;
}

export async function appStatus(deps: WorkflowDeps, app: AppRef): Promise<AppStatus | undefined> {
  const { record, run: recorded } = await currentRun(deps.store, app);
  if (!record) return undefined;
  // Tasks that reported into their own rows show their report before the run record takes it in.
  const run = recorded && (await withTaskRows(deps, recorded));
  const status: AppStatus = {
    app,
    phase: run?.phase ?? 'none',
    steps: [],
    clusters: [],
    decisions: run?.decisions ?? [],
    ...(record.lastFailedIngest ? { lastFailedIngest: record.lastFailedIngest } : {}),
  };
  if (!run) return status;
  Object.assign(status, {
    publishVersion: run.publishVersion,
    runId: run.id,
    releaseId: run.releaseId,
    updatedAt: run.updatedAt,
    ...(run.reason ? { reason: run.reason } : {}),
    ...(run.message ? { message: run.message } : {}),
  });
  status.steps = run.steps.map((step) => ({
    name: step.name,
    type: step.type,
    phase: step.phase,
    needsApproval: step.needsApproval,
    ...(step.awaiting ? { awaiting: step.awaiting } : {}),
    ...(step.deadline ? { deadline: step.deadline } : {}),
    clusters: step.tasks.map((t) => ({
      cluster: t.cluster,
      status: t.status,
      attempt: t.attempt,
      ...(t.message ? { message: t.message } : {}),
    })),
  }));
  if (run.driftEvents?.length) status.driftEvents = run.driftEvents.slice(-STATUS_DRIFT_EVENTS);
  const release = await deps.store.getRelease(run.releaseId);
  if (release) {
    const clusters = [...targetsByCluster(release.plan).keys()];
    status.clusters = await Promise.all(
      clusters.map(async (cluster) => {
        try {
          const workloads = await deps.gateway.workloads(cluster, app);
          // Drift that cannot be read (a release pack missing) is left out; the workloads above were read.
          const drift = run.phase === 'running' ? await driftOn(deps, release.plan, cluster).catch(() => undefined) : undefined;
          return {
            ...(drift ? { drift } : {}),
            cluster,
            reachable: true,
            workloads: workloads.map((w) => ({
              kind: w.ref.kind,
              ...(w.ref.namespace ? { namespace: w.ref.namespace } : {}),
              name: w.ref.name,
              ready: `${w.ready}/${w.desired}`,
              upToDate: w.upToDate,
              available: w.available,
              ...(w.image ? { image: w.image } : {}),
            })),
          };
        } catch (err) {
          return { cluster, reachable: false, error: errorMessage(err), workloads: [] };
        }
      }),
    );
  }
  return status;
}

async function withTaskRows(deps: WorkflowDeps, run: Run): Promise<Run> {
  const steps = stepsAwaitingReports(run);
  if (steps.length === 0) return run;
  const rows = await Promise.all(steps.map((step) => deps.store.listTaskReports(run.id, step)));
  return withReports(run, rows.flat());
}

/** Drift events `status` shows (the run keeps up to 100). */
const STATUS_DRIFT_EVENTS = 10;

async function driftOn(
  deps: WorkflowDeps,
  plan: ReleasePlan,
  cluster: string,
): Promise<NonNullable<AppStatus['clusters'][number]['drift']>> {
  const observed = await deps.gateway.observe(cluster, await deps.manifests.desiredOn(plan, cluster));
  const objects = observed.flatMap((o) =>
    o.state === 'in-sync' ? [] : [{ object: refKey(o.ref), state: o.state, ...(o.fields ? { fields: o.fields } : {}) }],
  );
  return { inSync: observed.length - objects.length, objects };
}
