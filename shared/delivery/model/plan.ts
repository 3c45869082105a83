import type { ApprovalPolicy } from './approval-policy.ts';
import type { KubeObject } from './kube.ts';
import type { AppRef } from './ownership.ts';
import type { TrafficPolicy } from './traffic-policy.ts';

/**
 * The output of rendering: what a run executes. A plan is pure data (JSON-serialisable). A release
 * stores it as a ReleasePlan, like KubeVela's ApplicationRevision but without the manifests: those
 * live in object storage, content-addressed (see release-packs.ts), and each target keeps digests.
 */

/** Where one step deploys: the cluster, plus what the plan's form carries for it. */
export interface PlanTarget {
  cluster: string;
}

/** The exact manifests one cluster receives in one step. */
export interface ClusterTarget extends PlanTarget {
  manifests: KubeObject[];
}

/** A target as a release stores it: the digests of the packs (release objects) that hold its manifests. */
export interface StoredTarget extends PlanTarget {
  packs: string[];
}

/**
 * Where a step sits in the run order. Top-level steps run one after the other; the sub-steps of a
 * step-group (consecutive steps with the same `group`) run side by side once the group's turn
 * comes, each after the steps (or groups) its `dependsOn` names have succeeded.
 */
interface StepOrder {
  group?: string;
  dependsOn?: string[];
}

export interface DeployStep<Target extends PlanTarget = ClusterTarget> extends StepOrder {
  name: string;
  type: 'deploy';
  /** `auto: false`: the run suspends for approval before this step starts. */
  needsApproval: boolean;
  /** With `needsApproval`: who must approve and how many (absent: any one approver). */
  approval?: ApprovalPolicy;
  /** Clusters deployed at a time (default 5). */
  parallelism: number;
  /** Deadline for the whole step, from its start (default 10 minutes). */
  timeoutMs: number;
  targets: Target[];
}

export interface SuspendStep extends StepOrder {
  name: string;
  type: 'suspend';
  /** Resume by itself after this long; without it, only a `resume` decision continues the run. */
  durationMs?: number;
  /** Fail the step (and the run) when no decision came within this long; without it, wait forever. */
  timeoutMs?: number;
  /** Without a duration: who must approve and how many (absent: any one approver). */
  approval?: ApprovalPolicy;
}

export type PlanStep<Target extends PlanTarget = ClusterTarget> = DeployStep<Target> | SuspendStep;

export interface Plan<Target extends PlanTarget = ClusterTarget> {
  app: AppRef;
  /** `app.oam.dev/publishVersion`, or the content hash when the annotation is absent. */
  publishVersion: string;
  /** sha256 of the canonical bundle content: two uploads with the same hash are the same release. */
  contentHash: string;
  steps: PlanStep<Target>[];
  /** The bundle's TrafficPolicy documents: what the GTM reconciler keeps in line for this release. */
  traffic?: TrafficPolicy[];
  /**
   * The Application's `tricenter.io/self-heal: "false"`: the sweep reports drift but never re-applies
   * (absent means true).
   */
  selfHeal?: false;
  /** A `garbage-collect` policy with `keepLegacyResource: true`: a finished run prunes nothing. */
  keepLegacyResources?: boolean;
}

/** The plan a release row keeps: metadata and, per step and cluster, pack digests. */
export type ReleasePlan = Plan<StoredTarget>;

export const DEFAULT_STEP_TIMEOUT_MS = 10 * 60 * 1000;
export const DEFAULT_PARALLELISM = 5;

/** Every cluster the plan deploys to, with its targets over all steps in step order (what prune keeps). */
export function targetsByCluster<Target extends PlanTarget>(plan: Plan<Target>): Map<string, Target[]> {
  const out = new Map<string, Target[]>();
  for (const step of plan.steps) {
    if (step.type !== 'deploy') continue;
    for (const target of step.targets) {
      const list = out.get(target.cluster) ?? [];
      list.push(target);
      out.set(target.cluster, list);
    }
  }
  return out;
}
