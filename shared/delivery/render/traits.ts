import jsonPatch from 'fast-json-patch';
import type { KubeObject } from '../model/kube.ts';
import { checkKubeObject } from '../model/kube-schema.ts';
import { bundleError, objectLabel, placeAt } from '../model/source.ts';
import { issuePath } from '../../platform/errors.ts';
import type { Trait, TraitTarget } from '../model/traits.ts';
import { isPlainObject, mergePatch } from './merge-patch.ts';
import { applyKubeVelaTrait } from './traits/kubevela.ts';

/**
 * Applies one trait to a component's objects (in place in the list): to the object `target`
 * names, else to the first. Errors name the trait's place (policy document and field).
 */

const SCALABLE_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

/** Returns the index of the object it changed, or undefined when the component has no object. */
export function applyTrait(objects: KubeObject[], trait: Trait, componentName: string): number | undefined {
  const index = targetIndex(objects, trait, componentName);
  const object = objects[index];
  if (!object) return undefined;
  const label = objectLabel(object.kind, object.metadata.namespace, object.metadata.name) ?? object.kind;
  let result: KubeObject = object;
  switch (trait.type) {
    case 'env':
      applyEnv(object, trait, componentName, label);
      break;
    case 'scaler': {
      const spec = object.spec;
      if (!SCALABLE_KINDS.has(object.kind) && !(isPlainObject(spec) && typeof spec.replicas === 'number')) {
        throw bundleError(`scaler needs an object with spec.replicas; ${label} has none`, trait.place, 'RENDER');
      }
      const specObject = isPlainObject(spec) ? spec : {};
      specObject.replicas = trait.properties.replicas;
      object.spec = specObject;
      break;
    }
    case 'json-merge-patch':
      result = mergePatch(object, trait.properties) as KubeObject;
      break;
    case 'json-patch':
      result = applyJsonPatch(object, trait, label);
      break;
    case 'labels':
    case 'annotations':
      applyMetadataTrait(object, trait);
      break;
    default:
      for (const added of applyKubeVelaTrait(object, trait, componentName, label)) {
        // A trait's outputs live beside the workload, as KubeVela puts them.
        if (object.metadata.namespace !== undefined) added.metadata.namespace = object.metadata.namespace;
        objects.push(added);
      }
  }
  // A patch may break the object's shape (e.g. remove metadata.name): say so where the patch is.
  const checked = checkKubeObject(result);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const detail = issue ? `${issuePath(issue.path)}: ${issue.message}` : 'invalid';
    throw bundleError(
      `the ${trait.type} result on ${label} is no longer a valid Kubernetes object (${detail})`,
      placeAt(trait.place, 'properties'),
      'RENDER',
    );
  }
  objects[index] = checked.data;
  return index;
}

function targetIndex(objects: KubeObject[], trait: Trait, componentName: string): number {
  const target = trait.target;
  if (!target) return 0;
  const matches = objects.flatMap((o, i) => (matchesTarget(o, target) ? [i] : []));
  const only = matches[0];
  if (only !== undefined && matches.length === 1) return only;
  const list = objects.map((o) => `${o.kind} ${o.metadata.name}`).join(', ');
  const problem = matches.length === 0 ? 'matches no object' : `matches ${matches.length} objects (add kind or name)`;
  throw bundleError(
    `target ${JSON.stringify(target)} ${problem} of component "${componentName}" (objects: ${list})`,
    placeAt(trait.place, 'target'),
    'RENDER',
  );
}

function matchesTarget(object: KubeObject, target: TraitTarget): boolean {
  return (
    (target.kind === undefined || target.kind === object.kind) &&
    (target.name === undefined || target.name === object.metadata.name) &&
    (target.apiVersion === undefined || target.apiVersion === object.apiVersion)
  );
}

/** The pod spec of a workload (Deployment-like, CronJob, Pod), or undefined. */
function podSpecOf(object: KubeObject): Record<string, unknown> | undefined {
  const spec = object.spec;
  if (!isPlainObject(spec)) return undefined;
  if (object.kind === 'Pod') return spec;
  const template = isPlainObject(spec.jobTemplate) && isPlainObject(spec.jobTemplate.spec) ? spec.jobTemplate.spec.template : spec.template;
  return isPlainObject(template) && isPlainObject(template.spec) ? template.spec : undefined;
}

interface EnvVar {
  name: string;
  value?: string;
  [key: string]: unknown;
}

/**
 * labels / annotations, as KubeVela's: on the object and on the pods it makes (`spec.template`;
 * annotations also on a CronJob's job template and its pods); `null` removes the key everywhere.
 */
function applyMetadataTrait(object: KubeObject, trait: Extract<Trait, { type: 'labels' | 'annotations' }>): void {
  const patchMap = (metadata: Record<string, unknown>) => {
    const current = metadata[trait.type];
    const map: Record<string, string> = { ...(isPlainObject(current) ? (current as Record<string, string>) : {}) };
    for (const [key, value] of Object.entries(trait.properties)) {
      if (value === null) delete map[key];
      else map[key] = value;
    }
    metadata[trait.type] = map;
  };
  patchMap(object.metadata);
  const spec = object.spec;
  if (!isPlainObject(spec)) return;
  const templates: unknown[] = [spec.template];
  if (trait.type === 'annotations' && isPlainObject(spec.jobTemplate)) {
    templates.push(spec.jobTemplate, isPlainObject(spec.jobTemplate.spec) ? spec.jobTemplate.spec.template : undefined);
  }
  for (const template of templates) {
    if (!isPlainObject(template)) continue;
    if (!isPlainObject(template.metadata)) template.metadata = {};
    patchMap(template.metadata as Record<string, unknown>);
  }
}

function applyEnv(object: KubeObject, trait: Extract<Trait, { type: 'env' }>, componentName: string, label: string): void {
  const containers = podSpecOf(object)?.containers;
  if (!Array.isArray(containers)) {
    throw bundleError(`env needs a workload with a pod template; ${label} has none`, trait.place, 'RENDER');
  }
  const props = trait.properties;
  const patches =
    'containers' in props
      ? props.containers.map((patch, i) => ({
          patch,
          containerName: patch.containerName,
          field: `properties.containers[${i}].containerName`,
        }))
      : [
          {
            patch: props,
            containerName: props.containerName ?? componentName,
            field:
              props.containerName === undefined ? 'properties (containerName defaults to the component name)' : 'properties.containerName',
          },
        ];
  for (const { patch, containerName, field } of patches) {
    const container = containers.find((c): c is Record<string, unknown> => isPlainObject(c) && c.name === containerName);
    if (!container) {
      const names = containers.map((c) => (isPlainObject(c) ? String(c.name) : '?')).join(', ');
      throw bundleError(`container "${containerName}" not found in ${label} (containers: ${names})`, placeAt(trait.place, field), 'RENDER');
    }
    setEnv(container, patch);
  }
}

function setEnv(container: Record<string, unknown>, props: { replace: boolean; env: Record<string, string>; unset: string[] }): void {
  let env: EnvVar[] = props.replace ? [] : (Array.isArray(container.env) ? (container.env as EnvVar[]) : []).map((e) => ({ ...e }));
  env = env.filter((e) => !props.unset.includes(e.name));
  for (const [name, value] of Object.entries(props.env)) {
    const existing = env.findIndex((e) => e.name === name);
    // A literal value replaces a valueFrom: the two are exclusive in a container spec.
    if (existing >= 0) env[existing] = { name, value };
    else env.push({ name, value });
  }
  if (env.length > 0) container.env = env;
  else delete container.env;
}

function applyJsonPatch(object: KubeObject, trait: Extract<Trait, { type: 'json-patch' }>, label: string): KubeObject {
  try {
    // Copies of the operations: their values end up inside the (later frozen) manifest, and the
    // same trait runs again in other steps.
    return jsonPatch.applyPatch(object, structuredClone(trait.properties.operations), true, false).newDocument;
  } catch (err) {
    if (err instanceof jsonPatch.JsonPatchError) {
      const index = err.index ?? 0;
      const op = trait.properties.operations[index];
      const reason = err.name === 'TEST_OPERATION_FAILED' ? 'test failed: the value differs' : (err.message.split('\n')[0] ?? err.name);
      throw bundleError(
        `json-patch operation ${index} (${op?.op} ${op?.path}) on ${label}: ${reason}`,
        placeAt(trait.place, ['properties', 'operations', index]),
        'RENDER',
        err,
      );
    }
    throw err;
  }
}
