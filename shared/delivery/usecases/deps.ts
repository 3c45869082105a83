import type { Clock } from '../../platform/clock.ts';
import type { Logger } from '../../platform/log.ts';
import type { ClusterRegistry } from '../model/clusters.ts';
import type { StepFinishedEvent } from '../../platform/triggers/async-invocation.ts';
import type { BundleSource } from '../ports/bundle-source.port.ts';
import type { ClusterGateway } from '../ports/cluster-gateway.port.ts';
import type { RunStore } from '../ports/run-store.port.ts';
import type { QueueMessage, TaskQueue } from '../ports/task-queue.port.ts';
import type { NotifyDeps } from './notify.ts';
import type { ReleaseManifests } from './release-manifests.ts';

/**
 * What the workflow use cases need from the outside world. Each function's composition file
 * builds one: cloud adapters in `functions/<name>/index.ts`, local twins in `local/`.
 */
export interface WorkflowDeps {
  store: RunStore;
  queue: TaskQueue;
  gateway: ClusterGateway;
  bundles: BundleSource;
  /** The rendered manifests of releases (object storage, content-addressed; one per instance, it caches). */
  manifests: ReleaseManifests;
  /** The cluster registry the system deploys to (connections included). */
  registry: () => Promise<ClusterRegistry>;
  clock: Clock;
  logger: Logger;
  newId: () => string;
  /**
   * Where a `reconcile-traffic` effect goes: gtm-reconcile's async invocations in the cloud, the
   * twin's in-process reconciler locally. Absent where no traffic is reconciled (use-case tests):
   * the timer's round is then the only one.
   */
  trafficQueue?: TaskQueue<StepFinishedMessage>;
  /** The local twin wakes runs at their `wakeAt`; in the cloud the timer sweep does it. */
  scheduleWakeup?: (runId: string, at: number) => void;
  /** How long one task polls for health before reporting "still waiting" (bounded, never forever). */
  healthWait: { totalMs: number; pollMs: number };
  /** Chat robots and webhooks told about approvals and ends of runs (usecases/notify.ts); absent: nobody is told. */
  notifications?: Omit<NotifyDeps, 'logger'>;
  /** The GTM instance of a TrafficPolicy that names none (TRICENTER_GTM_INSTANCE_ID); its claims are on it. */
  gtmDefaultInstanceId?: string;
}

/** A step-finished event as a queue message: its key makes a repeated send one invocation. */
export type StepFinishedMessage = StepFinishedEvent & QueueMessage;

export const DEFAULT_HEALTH_WAIT = { totalMs: 20_000, pollMs: 1_000 };
