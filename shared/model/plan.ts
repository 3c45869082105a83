import type { KubeObject } from './kube.ts';
import type { AppRef } from './ownership.ts';
import type { TrafficPolicy } from './traffic.ts';

/**
 * The output of rendering: what a run executes. A plan is pure data (JSON-serialisable) and is
 * stored as the release snapshot, like KubeVela's ApplicationRevision.
 */

/** The exact manifests one cluster receives in one step. */
export interface ClusterTarget {
  cluster: string;
  manifests: KubeObject[];
}

export interface DeployStep {
  name: string;
  type: 'deploy';
  /** `auto: false`: the run suspends for approval before this step starts. */
  needsApproval: boolean;
  /** Clusters deployed at a time (default 5). */
  parallelism: number;
  /** Deadline for the whole step, from its start (default 10 minutes). */
  timeoutMs: number;
  targets: ClusterTarget[];
}

export interface SuspendStep {
  name: string;
  type: 'suspend';
  /** Resume by itself after this long; without it, only a `resume` decision continues the run. */
  durationMs?: number;
  timeoutMs: number;
}

export type PlanStep = DeployStep | SuspendStep;

export interface Plan {
  app: AppRef;
  /** `app.oam.dev/publishVersion`, or the content hash when the annotation is absent. */
  publishVersion: string;
  /** sha256 of the canonical bundle content: two uploads with the same hash are the same release. */
  contentHash: string;
  steps: PlanStep[];
  /** The bundle's TrafficPolicy documents: what the GTM reconciler keeps in line for this release. */
  traffic?: TrafficPolicy[];
}

export const DEFAULT_STEP_TIMEOUT_MS = 10 * 60 * 1000;
export const DEFAULT_PARALLELISM = 5;

/** Every cluster the plan deploys to, with the union of its manifests over all steps (what prune keeps). */
export function desiredByCluster(plan: Plan): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const step of plan.steps) {
    if (step.type !== 'deploy') continue;
    for (const target of step.targets) {
      const list = out.get(target.cluster) ?? [];
      list.push(...target.manifests);
      out.set(target.cluster, list);
    }
  }
  return out;
}
