import type { KubeObject, ObjectRef } from '../model/kube.ts';
import type { AppRef } from '../model/ownership.ts';
import type { ObservedObject } from '../model/drift.ts';
import type { ClusterProbe } from '../model/fleet.ts';
import type { ObjectPreview } from '../model/preview.ts';

/**
 * The one way the system talks to Kubernetes clusters. The adapter over @kubernetes/client-node
 * serves real clusters and the local sandbox alike (both are reached through a kubeconfig).
 *
 * Errors are TricenterError with code `UNREACHABLE` or `TIMEOUT` (retryable), `INVALID_OBJECT`
 * (permanent, carrying the API server's message) or `CONFLICT`.
 */
export interface ClusterGateway {
  /**
   * Everything apply checks before its first write, all or nothing: each object is absent, ours, or
   * allowed by its resource policy (take-over, shared-resource), else FORBIDDEN naming the owner;
   * every write passes a server-side dry run, else INVALID_OBJECT naming each refused object. Only
   * the namespaces the objects need may be created (and are removed again on failure).
   */
  verify(cluster: string, manifests: KubeObject[]): Promise<void>;
  /** `verify`, then server-side applies (field manager `tricenter`, forced) in dependency order. */
  apply(cluster: string, manifests: KubeObject[]): Promise<ApplyResult>;
  /** Health of these objects per the design: Deployment rollout complete, Ingress has an address, others exist. */
  health(cluster: string, objects: ObjectRef[]): Promise<HealthReport>;
  /** Objects in the cluster labelled as owned by this application. */
  listOwned(cluster: string, app: AppRef): Promise<ObjectRef[]>;
  /** Deletes owned objects of the application that are not in `keep`; never anything it does not own. */
  prune(cluster: string, app: AppRef, keep: ObjectRef[]): Promise<ObjectRef[]>;
  /** The addresses (IP or hostname) in an Ingress's status; [] when it has none yet. */
  ingressAddresses(cluster: string, ingress: { namespace: string; name: string }): Promise<string[]>;
  /**
   * The addresses of every Ingress in one namespace, by name ([] for one without any yet): one
   * (paged) list, so that a traffic round reads each cluster's namespace once for all its applications.
   */
  ingressAddressesIn(cluster: string, namespace: string): Promise<Map<string, string[]>>;
  /** Rollout figures of the application's Deployments (for `status`, like `kubectl get deploy`). */
  workloads(cluster: string, app: AppRef): Promise<WorkloadStatus[]>;
  /**
   * Drift: each desired object (of any number of applications) compared with what the cluster runs
   * (model/drift.ts), in the order given. Reads every kind once, cluster-wide with the managed-by
   * label (paged), and reads alone only the objects that list did not hold (missing, or no longer
   * labelled as ours). Writes nothing.
   */
  observe(cluster: string, manifests: KubeObject[]): Promise<ObservedObject[]>;
  /** Reachability, version, latency and server-side apply support of one cluster; never throws. */
  probe(cluster: string): Promise<ClusterProbe>;
  /**
   * The review page: what applying `manifests` would change (each object dry-run applied on the
   * server and compared with its live state, model/preview.ts), then the application's owned
   * objects not in `keep` as `prune`. Writes nothing, creates no namespace.
   */
  preview(cluster: string, app: AppRef, manifests: KubeObject[], keep: ObjectRef[]): Promise<ObjectPreview[]>;
}

export interface ApplyResult {
  cluster: string;
  objects: Array<{ ref: ObjectRef; changed: boolean }>;
}

export interface ObjectHealth {
  ref: ObjectRef;
  healthy: boolean;
  /** Why not healthy, e.g. `3/5 replicas ready` or `no address yet`, or `not found`. */
  reason?: string;
}

export interface HealthReport {
  cluster: string;
  healthy: boolean;
  objects: ObjectHealth[];
}

export interface WorkloadStatus {
  ref: ObjectRef;
  desired: number;
  ready: number;
  upToDate: number;
  available: number;
  /** Image of the first container, so that `status` can show what each cluster runs. */
  image?: string;
}
