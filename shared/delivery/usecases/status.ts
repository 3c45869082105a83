import { errorMessage } from '../../platform/errors.ts';
import type { AppRef } from '../model/ownership.ts';
import { targetsByCluster } from '../model/plan.ts';
import type { FailedIngest, RejectedUpload } from '../model/records.ts';
import type { Decision, RunPhase, StepPhase, TaskStatus } from '../workflow/run.ts';
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
  }>;
  decisions: Decision[];
  lastFailedIngest?: FailedIngest;
  /** Objects of the tenant's folder refused for their key (never deployed), newest first. */
  rejectedUploads?: RejectedUpload[];
  updatedAt?: number;
}

export async function appStatus(deps: WorkflowDeps, app: AppRef): Promise<AppStatus | undefined> {
  const { record, run } = await currentRun(deps.store, app);
  if (!record) return undefined;
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
  const release = await deps.store.getRelease(run.releaseId);
  if (release) {
    const clusters = [...targetsByCluster(release.plan).keys()];
    status.clusters = await Promise.all(
      clusters.map(async (cluster) => {
        try {
          const workloads = await deps.gateway.workloads(cluster, app);
          return {
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
