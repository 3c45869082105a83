import type { KubeVelaTrait } from '../../model/kubevela-traits.ts';
import type { KubeObject } from '../../model/kube.ts';
import { LABEL_COMPONENT } from '../../model/ownership.ts';
import { outputLabels } from '../components/pod.ts';
import { portName } from '../components/webservice.ts';
import { containersOf, type Json, requirePodSpec, setMerged } from './pod-spec.ts';

/**
 * The traits that add objects beside the workload, as KubeVela's definitions do
 * (vela-templates/definitions/internal/trait/{gateway,expose,storage}.cue). Each returns the
 * objects it adds, labelled with the trait and its output name like KubeVela's (trait.oam.dev/*).
 */

type TraitOf<T extends KubeVelaTrait['type']> = Extract<KubeVelaTrait, { type: T }>;

/** A Service for the component's pods (unless `existingServiceName`) and an Ingress routing `http` paths to it. */
export function gatewayOutputs(trait: TraitOf<'gateway'>, componentName: string): KubeObject[] {
  const p = trait.properties;
  const suffix = p.name === undefined ? '' : `-${p.name}`;
  const serviceName = p.existingServiceName ?? `${componentName}${suffix}`;
  const paths = Object.entries(p.http);
  const out: KubeObject[] = [];
  if (p.existingServiceName === undefined) {
    // Two paths to one port are one Service port (KubeVela writes it twice, which the API server refuses).
    const ports = [...new Set(paths.map(([, port]) => port))];
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: serviceName, labels: outputLabels('gateway', `service${suffix}`) },
      spec: {
        selector: { [LABEL_COMPONENT]: componentName },
        ports: ports.map((port) => ({ name: `port-${port}`, port, targetPort: port })),
      },
    });
  }
  const annotations: Record<string, string> = {};
  if (!p.classInSpec) annotations['kubernetes.io/ingress.class'] = p.class;
  if (p.gatewayHost !== undefined) annotations['ingress.controller/host'] = p.gatewayHost;
  Object.assign(annotations, p.annotations);
  const spec: Json = {};
  if (p.classInSpec) spec.ingressClassName = p.class;
  if (p.secretName !== undefined && p.domain !== undefined) spec.tls = [{ hosts: [p.domain], secretName: p.secretName }];
  const rule: Json = {};
  if (p.domain !== undefined) rule.host = p.domain;
  rule.http = {
    paths: paths.map(([path, port]) => ({
      path,
      pathType: p.pathType,
      backend: { service: { name: serviceName, port: { number: port } } },
    })),
  };
  spec.rules = [rule];
  out.push({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: `${componentName}${suffix}`,
      annotations,
      labels: { ...p.labels, ...outputLabels('gateway', `ingress${suffix}`) },
    },
    spec,
  });
  return out;
}

/** A Service named after the component, selecting its pods (or `matchLabels`). */
export function exposeOutputs(trait: TraitOf<'expose'>, componentName: string): KubeObject[] {
  const p = trait.properties;
  const ports =
    p.ports !== undefined
      ? p.ports.map((port) => {
          const out: Json = { port: port.port, targetPort: port.port, name: portName(port, port.port) };
          if (port.nodePort !== undefined && p.type === 'NodePort') out.nodePort = port.nodePort;
          out.protocol = port.protocol;
          return out;
        })
      : (p.port ?? []).map((port) => ({ name: `port-${port}`, port, targetPort: port }));
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: componentName, annotations: { ...p.annotations }, labels: outputLabels('expose', 'service') },
      spec: { selector: { ...(p.matchLabels ?? { [LABEL_COMPONENT]: componentName }) }, ports, type: p.type },
    },
  ];
}

const subPath = (m: { subPath?: string | undefined }): Json => (m.subPath === undefined ? {} : { subPath: m.subPath });
const readOnly = (m: { readOnly: boolean }): Json => (m.readOnly ? { readOnly: true } : {});
const withItems = (volume: Json, items: unknown[] | undefined): Json =>
  items === undefined ? volume : { ...volume, items: structuredClone(items) };

/**
 * Mounts the volumes into the workload's first container (env from config map / secret keys,
 * block devices for `volumeMode: Block`) and returns the PVCs, ConfigMaps and Secrets it creates
 * (all but `mountOnly` ones).
 */
export function applyStorage(object: KubeObject, trait: TraitOf<'storage'>, label: string): KubeObject[] {
  const podSpec = requirePodSpec(object, trait.type, label, trait.place);
  const p = trait.properties;
  const volumes: Json[] = [];
  const mounts: Json[] = [];
  const devices: Json[] = [];
  const env: Json[] = [];
  for (const v of p.pvc ?? []) {
    volumes.push({ name: `pvc-${v.name}`, persistentVolumeClaim: { claimName: v.name } });
    if (v.volumeMode === 'Filesystem') mounts.push({ name: `pvc-${v.name}`, mountPath: v.mountPath, ...subPath(v) });
    else devices.push({ name: `pvc-${v.name}`, devicePath: v.mountPath });
  }
  for (const v of p.configMap ?? []) {
    if (v.mountPath !== undefined) {
      volumes.push({ name: `configmap-${v.name}`, configMap: withItems({ defaultMode: v.defaultMode, name: v.name }, v.items) });
      mounts.push({ name: `configmap-${v.name}`, mountPath: v.mountPath, ...subPath(v), ...readOnly(v) });
    }
  }
  for (const v of p.secret ?? []) {
    volumes.push({ name: `secret-${v.name}`, secret: withItems({ defaultMode: v.defaultMode, secretName: v.name }, v.items) });
    mounts.push({ name: `secret-${v.name}`, mountPath: v.mountPath, ...subPath(v), ...readOnly(v) });
  }
  // In the template's order: every config map's mountToEnv, their mountToEnvs, then the secrets' likewise.
  for (const v of p.configMap ?? []) if (v.mountToEnv) env.push(configMapEnv(v.name, v.mountToEnv));
  for (const v of p.configMap ?? []) for (const e of v.mountToEnvs ?? []) env.push(configMapEnv(v.name, e));
  for (const v of p.secret ?? []) if (v.mountToEnv) env.push(secretEnv(v.name, v.mountToEnv));
  for (const v of p.secret ?? []) for (const e of v.mountToEnvs ?? []) env.push(secretEnv(v.name, e));
  for (const v of p.emptyDir ?? []) {
    volumes.push({ name: `emptydir-${v.name}`, emptyDir: { medium: v.medium } });
    mounts.push({ name: `emptydir-${v.name}`, mountPath: v.mountPath, ...subPath(v) });
  }
  for (const v of p.hostPath ?? []) {
    volumes.push({ name: `hostpath-${v.name}`, hostPath: { path: v.path, type: v.type } });
    mounts.push({ name: `hostpath-${v.name}`, mountPath: v.mountPath });
  }
  // The patch has no container name: like KubeVela's, it lands on the first container.
  const container = containersOf(podSpec)[0];
  if (container) {
    setMerged(container, 'env', env);
    setMerged(container, 'volumeDevices', devices);
    setMerged(container, 'volumeMounts', mounts);
  }
  const seen = new Set<unknown>();
  setMerged(
    podSpec,
    'volumes',
    volumes.filter((v) => !seen.has(v.name) && seen.add(v.name)),
  );
  return storageOutputs(trait);
}

const configMapEnv = (name: string, e: { envName: string; configMapKey: string }): Json => ({
  name: e.envName,
  valueFrom: { configMapKeyRef: { name, key: e.configMapKey } },
});
const secretEnv = (name: string, e: { envName: string; secretKey: string }): Json => ({
  name: e.envName,
  valueFrom: { secretKeyRef: { name, key: e.secretKey } },
});

function storageOutputs(trait: TraitOf<'storage'>): KubeObject[] {
  const p = trait.properties;
  const out: KubeObject[] = [];
  for (const v of p.pvc ?? []) {
    if (v.mountOnly) continue;
    const spec: Json = { accessModes: [...v.accessModes], volumeMode: v.volumeMode };
    if (v.volumeName !== undefined) spec.volumeName = v.volumeName;
    if (v.storageClassName !== undefined) spec.storageClassName = v.storageClassName;
    const resources: Json = { requests: { storage: v.resources?.requests.storage ?? '8Gi' } };
    if (v.resources?.limits !== undefined) resources.limits = { storage: v.resources.limits.storage };
    spec.resources = resources;
    if (v.dataSourceRef !== undefined) spec.dataSourceRef = { ...v.dataSourceRef };
    if (v.dataSource !== undefined) spec.dataSource = { ...v.dataSource };
    // KubeVela writes `selector` into dataSource (a slip in its template); it is the claim's selector.
    if (v.selector !== undefined) spec.selector = structuredClone(v.selector);
    out.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: v.name, labels: outputLabels('storage', `pvc-${v.name}`) },
      spec,
    });
  }
  for (const v of p.configMap ?? []) {
    if (v.mountOnly) continue;
    const cm: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: v.name, labels: outputLabels('storage', `configmap-${v.name}`) },
    };
    if (v.data !== undefined) cm.data = structuredClone(v.data);
    out.push(cm);
  }
  for (const v of p.secret ?? []) {
    if (v.mountOnly) continue;
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: v.name, labels: outputLabels('storage', `secret-${v.name}`) },
    };
    if (v.data !== undefined) secret.data = structuredClone(v.data);
    if (v.stringData !== undefined) secret.stringData = structuredClone(v.stringData);
    out.push(secret);
  }
  return out;
}
