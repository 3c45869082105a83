/**
 * What a kubelet, the deployment controller and an ingress controller would write into the status of
 * Deployments and Ingresses, for a real kube-apiserver that runs no pods (see envtest.ts).
 *
 * The pure part (status documents, decided from the object and an injected `now`) is separate from
 * the loop that watches the server, so that it can be tested without one.
 */
import { createHash } from 'node:crypto';
import {
  AppsV1Api,
  type KubeConfig,
  makeInformer,
  NetworkingV1Api,
  type V1Deployment,
  type V1DeploymentCondition,
  type V1DeploymentStatus,
  type V1Ingress,
} from '@kubernetes/client-node';

/** An image whose tag is `fail` never becomes ready: tests use it for a rollout that does not complete. */
export function imageNeverBecomesReady(image: string): boolean {
  const lastSegment = image.split('@')[0]!.split('/').pop() ?? '';
  const colon = lastSegment.lastIndexOf(':');
  return colon >= 0 && lastSegment.slice(colon + 1) === 'fail';
}

export function deploymentCanBecomeReady(deployment: V1Deployment): boolean {
  const containers = deployment.spec?.template?.spec?.containers ?? [];
  return !containers.some((c) => imageNeverBecomesReady(c.image ?? ''));
}

function desiredReplicas(deployment: V1Deployment): number {
  return deployment.spec?.replicas ?? 1;
}

/** The ReplicaSet name the deployment controller would use: the template's hash, like pod-template-hash. */
function replicaSetName(deployment: V1Deployment): string {
  const hash = createHash('sha256')
    .update(JSON.stringify(deployment.spec?.template ?? {}))
    .digest('hex')
    .slice(0, 10);
  return `${deployment.metadata?.name ?? 'unnamed'}-${hash}`;
}

function condition(
  previous: V1DeploymentCondition[] | undefined,
  next: Omit<V1DeploymentCondition, 'lastTransitionTime' | 'lastUpdateTime'>,
  now: Date,
): V1DeploymentCondition {
  const before = previous?.find((c) => c.type === next.type);
  // Like the controller: the transition time moves only when the status flips.
  const lastTransitionTime = before && before.status === next.status && before.lastTransitionTime ? before.lastTransitionTime : now;
  const unchanged = before && before.status === next.status && before.reason === next.reason && before.message === next.message;
  return { ...next, lastTransitionTime, lastUpdateTime: unchanged && before.lastUpdateTime ? before.lastUpdateTime : now };
}

/**
 * Status right after the controller saw a new generation. A first rollout: every replica updated,
 * none available. A later one: the old pods keep serving (still Available), none updated yet.
 */
export function rollingOutStatus(deployment: V1Deployment, now: Date): V1DeploymentStatus {
  const replicas = desiredReplicas(deployment);
  const previous = deployment.status?.conditions;
  const available = Math.min(deployment.status?.availableReplicas ?? 0, replicas);
  const ready = Math.min(deployment.status?.readyReplicas ?? 0, replicas);
  const counts: Partial<V1DeploymentStatus> =
    available > 0
      ? { replicas, readyReplicas: ready, availableReplicas: available, unavailableReplicas: replicas - available }
      : { replicas, updatedReplicas: replicas, unavailableReplicas: replicas };
  const status: V1DeploymentStatus = {
    observedGeneration: deployment.metadata?.generation ?? 1,
    ...counts,
    conditions: [
      condition(
        previous,
        available > 0
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : {
              type: 'Available',
              status: 'False',
              reason: 'MinimumReplicasUnavailable',
              message: 'Deployment does not have minimum availability.',
            },
        now,
      ),
      condition(
        previous,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'ReplicaSetUpdated',
          message: `ReplicaSet "${replicaSetName(deployment)}" is progressing.`,
        },
        now,
      ),
    ],
  };
  return withoutZeroCounts(status);
}

/** The controller leaves zero counts out (omitempty); doing the same keeps our writes idempotent. */
function withoutZeroCounts(status: V1DeploymentStatus): V1DeploymentStatus {
  for (const key of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) {
    if (status[key] === 0) delete status[key];
  }
  return status;
}

/** Status of a completed rollout, as `kubectl rollout status` expects it. */
export function readyStatus(deployment: V1Deployment, now: Date): V1DeploymentStatus {
  const replicas = desiredReplicas(deployment);
  const previous = deployment.status?.conditions;
  const status: V1DeploymentStatus = {
    observedGeneration: deployment.metadata?.generation ?? 1,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    conditions: [
      condition(
        previous,
        {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
        now,
      ),
      condition(
        previous,
        {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${replicaSetName(deployment)}" has successfully progressed.`,
        },
        now,
      ),
    ],
  };
  return withoutZeroCounts(status);
}

/** Field managers of the status writes, named after the controllers that would make them. */
const DEPLOYMENT_CONTROLLER = 'kube-controller-manager';
const INGRESS_CONTROLLER = 'envtest-ingress-controller';

function hasObservedCurrentGeneration(deployment: V1Deployment): boolean {
  return (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1);
}

export function isRolledOut(deployment: V1Deployment): boolean {
  const replicas = desiredReplicas(deployment);
  const s = deployment.status ?? {};
  return (
    hasObservedCurrentGeneration(deployment) &&
    (s.replicas ?? 0) === replicas &&
    (s.updatedReplicas ?? 0) === replicas &&
    (s.readyReplicas ?? 0) === replicas &&
    (s.availableReplicas ?? 0) === replicas
  );
}

export function ingressHasAddress(ingress: V1Ingress, address: string): boolean {
  const entries = ingress.status?.loadBalancer?.ingress ?? [];
  return entries.length === 1 && entries[0]?.ip === address;
}

export interface WorkloadSimulatorOptions {
  /** How long after a Deployment's change it becomes ready (the pods "start"). */
  deploymentReadyDelayMs: number;
  /** The address every Ingress of this cluster gets. */
  ingressAddress: string;
  now?: () => number;
  onError?: (error: unknown, what: string) => void;
}

export interface WorkloadSimulator {
  stop(): Promise<void>;
}

function httpCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace}/${o.metadata?.name}`;

/**
 * Watches Deployments and Ingresses in every namespace (informers: list, then watch) and writes their
 * status through the status subresource with the object's resourceVersion, so a write never
 * overwrites a newer object: on 409 the informer delivers the newer one and we decide again.
 */
export async function startWorkloadSimulator(kubeConfig: KubeConfig, options: WorkloadSimulatorOptions): Promise<WorkloadSimulator> {
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const networking = kubeConfig.makeApiClient(NetworkingV1Api);
  const now = (): Date => new Date((options.now ?? Date.now)());
  const reportError = options.onError ?? (() => {});
  const readyTimers = new Map<string, { generation: number; timer: NodeJS.Timeout }>();
  let stopped = false;

  const writeDeploymentStatus = async (deployment: V1Deployment, status: V1DeploymentStatus): Promise<void> => {
    const { name, namespace } = deployment.metadata ?? {};
    if (!name || !namespace || stopped) return;
    try {
      await apps.replaceNamespacedDeploymentStatus({
        name,
        namespace,
        body: { ...deployment, status },
        fieldManager: DEPLOYMENT_CONTROLLER,
      });
    } catch (error) {
      // 409: a newer version exists and its event is on the way; 404: deleted meanwhile.
      const code = httpCode(error);
      if (code !== 409 && code !== 404 && !stopped) reportError(error, `status of Deployment ${namespace}/${name}`);
    }
  };

  const markReadyLater = (deployment: V1Deployment): void => {
    const key = keyOf(deployment);
    const generation = deployment.metadata?.generation ?? 1;
    if (readyTimers.get(key)?.generation === generation) return;
    const pending = readyTimers.get(key);
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      readyTimers.delete(key);
      const current = deploymentInformer.get(deployment.metadata?.name ?? '', deployment.metadata?.namespace);
      if (!current || (current.metadata?.generation ?? 1) !== generation || isRolledOut(current)) return;
      void writeDeploymentStatus(current, readyStatus(current, now()));
    }, options.deploymentReadyDelayMs);
    readyTimers.set(key, { generation, timer });
  };

  const onDeployment = (deployment: V1Deployment): void => {
    if (stopped || isRolledOut(deployment)) return;
    if (!hasObservedCurrentGeneration(deployment)) {
      void writeDeploymentStatus(deployment, rollingOutStatus(deployment, now()));
    }
    if (deploymentCanBecomeReady(deployment)) markReadyLater(deployment);
  };

  const onIngress = async (ingress: V1Ingress): Promise<void> => {
    const { name, namespace } = ingress.metadata ?? {};
    if (stopped || !name || !namespace || ingressHasAddress(ingress, options.ingressAddress)) return;
    try {
      const status = { loadBalancer: { ingress: [{ ip: options.ingressAddress }] } };
      await networking.replaceNamespacedIngressStatus({ name, namespace, body: { ...ingress, status }, fieldManager: INGRESS_CONTROLLER });
    } catch (error) {
      const code = httpCode(error);
      if (code !== 409 && code !== 404 && !stopped) reportError(error, `status of Ingress ${namespace}/${name}`);
    }
  };

  const deploymentInformer = makeInformer<V1Deployment>(kubeConfig, '/apis/apps/v1/deployments', () =>
    apps.listDeploymentForAllNamespaces(),
  );
  const ingressInformer = makeInformer<V1Ingress>(kubeConfig, '/apis/networking.k8s.io/v1/ingresses', () =>
    networking.listIngressForAllNamespaces(),
  );
  deploymentInformer.on('add', onDeployment);
  deploymentInformer.on('update', onDeployment);
  deploymentInformer.on('delete', (d) => {
    const pending = readyTimers.get(keyOf(d));
    if (pending) clearTimeout(pending.timer);
    readyTimers.delete(keyOf(d));
  });
  ingressInformer.on('add', (i) => void onIngress(i));
  ingressInformer.on('update', (i) => void onIngress(i));

  // A watch ends now and then (server timeout, restart): start again, as controllers do.
  for (const [informer, what] of [
    [deploymentInformer, 'Deployment'],
    [ingressInformer, 'Ingress'],
  ] as const) {
    informer.on('error', (error: unknown) => {
      if (stopped) return;
      reportError(error, `${what} watch`);
      setTimeout(() => {
        if (!stopped) void informer.start().catch((e: unknown) => reportError(e, `${what} watch restart`));
      }, 200);
    });
  }
  await Promise.all([deploymentInformer.start(), ingressInformer.start()]);

  return {
    async stop() {
      stopped = true;
      for (const { timer } of readyTimers.values()) clearTimeout(timer);
      readyTimers.clear();
      await Promise.all([deploymentInformer.stop(), ingressInformer.stop()]);
    },
  };
}
