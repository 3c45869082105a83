import { createHash } from 'node:crypto';
import { errorMessage } from '../../platform/errors.ts';
import { approvalPolicyVersion } from '../model/approval-policy.ts';
import { objectRef, refKey } from '../model/kube.ts';
import type { AppRef } from '../model/ownership.ts';
import type { ObjectHealth } from '../ports/cluster-gateway.port.ts';
import type { ObjectPreview } from '../model/preview.ts';
import type { WorkflowDeps } from '../usecases/deps.ts';
import { currentRun } from '../usecases/releases.ts';
import type { Decision, Run, RunPhase, StepState } from '../workflow/run.ts';

/**
 * What the review page shows for an application's current run, and the digest a decision on it is
 * bound to (one per waiting step): the release, the run, the step awaiting approval, its clusters, and for each the live
 * state the diff was computed against (resourceVersions), with the version of the step's approval
 * policy (model/approval-policy.ts: the policy the step is held to and the registry's defaults now).
 * Anything of it that changes between the page and the POST changes the digest (409, review again).
 */

interface ClusterPreview {
  cluster: string;
  objects: ObjectPreview[];
  /** Why the preview could not be computed (unreachable cluster...); the digest then binds the error. */
  error?: string;
}

interface ClusterHealth {
  cluster: string;
  healthy: boolean;
  objects: ObjectHealth[];
  error?: string;
}

/** A step that waits for a person's decision, what it would change, and the digest a decision on it is bound to. */
export interface WaitingStep {
  step: string;
  /** Empty for a suspend step: it deploys nothing. */
  clusters: ClusterPreview[];
  /** The step's approval policy version (approvalPolicyVersion), part of the digest and of the decision's audit. */
  policyVersion: string;
  digest: string;
}

export interface ReviewModel {
  app: AppRef;
  run?: { id: string; phase: RunPhase; publishVersion: string; releaseId: string; reason?: string };
  /** Every step waiting for a decision, in plan order: several at once are sub-steps of a step-group. */
  waiting: WaitingStep[];
  /** The last step that succeeded before it, with the health of what it deployed. */
  previous?: { step: string; clusters: ClusterHealth[] };
  history: Array<{ id: string; phase: RunPhase; publishVersion: string; createdAt: number; endedAt?: number; decisions: Decision[] }>;
}

const HISTORY_RUNS = 20;

export async function reviewOf(deps: WorkflowDeps, app: AppRef): Promise<ReviewModel | undefined> {
  const { record, run } = await currentRun(deps.store, app);
  if (!record) return undefined;
  const history = (await deps.store.listRuns(app, { limit: HISTORY_RUNS })).items.map((r) => ({
    id: r.id,
    phase: r.phase,
    publishVersion: r.publishVersion,
    createdAt: r.createdAt,
    ...(r.endedAt ? { endedAt: r.endedAt } : {}),
    decisions: r.decisions,
  }));
  const model: ReviewModel = { app, waiting: [], history };
  if (!run) return model;
  model.run = {
    id: run.id,
    phase: run.phase,
    publishVersion: run.publishVersion,
    releaseId: run.releaseId,
    ...(run.reason ? { reason: run.reason } : {}),
  };
  const pendingIndex = run.steps.findIndex((s) => s.phase === 'suspended' && s.awaiting === 'approval');
  const release = await deps.store.getRelease(run.releaseId);
  if (!release) return model;
  const planStep = (name: string) => release.plan.steps.find((s) => s.name === name);
  const previousStep = lastSucceededDeploy(run.steps.slice(0, pendingIndex < 0 ? run.steps.length : pendingIndex));
  if (previousStep) {
    const step = planStep(previousStep.name);
    const targets = step?.type === 'deploy' ? step.targets : [];
    model.previous = {
      step: previousStep.name,
      clusters: await Promise.all(
        targets.map(async (target): Promise<ClusterHealth> => {
          try {
            const refs = (await deps.manifests.manifestsOf(target)).map(objectRef);
            const report = await deps.gateway.health(target.cluster, refs);
            return { cluster: target.cluster, healthy: report.healthy, objects: report.objects };
          } catch (err) {
            return { cluster: target.cluster, healthy: false, objects: [], error: errorMessage(err) };
          }
        }),
      ),
    };
  }
  const waiting = run.steps.filter((s) => s.phase === 'suspended' && s.awaiting === 'approval');
  const defaults = waiting.length > 0 ? (await deps.registry()).approval : undefined;
  model.waiting = await Promise.all(
    waiting.map(async ({ name, approval }): Promise<WaitingStep> => {
      const step = planStep(name);
      const targets = step?.type === 'deploy' ? step.targets : [];
      const clusters = await Promise.all(
        targets.map(async (target): Promise<ClusterPreview> => {
          try {
            const keep = (await deps.manifests.desiredOn(release.plan, target.cluster)).map(objectRef);
            const objects = await deps.gateway.preview(target.cluster, app, await deps.manifests.manifestsOf(target), keep);
            return { cluster: target.cluster, objects };
          } catch (err) {
            return { cluster: target.cluster, objects: [], error: errorMessage(err) };
          }
        }),
      );
      const policyVersion = approvalPolicyVersion(approval, defaults);
      return { step: name, clusters, policyVersion, digest: reviewDigest(run, name, policyVersion, clusters) };
    }),
  );
  return model;
}

function lastSucceededDeploy(steps: StepState[]): StepState | undefined {
  return steps.filter((s) => s.type === 'deploy' && s.phase === 'succeeded').at(-1);
}

/** sha256 over what a decision approves; field changes are covered by the live versions and the release. */
function reviewDigest(run: Pick<Run, 'id' | 'releaseId'>, step: string, policyVersion: string, clusters: ClusterPreview[]): string {
  const shown = {
    policy: policyVersion,
    release: run.releaseId,
    run: run.id,
    step,
    clusters: clusters.map((c) => ({
      cluster: c.cluster,
      ...(c.error ? { error: c.error } : {}),
      objects: c.objects.map((o) => [refKey(o.ref), o.action, o.liveVersion]),
    })),
  };
  return createHash('sha256').update(JSON.stringify(shown)).digest('hex');
}
