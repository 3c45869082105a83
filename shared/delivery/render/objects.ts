import type { ComponentProperties, ObjectSelector } from '../model/application.ts';
import type { BundleObject } from '../model/bundle.ts';
import { apiGroup, type KubeObject } from '../model/kube.ts';
import { isClusterScoped } from '../model/scope.ts';
import { bundleError, placeAt, type SourcePlace } from '../model/source.ts';
import { copyJson } from './shared-objects.ts';

/**
 * The objects a component stands for: `ref-objects` pick them from the bundle, `k8s-objects`
 * carry them inline. Each comes back as a fresh copy without the fields an API server sets, so
 * that an object exported from a live cluster can be shipped to others.
 */

const SERVER_SET_METADATA = [
  'resourceVersion',
  'uid',
  'managedFields',
  'creationTimestamp',
  'generation',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];
/** ownerReferences name owners by uid, which only means something in the cluster it was exported from. */
const CLUSTER_BOUND_METADATA = ['ownerReferences'];
const SERVER_SET_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];

function stripServerFields(object: KubeObject): KubeObject {
  // Bundle data is plain JSON (parsed YAML): copied as a JSON round trip would, without the text.
  const copy = copyJson(object);
  delete copy.status;
  const metadata = copy.metadata as Record<string, unknown>;
  for (const key of [...SERVER_SET_METADATA, ...CLUSTER_BOUND_METADATA]) delete metadata[key];
  if (copy.metadata.annotations) {
    for (const key of SERVER_SET_ANNOTATIONS) delete copy.metadata.annotations[key];
    if (Object.keys(copy.metadata.annotations).length === 0) delete copy.metadata.annotations;
  }
  const spec = copy.spec as Record<string, unknown> | undefined;
  // A Service's cluster IP is allocated per cluster; "None" (headless) is a choice and is kept.
  if (copy.kind === 'Service' && apiGroup(copy.apiVersion) === '' && spec && spec.clusterIP !== 'None') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  }
  return copy;
}

/** Well-known short names kubectl accepts, so `resource: deploy` works like `resource: deployments`. */
const SHORT_NAMES: Record<string, string> = {
  deploy: 'Deployment',
  svc: 'Service',
  cm: 'ConfigMap',
  ing: 'Ingress',
  sa: 'ServiceAccount',
  ns: 'Namespace',
  sts: 'StatefulSet',
  ds: 'DaemonSet',
  rs: 'ReplicaSet',
  pvc: 'PersistentVolumeClaim',
  pv: 'PersistentVolume',
  hpa: 'HorizontalPodAutoscaler',
  cj: 'CronJob',
  netpol: 'NetworkPolicy',
  pdb: 'PodDisruptionBudget',
  po: 'Pod',
  crd: 'CustomResourceDefinition',
  sc: 'StorageClass',
  pc: 'PriorityClass',
  ep: 'Endpoints',
  quota: 'ResourceQuota',
  limits: 'LimitRange',
};

/** The resource names of a kind: `Ingress` -> ingress, ingresses; `NetworkPolicy` -> networkpolicy, networkpolicies. */
function resourceNames(kind: string): string[] {
  const singular = kind.toLowerCase();
  let plural: string;
  if (/(s|x|z|ch|sh)$/.test(singular)) plural = `${singular}es`;
  else if (/[^aeiou]y$/.test(singular)) plural = `${singular.slice(0, -1)}ies`;
  else plural = `${singular}s`;
  const names = [singular, plural];
  for (const [short, target] of Object.entries(SHORT_NAMES)) if (target === kind) names.push(short);
  return names;
}

function effectiveNamespace(object: KubeObject, appNamespace: string): string {
  return isClusterScoped(object.kind) ? '' : (object.metadata.namespace ?? appNamespace);
}

/** The candidates already have the right kind; what is left to check is the version or group. */
function matchesType(object: KubeObject, selector: ObjectSelector): boolean {
  if (selector.kind !== undefined) return object.apiVersion === selector.apiVersion;
  return selector.group === undefined || apiGroup(object.apiVersion) === selector.group;
}

function describeSelector(selector: ObjectSelector, namespace: string): string {
  const type =
    selector.kind !== undefined
      ? `${selector.apiVersion} ${selector.kind}`
      : `${selector.resource}${selector.group ? `.${selector.group}` : ''}`;
  const which =
    selector.name !== undefined
      ? `${namespace ? `${namespace}/` : ''}${selector.name}`
      : `with labels ${JSON.stringify(selector.labelSelector)} in namespace ${namespace}`;
  return `${type} ${which}`;
}

/**
 * The bundle's objects by kind, and which kinds a resource name stands for: a bundle of thousands
 * of objects is searched once per kind instead of once per reference.
 */
export class ObjectIndex {
  private readonly byKind = new Map<string, BundleObject[]>();
  private readonly byKindAndName = new Map<string, BundleObject[]>();
  private readonly kindsOfResource = new Map<string, string[]>();

  constructor(readonly objects: BundleObject[]) {
    for (const entry of objects) {
      push(this.byKind, entry.object.kind, entry);
      push(this.byKindAndName, `${entry.object.kind}/${entry.object.metadata.name}`, entry);
    }
  }

  /** Objects of the selector's kind(s), and of its name when it has one; the caller checks the rest. */
  candidates(selector: ObjectSelector): BundleObject[] {
    const kinds = selector.kind !== undefined ? [selector.kind] : this.kindsOf(selector.resource ?? '');
    const lookup = (kind: string) =>
      (selector.name !== undefined ? this.byKindAndName.get(`${kind}/${selector.name}`) : this.byKind.get(kind)) ?? [];
    return kinds.length === 1 ? lookup(kinds[0] ?? '') : kinds.flatMap(lookup);
  }

  private kindsOf(resource: string): string[] {
    const lower = resource.toLowerCase();
    let kinds = this.kindsOfResource.get(lower);
    if (!kinds) {
      kinds = [...this.byKind.keys()].filter((kind) => resourceNames(kind).includes(lower));
      this.kindsOfResource.set(lower, kinds);
    }
    return kinds;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function resolveSelector(selector: ObjectSelector, index: ObjectIndex, appNamespace: string, place: SourcePlace): BundleObject[] {
  const namespace = selector.namespace ?? appNamespace;
  const inNamespace = index.candidates(selector).filter(({ object }) => {
    if (!matchesType(object, selector)) return false;
    const own = effectiveNamespace(object, appNamespace);
    return own === '' || own === namespace;
  });
  let found: BundleObject[];
  if (selector.name !== undefined) {
    found = inNamespace.filter(({ object }) => object.metadata.name === selector.name);
    const groups = new Set(found.map(({ object }) => apiGroup(object.apiVersion)));
    if (groups.size > 1) {
      throw bundleError(
        `resource "${selector.resource}" named ${selector.name} is ambiguous (groups ${[...groups].join(', ')}); add group`,
        place,
        'RENDER',
      );
    }
  } else {
    const wanted = Object.entries(selector.labelSelector ?? {});
    found = inNamespace.filter(({ object }) => wanted.every(([k, v]) => object.metadata.labels?.[k] === v));
  }
  if (found.length === 0) {
    const near = index.objects.find(({ object }) => object.kind === selector.kind && object.metadata.name === selector.name);
    const hint = near
      ? ` (the bundle has ${near.object.apiVersion} ${near.object.kind} ${near.object.metadata.name} at ${near.place.file} document ${near.place.document + 1})`
      : '';
    throw bundleError(
      `references ${describeSelector(selector, isClusterScoped(selector.kind ?? '') ? '' : namespace)}, which is not in the bundle${hint}`,
      place,
      'RENDER',
    );
  }
  return found;
}

/**
 * The component's objects (fresh copies, server fields stripped), in reference order, each with
 * the place it is written at: its own document, or its entry in the component's properties.
 */
export function resolveComponentObjects(
  properties: ComponentProperties,
  index: ObjectIndex,
  appNamespace: string,
  place: SourcePlace,
): BundleObject[] {
  if (properties.type === 'k8s-objects') {
    return properties.objects.map((object, i) => ({ object: stripServerFields(object), place: placeAt(place, ['objects', i]) }));
  }
  return properties.objects.flatMap((selector, i) =>
    resolveSelector(selector, index, appNamespace, placeAt(place, ['objects', i])).map((found) => ({
      object: stripServerFields(found.object),
      place: found.place,
    })),
  );
}
