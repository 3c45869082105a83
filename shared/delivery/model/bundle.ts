import { BundleError } from '../../platform/errors.ts';
import type { LoadedBundle } from './loaded-bundle.ts';
import { OAM_GROUP, parseApplication, withDefaultName, type Application } from './application.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { clusterRegistrySchema, type ClusterRegistry } from './clusters.ts';

export { parseClusterRegistry } from './clusters.ts';
import { apiGroup, type KubeObject } from './kube.ts';
import { kubeObjectSchema } from './kube-schema.ts';
import { parseInlinePolicy, parsePolicyDocument, type Policy } from './policy.ts';
import { isClusterScoped } from './scope.ts';
import { bundleError, objectLabel, parseAt, placeAt, type SourcePlace } from './source.ts';
import { trafficPolicySchema, type TrafficPolicy } from './traffic-policy.ts';
import { parseStepsWithMode, parseWorkflowDocument, type Workflow } from './workflow.ts';

/**
 * A bundle's documents, classified and validated: the one Application, its policies and workflow,
 * traffic policies, the cluster registry (clusters.yaml) when the bundle carries one, and the
 * plain Kubernetes objects `ref-objects` components pick from. Every piece keeps its source place.
 */
export interface BundleObject {
  object: KubeObject;
  place: SourcePlace;
}

export interface AppBundle {
  source: string;
  application: Application;
  /** Policy documents in document order, then the Application's inline policies. */
  policies: Policy[];
  /** The workflow the Application runs (by `spec.workflow`, or the bundle's only Workflow), if any. */
  workflow?: Workflow;
  trafficPolicies: Array<{ policy: TrafficPolicy; place: SourcePlace }>;
  registry?: { registry: ClusterRegistry; place: SourcePlace };
  objects: BundleObject[];
  /** sha256 over the canonical documents, sorted: the same content in any packaging has the same hash. */
  contentHash: string;
}

const OAM_KINDS = ['Application', 'Policy', 'Workflow'] as const;
const TRAFFIC_GROUP = 'tricenter.io';

interface Classified {
  kind: 'application' | 'policy' | 'workflow' | 'traffic' | 'registry' | 'list' | 'object';
  value: Record<string, unknown>;
  place: SourcePlace;
}

export function parseBundle(loaded: LoadedBundle): AppBundle {
  const classified = loaded.documents.map((doc): Classified => {
    const value = doc.value;
    const metadata = isRecord(value.metadata) ? value.metadata : {};
    const place: SourcePlace = { file: doc.file, document: doc.index, line: doc.line, path: '' };
    const label = objectLabel(value.kind, metadata.namespace, metadata.name);
    if (label) place.object = label;
    return { kind: classify(value, place), value, place };
  });

  const applications = classified.filter((d) => d.kind === 'application');
  const appDoc = applications[0];
  if (!appDoc) {
    throw new BundleError(`no Application (${OAM_GROUP}) found among ${loaded.files.join(', ')}`, { file: loaded.source });
  }
  const second = applications[1];
  if (second) {
    throw bundleError(
      `a bundle holds exactly one Application; another is at ${describePlace(appDoc.place)}`,
      second.place,
      'BUNDLE_INVALID',
    );
  }
  const application = parseApplication(appDoc.value, appDoc.place);

  const policies: Policy[] = [];
  const workflows: Workflow[] = [];
  const trafficPolicies: AppBundle['trafficPolicies'] = [];
  const objects: BundleObject[] = [];
  let registry: AppBundle['registry'];
  for (const doc of classified) {
    switch (doc.kind) {
      case 'policy':
        policies.push(parsePolicyDocument(doc.value, doc.place));
        break;
      case 'workflow':
        workflows.push(parseWorkflowDocument(doc.value, doc.place));
        break;
      case 'traffic':
        trafficPolicies.push({ policy: parseAt(trafficPolicySchema, doc.value, doc.place), place: doc.place });
        break;
      case 'registry':
        if (registry) {
          throw bundleError(
            `a bundle holds at most one cluster registry; another is at ${describePlace(registry.place)}`,
            doc.place,
            'BUNDLE_INVALID',
          );
        }
        registry = { registry: parseAt(clusterRegistrySchema, doc.value, doc.place), place: doc.place };
        break;
      case 'object':
        objects.push({ object: parseAt(kubeObjectSchema, doc.value, doc.place), place: doc.place });
        break;
      case 'list':
        objects.push(...listItems(doc));
        break;
      case 'application':
        break;
    }
  }
  const inline = application.inlinePolicies.map((p, i) => parseInlinePolicy(p, placeAt(application.place, ['spec', 'policies', i]), i));
  rejectDuplicates(
    policies.map((p) => ({ key: p.name, place: p.place })),
    'a Policy document named',
  );
  rejectDuplicates(
    inline.map((p) => ({ key: p.name, place: p.place })),
    'a policy named',
  );
  // KubeVela: an inline policy wins over a Policy document of the same name.
  const inlineNames = new Set(inline.map((p) => p.name));
  const documents = policies.filter((p) => !inlineNames.has(p.name));
  policies.length = 0;
  policies.push(...documents, ...inline);
  rejectDuplicates(
    workflows.map((w) => ({ key: w.name, place: w.place })),
    'a workflow named',
  );
  rejectDuplicates(
    trafficPolicies.map((t) => ({ key: `${t.policy.metadata.namespace}/${t.policy.metadata.name}`, place: t.place })),
    'a TrafficPolicy',
  );
  rejectDuplicates(
    [...objects, ...inlineObjects(application)].map(({ object, place }) => ({ key: objectIdentity(object, application.namespace), place })),
    'the same object',
  );

  const bundle: AppBundle = {
    source: loaded.source,
    application,
    policies,
    trafficPolicies,
    objects,
    contentHash: bundleContentHash(loaded),
  };
  const workflow = chooseWorkflow(application, workflows);
  if (workflow) bundle.workflow = workflow;
  if (registry) bundle.registry = registry;
  return bundle;
}

/** sha256 over the sorted canonical JSON of every document: file names and order do not count. */
function bundleContentHash(loaded: LoadedBundle): string {
  return sha256Hex(
    loaded.documents
      .map((d) => canonicalJson(d.value))
      .sort()
      .join('\n'),
  );
}

/** What two objects must not share: kind, API group (not version), effective namespace, name: `Deployment.apps demo/web`. */
export function objectIdentity(object: KubeObject, defaultNamespace: string): string {
  const namespace = isClusterScoped(object.kind) ? '' : (object.metadata.namespace ?? defaultNamespace);
  const group = apiGroup(object.apiVersion);
  return `${object.kind}${group ? `.${group}` : ''} ${namespace ? `${namespace}/` : ''}${object.metadata.name}`;
}

function describePlace(place: SourcePlace): string {
  const parts = [`${place.file} document ${place.document + 1}`];
  if (place.path) parts.push(`field ${place.path}`);
  return parts.join(' ');
}

function classify(value: Record<string, unknown>, place: SourcePlace): Classified['kind'] {
  if (value.kind === undefined && 'clusters' in value) return 'registry';
  const group = typeof value.apiVersion === 'string' ? apiGroup(value.apiVersion) : '';
  if (group === OAM_GROUP) {
    switch (value.kind) {
      case 'Application':
        return 'application';
      case 'Policy':
        return 'policy';
      case 'Workflow':
        return 'workflow';
      default:
        throw bundleError(
          `unsupported ${OAM_GROUP} kind ${JSON.stringify(value.kind)}; supported: ${OAM_KINDS.join(', ')}`,
          placeAt(place, 'kind'),
        );
    }
  }
  if (group === TRAFFIC_GROUP && value.kind === 'TrafficPolicy') return 'traffic';
  if (value.apiVersion === 'v1' && value.kind === 'List' && Array.isArray(value.items)) return 'list';
  return 'object';
}

/** `kubectl get -o yaml` exports a `v1 List`: its items are the objects, each named by its own place. */
function listItems(doc: Classified): BundleObject[] {
  const items = doc.value.items as unknown[];
  return items.map((item, i) => {
    const metadata = isRecord(item) && isRecord(item.metadata) ? item.metadata : {};
    const place: SourcePlace = { ...doc.place, path: `items[${i}]` };
    const label = isRecord(item) ? objectLabel(item.kind, metadata.namespace, metadata.name) : undefined;
    if (label) place.object = label;
    else delete place.object;
    return { object: parseAt(kubeObjectSchema, item, place), place };
  });
}

function inlineObjects(application: Application): BundleObject[] {
  return application.components.flatMap((component) => {
    if (component.type !== 'k8s-objects') return [];
    const list = component.properties.objects;
    return (Array.isArray(list) ? list : []).map((raw, i) => {
      const place = placeAt(component.place, ['properties', 'objects', i]);
      return { object: parseAt(kubeObjectSchema, withDefaultName(raw, component.name), place), place };
    });
  });
}

function chooseWorkflow(application: Application, workflows: Workflow[]): Workflow | undefined {
  const wf = application.workflow;
  if (wf && 'steps' in wf) {
    const place = placeAt(application.place, 'spec.workflow');
    return { name: application.name, steps: parseStepsWithMode(wf.steps, wf.mode, place), place };
  }
  if (wf) {
    const found = workflows.find((w) => w.name === wf.ref);
    if (!found) {
      const known = workflows.map((w) => w.name);
      throw bundleError(
        `Workflow "${wf.ref}" is not in the bundle${known.length ? ` (workflows: ${known.join(', ')})` : ''}`,
        placeAt(application.place, 'spec.workflow.ref'),
      );
    }
    return found;
  }
  const [only, another] = workflows;
  if (another && only) {
    throw bundleError(
      `the bundle holds several Workflows (${workflows.map((w) => w.name).join(', ')}); name one in the Application's spec.workflow.ref`,
      placeAt(application.place, 'spec'),
    );
  }
  return only;
}

function rejectDuplicates(items: Array<{ key: string; place: SourcePlace }>, what: string): void {
  const seen = new Map<string, SourcePlace>();
  for (const { key, place } of items) {
    const first = seen.get(key);
    if (first) throw bundleError(`duplicate: ${what} ${key} is also defined at ${describePlace(first)}`, place, 'BUNDLE_INVALID');
    seen.set(key, place);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
