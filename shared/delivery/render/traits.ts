import jsonPatch from 'fast-json-patch';
import type { KubeObject } from '../model/kube.ts';
import { checkKubeObject } from '../model/kube-schema.ts';
import { bundleError, objectLabel, placeAt } from '../model/source.ts';
import { issuePath } from '../../platform/errors.ts';
import type { Trait, TraitTarget } from '../model/traits.ts';
import { isPlainObject, mergePatch } from './merge-patch.ts';
import { CopyOnWrite } from './shared-objects.ts';
import { applyKubeVelaTrait } from './traits/kubevela.ts';

/**
 * Applies one trait to a component's objects: to the object `target` names, else to the first.
 * The list entry is replaced by the changed object; the objects given are never changed (they may
 * be frozen and shared by other steps and clusters): env, scaler, labels and annotations copy only
 * the parts on the way to what they set (`cow`, shared by the traits of one component so that a
 * part is copied once), the patches copy what they patch, KubeVela's traits work on a deep copy.
 * Errors name the trait's place (policy document and field).
 */

const SCALABLE_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController']);

/** Returns the index of the object it changed, or undefined when the component has no object. */
export function applyTrait(objects: KubeObject[], trait: Trait, componentName: string, cow = new CopyOnWrite()): number | undefined {
  const index = targetIndex(objects, trait, componentName);
  const object = objects[index];
  if (!object) return undefined;
  // The label is for error messages only: made when one is thrown (no closure per call: traits run per manifest).
  let result: KubeObject;
  switch (trait.type) {
    case 'env':
      result = applyEnv(object, trait, componentName, cow);
      break;
    case 'scaler': {
      const spec = object.spec;
      if (!SCALABLE_KINDS.has(object.kind) && !(isPlainObject(spec) && typeof spec.replicas === 'number')) {
        throw bundleError(`scaler needs an object with spec.replicas; ${labelOf(object)} has none`, trait.place, 'RENDER');
      }
      result = cow.writable(object);
      const specObject = isPlainObject(spec) ? cow.writable(spec) : {};
      specObject.replicas = trait.properties.replicas;
      result.spec = specObject;
      break;
    }
    case 'json-merge-patch':
      result = mergePatch(object, trait.properties) as KubeObject;
      break;
    case 'json-patch':
      result = applyJsonPatch(object, trait, labelOf(object));
      break;
    case 'labels':
    case 'annotations':
      result = applyMetadataTrait(object, trait, cow);
      break;
    default:
      result = cow.deep(object);
      for (const added of applyKubeVelaTrait(result, trait, componentName, labelOf(object))) {
        // A trait's outputs live beside the workload, as KubeVela puts them.
        if (result.metadata.namespace !== undefined) added.metadata.namespace = result.metadata.namespace;
        objects.push(added);
      }
  }
  // A patch may break the object's shape (e.g. remove metadata.name): say so where the patch is.
  // env and scaler change neither apiVersion, kind, metadata nor the order of members: on an object
  // checked before, the check would give the object itself.
  const checked =
    TOUCH_SPEC_ONLY.has(trait.type) && cow.wasChecked(object) ? { success: true as const, data: result } : checkKubeObject(result);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const detail = issue ? `${issuePath(issue.path)}: ${issue.message}` : 'invalid';
    throw bundleError(
      `the ${trait.type} result on ${labelOf(object)} is no longer a valid Kubernetes object (${detail})`,
      placeAt(trait.place, 'properties'),
      'RENDER',
    );
  }
  cow.markChecked(checked.data);
  objects[index] = checked.data;
  return index;
}

const TOUCH_SPEC_ONLY = new Set<Trait['type']>(['env', 'scaler']);

function labelOf(object: KubeObject): string {
  return objectLabel(object.kind, object.metadata.namespace, object.metadata.name) ?? object.kind;
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
 * The object with the pod spec a trait changes writable (the parts on the way to it copied), and
 * that pod spec: the same path podSpecOf reads. Only for an object podSpecOf found a pod spec in.
 */
function withWritablePodSpec(object: KubeObject, cow: CopyOnWrite): { object: KubeObject; podSpec: Record<string, unknown> } {
  const top = cow.writable(object);
  const spec = cow.writable(object.spec as Record<string, unknown>);
  top.spec = spec;
  if (object.kind === 'Pod') return { object: top, podSpec: spec };
  let holder = spec;
  if (isPlainObject(spec.jobTemplate) && isPlainObject(spec.jobTemplate.spec)) {
    const jobTemplate = cow.writable(spec.jobTemplate);
    spec.jobTemplate = jobTemplate;
    holder = cow.writable(jobTemplate.spec as Record<string, unknown>);
    jobTemplate.spec = holder;
  }
  const template = cow.writable(holder.template as Record<string, unknown>);
  holder.template = template;
  const podSpec = cow.writable(template.spec as Record<string, unknown>);
  template.spec = podSpec;
  return { object: top, podSpec };
}

/**
 * labels / annotations, as KubeVela's: on the object and on the pods it makes (`spec.template`;
 * annotations also on a CronJob's job template and its pods); `null` removes the key everywhere.
 */
function applyMetadataTrait(object: KubeObject, trait: Extract<Trait, { type: 'labels' | 'annotations' }>, cow: CopyOnWrite): KubeObject {
  const patchMap = (metadata: Record<string, unknown>) => {
    const current = metadata[trait.type];
    const map: Record<string, string> = { ...(isPlainObject(current) ? (current as Record<string, string>) : {}) };
    for (const [key, value] of Object.entries(trait.properties)) {
      if (value === null) delete map[key];
      else map[key] = value;
    }
    metadata[trait.type] = map;
  };
  /** `holder[key]`, a template, with its metadata patched (made when it has none). */
  const patchTemplate = (holder: Record<string, unknown>, key: string) => {
    const template = cow.writable(holder[key] as Record<string, unknown>);
    holder[key] = template;
    const metadata = isPlainObject(template.metadata) ? cow.writable(template.metadata) : {};
    template.metadata = metadata;
    patchMap(metadata);
    return template;
  };
  const result = cow.writable(object);
  result.metadata = cow.writable(object.metadata);
  patchMap(result.metadata);
  if (!isPlainObject(object.spec)) return result;
  const spec = cow.writable(object.spec);
  result.spec = spec;
  if (isPlainObject(spec.template)) patchTemplate(spec, 'template');
  if (trait.type === 'annotations' && isPlainObject(spec.jobTemplate)) {
    const jobTemplate = patchTemplate(spec, 'jobTemplate');
    if (isPlainObject(jobTemplate.spec) && isPlainObject(jobTemplate.spec.template)) {
      const jobSpec = cow.writable(jobTemplate.spec);
      jobTemplate.spec = jobSpec;
      patchTemplate(jobSpec, 'template');
    }
  }
  return result;
}

function applyEnv(object: KubeObject, trait: Extract<Trait, { type: 'env' }>, componentName: string, cow: CopyOnWrite): KubeObject {
  const containers = podSpecOf(object)?.containers;
  if (!Array.isArray(containers)) {
    throw bundleError(`env needs a workload with a pod template; ${labelOf(object)} has none`, trait.place, 'RENDER');
  }
  const props = trait.properties;
  // Every container found before any is copied: a trait that names a missing one changes nothing.
  let result: KubeObject;
  let podSpec: Record<string, unknown>;
  if ('containers' in props) {
    const indexes = props.containers.map((patch, i) =>
      containerIndex(containers, patch.containerName, object, trait, `properties.containers[${i}].containerName`),
    );
    ({ object: result, podSpec } = withWritablePodSpec(object, cow));
    const writableContainers = cow.writable(containers);
    podSpec.containers = writableContainers;
    props.containers.forEach((patch, i) => {
      setEnvAt(writableContainers, indexes[i] as number, patch, cow);
    });
    return result;
  }
  // One patch for the container named after the component (the common case, once per manifest): no lists made.
  const index = containerIndex(
    containers,
    props.containerName ?? componentName,
    object,
    trait,
    props.containerName === undefined ? 'properties (containerName defaults to the component name)' : 'properties.containerName',
  );
  ({ object: result, podSpec } = withWritablePodSpec(object, cow));
  const writableContainers = cow.writable(containers);
  podSpec.containers = writableContainers;
  setEnvAt(writableContainers, index, props, cow);
  return result;
}

function containerIndex(containers: unknown[], containerName: string, object: KubeObject, trait: Trait, field: string): number {
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i];
    if (isPlainObject(c) && c.name === containerName) return i;
  }
  const names = containers.map((c) => (isPlainObject(c) ? String(c.name) : '?')).join(', ');
  throw bundleError(
    `container "${containerName}" not found in ${labelOf(object)} (containers: ${names})`,
    placeAt(trait.place, field),
    'RENDER',
  );
}

function setEnvAt(
  containers: unknown[],
  index: number,
  patch: { replace: boolean; env: Record<string, string>; unset: string[] },
  cow: CopyOnWrite,
): void {
  const container = cow.writable(containers[index] as Record<string, unknown>);
  containers[index] = container;
  setEnv(container, patch, cow);
}

/**
 * The entries an env trait sets, `{name, value}`, made once per trait in a render and frozen: every
 * container the trait reaches (a thousand components, one override) shares them, and their text.
 */
function envEntries(env: Record<string, string>, cow: CopyOnWrite): Array<[string, EnvVar]> {
  return cow.madeOnce(env, () => Object.entries(env).map(([name, value]): [string, EnvVar] => [name, Object.freeze({ name, value })]));
}

/** Sets the env of a writable container: a new list; the entries it does not set stay the shared ones. */
function setEnv(
  container: Record<string, unknown>,
  props: { replace: boolean; env: Record<string, string>; unset: string[] },
  cow: CopyOnWrite,
): void {
  const written: unknown[] = props.replace || !Array.isArray(container.env) ? [] : container.env;
  const env: EnvVar[] = [];
  for (const e of written) {
    // An entry that is not an object becomes one, as a spread makes it (never written so in practice).
    const entry = (typeof e === 'object' && e !== null && !Array.isArray(e) ? e : { ...(e as object) }) as EnvVar;
    if (props.unset.length === 0 || !props.unset.includes(entry.name)) env.push(entry);
  }
  for (const [name, entry] of envEntries(props.env, cow)) {
    let existing = -1;
    for (let i = 0; i < env.length; i++) {
      if ((env[i] as EnvVar).name === name) {
        existing = i;
        break;
      }
    }
    // A literal value replaces a valueFrom: the two are exclusive in a container spec.
    if (existing >= 0) env[existing] = entry;
    else env.push(entry);
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
