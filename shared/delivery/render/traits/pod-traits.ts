import type { KubeVelaTrait } from '../../model/kubevela-traits.ts';
import type { KubeObject } from '../../model/kube.ts';
import { containersOf, type Json, requireContainer, requirePodSpec, setMerged } from './pod-spec.ts';

/**
 * The traits that patch a workload's pods, as KubeVela's definitions do
 * (vela-templates/definitions/internal/trait/{sidecar,init-container,container-image,command,
 * resource,hostalias,affinity}.cue). Each changes `object` in place.
 */

type TraitOf<T extends KubeVelaTrait['type']> = Extract<KubeVelaTrait, { type: T }>;

const copy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function setIf(target: Json, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

function probe(p: unknown): unknown {
  return p === undefined ? undefined : copy(p);
}

export function applySidecar(object: KubeObject, trait: TraitOf<'sidecar'>, label: string): void {
  const podSpec = requirePodSpec(object, trait.type, label, trait.place);
  const p = trait.properties;
  const container: Json = { name: p.name, image: p.image };
  setIf(container, 'command', p.cmd && [...p.cmd]);
  setIf(container, 'args', p.args && [...p.args]);
  setIf(container, 'env', p.env && copy(p.env));
  setIf(
    container,
    'volumeMounts',
    p.volumes?.map((v) => ({ mountPath: v.path, name: v.name })),
  );
  setIf(container, 'livenessProbe', probe(p.livenessProbe));
  setIf(container, 'readinessProbe', probe(p.readinessProbe));
  setMerged(podSpec, 'containers', [container]);
}

export function applyInitContainer(object: KubeObject, trait: TraitOf<'init-container'>, componentName: string, label: string): void {
  const podSpec = requirePodSpec(object, trait.type, label, trait.place);
  const p = trait.properties;
  // The shared volume is mounted into the component's own container, named after the component.
  const app = requireContainer(
    podSpec,
    componentName,
    label,
    trait.place,
    'properties (the app container is the one named after the component)',
  );
  setMerged(app, 'volumeMounts', [{ name: p.mountName, mountPath: p.appMountPath }]);
  const init: Json = { name: p.name, image: p.image, imagePullPolicy: p.imagePullPolicy };
  setIf(init, 'command', p.cmd && [...p.cmd]);
  setIf(init, 'args', p.args && [...p.args]);
  setIf(init, 'env', p.env && copy(p.env));
  init.volumeMounts = [
    { name: p.mountName, mountPath: p.initMountPath },
    ...p.extraVolumeMounts.map((m) => ({ name: m.name, mountPath: m.mountPath })),
  ];
  setMerged(podSpec, 'initContainers', [init]);
  setMerged(podSpec, 'volumes', [{ name: p.mountName, emptyDir: {} }]);
}

/** The per-container patches of a trait's single or `containers` form, each with the field that names its container. */
function perContainer<P extends { containerName: string }>(
  props: P | { containers: P[] },
  componentName: string,
): Array<{ patch: P; name: string; field: string }> {
  if ('containers' in props) {
    return props.containers.map((patch, i) => ({ patch, name: patch.containerName, field: `properties.containers[${i}].containerName` }));
  }
  return props.containerName === ''
    ? [{ patch: props, name: componentName, field: 'properties (containerName defaults to the component name)' }]
    : [{ patch: props, name: props.containerName, field: 'properties.containerName' }];
}

export function applyContainerImage(object: KubeObject, trait: TraitOf<'container-image'>, componentName: string, label: string): void {
  const podSpec = requirePodSpec(object, trait.type, label, trait.place);
  for (const { patch, name, field } of perContainer(trait.properties, componentName)) {
    const container = requireContainer(podSpec, name, label, trait.place, field);
    container.image = patch.image;
    if (patch.imagePullPolicy !== '') container.imagePullPolicy = patch.imagePullPolicy;
  }
}

export function applyCommand(object: KubeObject, trait: TraitOf<'command'>, componentName: string, label: string): void {
  const podSpec = requirePodSpec(object, trait.type, label, trait.place);
  for (const { patch, name, field } of perContainer(trait.properties, componentName)) {
    const container = requireContainer(podSpec, name, label, trait.place, field);
    if (patch.command !== null) container.command = [...patch.command];
    const base = patch.args ?? (Array.isArray(container.args) ? (container.args as string[]) : []);
    const del = new Set(patch.delArgs ?? []);
    const kept = base.filter((a) => !del.has(a));
    const added = (patch.addArgs ?? []).filter((a) => !del.has(a) && !base.includes(a));
    const args = [...kept, ...added];
    if (args.length > 0) container.args = args;
    else delete container.args;
  }
}

export function applyResource(object: KubeObject, trait: TraitOf<'resource'>, label: string): void {
  const podSpec = requirePodSpec(object, trait.type, label, trait.place);
  // KubeVela's patch has no container name: it lands on the first container.
  const container = containersOf(podSpec)[0];
  if (!container) return;
  const p = trait.properties;
  const resources: Json = { ...(container.resources as Json | undefined) };
  if (p.requests === undefined && p.limits === undefined) {
    const both: Json = {};
    setIf(both, 'cpu', p.cpu);
    setIf(both, 'memory', p.memory);
    resources.requests = both;
    resources.limits = { ...both };
  } else {
    if (p.requests !== undefined) resources.requests = { cpu: p.requests.cpu, memory: p.requests.memory };
    if (p.limits !== undefined) resources.limits = { cpu: p.limits.cpu, memory: p.limits.memory };
  }
  container.resources = resources;
}

export function applyHostalias(object: KubeObject, trait: TraitOf<'hostalias'>, label: string): void {
  const podSpec = requirePodSpec(object, trait.type, label, trait.place);
  setMerged(
    podSpec,
    'hostAliases',
    trait.properties.hostAliases.map((a) => ({ ip: a.ip, hostnames: [...a.hostnames] })),
    'ip',
  );
}

const REQUIRED = 'requiredDuringSchedulingIgnoredDuringExecution';
const PREFERRED = 'preferredDuringSchedulingIgnoredDuringExecution';

function schedulingRules(rules: { required?: unknown; preferred?: unknown }): Json {
  const out: Json = {};
  setIf(out, REQUIRED, rules.required === undefined ? undefined : copy(rules.required));
  setIf(out, PREFERRED, rules.preferred === undefined ? undefined : copy(rules.preferred));
  return out;
}

export function applyAffinity(object: KubeObject, trait: TraitOf<'affinity'>, label: string): void {
  const podSpec = requirePodSpec(object, trait.type, label, trait.place);
  const p = trait.properties;
  const affinity: Json = { ...(podSpec.affinity as Json | undefined) };
  if (p.podAffinity) affinity.podAffinity = schedulingRules(p.podAffinity);
  if (p.podAntiAffinity) affinity.podAntiAffinity = schedulingRules(p.podAntiAffinity);
  if (p.nodeAffinity) affinity.nodeAffinity = schedulingRules(p.nodeAffinity);
  if (Object.keys(affinity).length > 0) podSpec.affinity = affinity;
  if (p.tolerations) podSpec.tolerations = copy(p.tolerations);
}
