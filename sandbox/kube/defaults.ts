import { isObject, type Json, type JsonObject } from './fieldpath.ts';

/**
 * Defaulting as kube-apiserver 1.20 does it for the served kinds, so that objects read back look
 * like a real cluster's (what `kubectl get -o yaml` shows): Deployment strategy and limits, pod
 * template defaults, Service type/protocol/targetPort/sessionAffinity, Secret type, Namespace
 * finalizers, the workload and batch kinds' policies and limits, a PVC's volume mode and phase. Idempotent: it runs after every write. Service cluster IPs are allocated by the
 * caller (they need cluster state).
 */
function obj(parent: JsonObject, field: string): JsonObject {
  const current = parent[field];
  if (isObject(current)) return current;
  const created: JsonObject = {};
  parent[field] = created;
  return created;
}

function setDefault(target: JsonObject, field: string, value: Json): void {
  if (target[field] === undefined || target[field] === null) target[field] = value;
}

function imagePullPolicy(image: string): string {
  const lastSegment = image.split('/').pop() ?? image;
  if (lastSegment.includes('@')) return 'IfNotPresent';
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.lastIndexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(container: JsonObject): void {
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  if (typeof container.image === 'string') setDefault(container, 'imagePullPolicy', imagePullPolicy(container.image));
  setDefault(container, 'resources', {});
  for (const port of Array.isArray(container.ports) ? container.ports : []) if (isObject(port)) setDefault(port, 'protocol', 'TCP');
  for (const env of Array.isArray(container.env) ? container.env : []) {
    const fieldRef = isObject(env) && isObject(env.valueFrom) ? env.valueFrom.fieldRef : undefined;
    if (isObject(fieldRef)) setDefault(fieldRef, 'apiVersion', 'v1');
  }
}

function defaultPodSpec(spec: JsonObject, restartPolicy = true): void {
  for (const list of ['containers', 'initContainers']) {
    for (const c of Array.isArray(spec[list]) ? (spec[list] as Json[]) : []) if (isObject(c)) defaultContainer(c);
  }
  if (restartPolicy) setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const volume of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (!isObject(volume)) continue;
    if (isObject(volume.configMap)) setDefault(volume.configMap, 'defaultMode', 420);
    if (isObject(volume.secret)) setDefault(volume.secret, 'defaultMode', 420);
    if (isObject(volume.emptyDir) === false && Object.keys(volume).length === 1) volume.emptyDir = {};
  }
}

function defaultDeployment(o: JsonObject): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'replicas', 1);
  const strategy = obj(spec, 'strategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rolling = obj(strategy, 'rollingUpdate');
    setDefault(rolling, 'maxUnavailable', '25%');
    setDefault(rolling, 'maxSurge', '25%');
  }
  setDefault(spec, 'revisionHistoryLimit', 10);
  setDefault(spec, 'progressDeadlineSeconds', 600);
  const template = obj(spec, 'template');
  const templateMeta = obj(template, 'metadata');
  // The zero time of a Go struct: kube-apiserver writes it out as null.
  if (templateMeta.creationTimestamp === undefined) templateMeta.creationTimestamp = null;
  defaultPodSpec(obj(template, 'spec'));
  if (!isObject(o.status)) o.status = {};
}

function defaultService(o: JsonObject): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  for (const port of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!isObject(port)) continue;
    setDefault(port, 'protocol', 'TCP');
    if (port.targetPort === undefined && port.port !== undefined) port.targetPort = port.port;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (!isObject(o.status)) o.status = { loadBalancer: {} };
}

function defaultIngress(o: JsonObject): void {
  if (!isObject(o.status)) o.status = { loadBalancer: {} };
}

function defaultNamespace(o: JsonObject): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'finalizers', ['kubernetes']);
  const status = obj(o, 'status');
  setDefault(status, 'phase', 'Active');
}

function defaultSecret(o: JsonObject): void {
  setDefault(o, 'type', 'Opaque');
  if (isObject(o.stringData)) {
    const data = obj(o, 'data');
    for (const [key, value] of Object.entries(o.stringData)) data[key] = Buffer.from(String(value)).toString('base64');
    delete o.stringData;
  }
}

/** A pod template: its zero creationTimestamp and the pod spec defaults (a Job's without a restart policy). */
function defaultTemplate(parent: JsonObject, restartPolicy = true): void {
  const template = obj(parent, 'template');
  const templateMeta = obj(template, 'metadata');
  if (templateMeta.creationTimestamp === undefined) templateMeta.creationTimestamp = null;
  defaultPodSpec(obj(template, 'spec'), restartPolicy);
}

function defaultStatus(o: JsonObject, initial: JsonObject): void {
  if (!isObject(o.status)) o.status = initial;
}

function defaultStatefulSet(o: JsonObject): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'replicas', 1);
  setDefault(spec, 'podManagementPolicy', 'OrderedReady');
  const strategy = obj(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') setDefault(obj(strategy, 'rollingUpdate'), 'partition', 0);
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
  defaultStatus(o, { replicas: 0 });
}

function defaultDaemonSet(o: JsonObject): void {
  const spec = obj(o, 'spec');
  const strategy = obj(spec, 'updateStrategy');
  setDefault(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') setDefault(obj(strategy, 'rollingUpdate'), 'maxUnavailable', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultTemplate(spec);
  defaultStatus(o, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
}

function defaultJob(o: JsonObject): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'completions', 1);
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', 6);
  // A Job's pods get no default restart policy: validation requires OnFailure or Never.
  defaultTemplate(spec, false);
  defaultStatus(o, {});
}

function defaultCronJob(o: JsonObject): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'concurrencyPolicy', 'Allow');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'successfulJobsHistoryLimit', 3);
  setDefault(spec, 'failedJobsHistoryLimit', 1);
  const jobTemplate = obj(spec, 'jobTemplate');
  const jobMeta = obj(jobTemplate, 'metadata');
  if (jobMeta.creationTimestamp === undefined) jobMeta.creationTimestamp = null;
  defaultTemplate(obj(jobTemplate, 'spec'), false);
  defaultStatus(o, {});
}

function defaultPersistentVolumeClaim(o: JsonObject): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'volumeMode', 'Filesystem');
  defaultStatus(o, { phase: 'Pending' });
}

function defaultHorizontalPodAutoscaler(o: JsonObject): void {
  const spec = obj(o, 'spec');
  setDefault(spec, 'minReplicas', 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  defaultStatus(o, { currentReplicas: 0, desiredReplicas: 0 });
}

function defaultPodDisruptionBudget(o: JsonObject): void {
  defaultStatus(o, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
}

const DEFAULTERS: Record<string, (o: JsonObject) => void> = {
  Deployment: defaultDeployment,
  StatefulSet: defaultStatefulSet,
  DaemonSet: defaultDaemonSet,
  Job: defaultJob,
  CronJob: defaultCronJob,
  PersistentVolumeClaim: defaultPersistentVolumeClaim,
  HorizontalPodAutoscaler: defaultHorizontalPodAutoscaler,
  PodDisruptionBudget: defaultPodDisruptionBudget,
  Service: defaultService,
  Ingress: defaultIngress,
  Namespace: defaultNamespace,
  Secret: defaultSecret,
};

export function applyDefaults(kind: string, o: JsonObject): void {
  DEFAULTERS[kind]?.(o);
}
