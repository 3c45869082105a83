import { parseComponentProperties, type Component } from '../model/application.ts';
import { isWorkloadComponent } from '../model/components/workloads.ts';
import type { AppBundle } from '../model/bundle.ts';
import { canonicalJsonFreezing, sha256Hex } from '../model/canonical.ts';
import type { ClusterRegistry } from '../model/clusters.ts';
import type { KubeObject } from '../model/kube.ts';
import {
  ANNOTATION_CONTENT_HASH,
  ANNOTATION_PUBLISH_VERSION,
  ANNOTATION_RESOURCE_POLICY,
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_COMPONENT,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  RESERVED_ANNOTATIONS,
  type ResourcePolicy,
} from '../model/ownership.ts';
import {
  DEFAULT_PARALLELISM,
  DEFAULT_STEP_TIMEOUT_MS,
  type ClusterTarget,
  type DeployStep,
  type Plan,
  type PlanStep,
} from '../model/plan.ts';
import {
  matchesResourceSelector,
  type OverrideEntry,
  type OverridePolicy,
  type Policy,
  type ResourceRulesPolicy,
  type TopologyPolicy,
} from '../model/policy.ts';
import { isClusterScoped } from '../model/scope.ts';
import { bundleError, placeAt, type SourcePlace } from '../model/source.ts';
import { parseDuration, type ApplyComponentStepSpec, type ApprovalSpec, type DeployStepSpec, type StepSpec } from '../model/workflow.ts';
import { resolveApprovalPolicy, type ApprovalPolicy } from '../model/approval-policy.ts';
import type { Trait } from '../model/traits.ts';
import { mergePatch } from './merge-patch.ts';
import { applyOnceStampsFor } from '../model/policy.ts';
import { ANNOTATION_APPLY_ONCE } from '../model/ownership.ts';
import { parseSelfHeal } from '../model/drift.ts';
import { renderWorkloadComponent } from './components/workloads.ts';
import { ObjectIndex, resolveComponentObjects } from './objects.ts';
import { RenderMemo, type ComponentObjects, type Relocation } from './render-memo.ts';
import { CopyOnWrite, shareWith } from './shared-objects.ts';
import {
  attachManifestSource,
  attachTargetPlacement,
  TRACKED_FIELDS,
  trackedValue,
  trackedValues,
  type ManifestSource,
  type TrackedField,
} from './sources.ts';
import { selectClusters } from './topology.ts';
import {
  applyComponentTopologies,
  legacyResources,
  lifecycleAnnotations,
  placeByClusterLabel,
  selectedComponents,
  withStepOrder,
} from './step-policies.ts';
import { applyTrait } from './traits.ts';

/**
 * Renders a parsed bundle against a cluster registry into a Plan: the ordered steps and, per deploy
 * step and cluster, the exact manifests. Pure and deterministic: same input, same plan.
 *
 * The manifests are deeply frozen and share structure (shared-objects.ts): the clusters of one
 * step that get the same manifests share one list, a manifest that comes out the same in several
 * steps is one object, and one that a trait changed shares every part the trait left alone with
 * the others (1,000 objects x 50 clusters would otherwise be 50,000 copies); copy before changing.
 *
 * Override policies apply in the order the step lists them, each on the previous result: their
 * `properties` merge into the component's, their traits run after the component's own, one after
 * the other (two traits of one type are not merged as KubeVela does; the later one simply applies
 * on the earlier result, which gives the same outcome for every trait we have). The step's
 * topology policies give its clusters (union, in order). Every manifest is stamped with the
 * ownership labels, the publish version and a content hash. Each manifest and target also carries
 * where it came from (sources.ts), for the checks made on the rendered output.
 */
export function render(bundle: AppBundle, registry: ClusterRegistry): Plan {
  const app = bundle.application;
  const publishVersion = app.annotations[ANNOTATION_PUBLISH_VERSION] ?? bundle.contentHash;
  const policies = new Map(bundle.policies.map((p) => [p.name, p]));
  const specs = bundle.workflow?.steps ?? defaultSteps(bundle);
  const index = new ObjectIndex(bundle.objects);
  const memo = new RenderMemo();
  const stamping: Stamping = {
    bundle,
    publishVersion,
    resourcePolicies: bundle.policies.filter((p): p is ResourceRulesPolicy => p.type === 'take-over' || p.type === 'shared-resource'),
    // The only policies applyOnceStampsFor and lifecycleAnnotations read, looked for once instead of once per manifest.
    objectPolicies: bundle.policies.filter((p) => p.type === 'apply-once' || p.type === 'read-only' || p.type === 'garbage-collect'),
    memo,
  };
  const steps = specs.map((spec): PlanStep => {
    if (spec.type === 'suspend') {
      const suspend: PlanStep = { name: spec.name, type: 'suspend' };
      if (spec.durationMs !== undefined) suspend.durationMs = spec.durationMs;
      if (spec.timeoutMs !== undefined) suspend.timeoutMs = spec.timeoutMs;
      const approval = spec.durationMs === undefined ? stepApprovalPolicy(spec.approval, registry, spec.place) : undefined;
      if (approval) suspend.approval = approval;
      return withStepOrder(suspend, spec);
    }
    const deploy = renderDeployStep(bundle, index, memo, registry, spec, policies, stamping);
    const approval = deploy.needsApproval && spec.type === 'deploy' ? stepApprovalPolicy(spec.approval, registry, spec.place) : undefined;
    if (approval) deploy.approval = approval;
    return withStepOrder(deploy, spec);
  });
  return {
    app: { namespace: app.namespace, name: app.name },
    publishVersion,
    contentHash: bundle.contentHash,
    steps,
    ...legacyResources(bundle.policies),
    ...parseSelfHeal(app),
  };
}

/**
 * The approval policy of a step that waits for approval: its `properties.approval` over the
 * registry's `approval:` defaults; none when neither gives one (any one approver, as before).
 */
function stepApprovalPolicy(spec: ApprovalSpec | undefined, registry: ClusterRegistry, stepPlace: SourcePlace): ApprovalPolicy | undefined {
  if (spec === undefined && registry.approval === undefined) return undefined;
  const resolved = resolveApprovalPolicy(spec?.fields, registry.approval, parseDuration);
  if ('policy' in resolved) return resolved.policy;
  const from =
    spec?.fields[resolved.field as keyof ApprovalSpec['fields']] !== undefined ? '' : " (the cluster registry's approval defaults)";
  throw bundleError(
    `approval.${resolved.field}${from}: ${resolved.message}`,
    spec ? placeAt(spec.place, resolved.field) : placeAt(stepPlace, 'properties'),
    'RENDER',
  );
}

/** Without a Workflow: one deploy step per topology policy (document order), each with every override policy. */
function defaultSteps(bundle: AppBundle): StepSpec[] {
  const topologies = bundle.policies.filter((p) => p.type === 'topology');
  if (topologies.length === 0) {
    throw bundleError(
      'no topology policy: nothing says which clusters to deploy to (there is no hub cluster to fall back to); add a Policy of type topology',
      bundle.application.place,
      'RENDER',
    );
  }
  const overrides = bundle.policies.filter((p) => p.type === 'override');
  return topologies.map((topology) => ({
    name: `deploy-${topology.name}`,
    type: 'deploy',
    policies: [...overrides, topology].map((p) => ({ name: p.name, place: p.place })),
    needsApproval: false,
    parallelism: DEFAULT_PARALLELISM,
    timeoutMs: DEFAULT_STEP_TIMEOUT_MS,
    place: topology.place,
  }));
}

function renderDeployStep(
  bundle: AppBundle,
  index: ObjectIndex,
  memo: RenderMemo,
  registry: ClusterRegistry,
  spec: DeployStepSpec | ApplyComponentStepSpec,
  policies: Map<string, Policy>,
  stamping: Stamping,
): DeployStep {
  const topologies: TopologyPolicy[] = spec.type === 'apply-component' ? applyComponentTopologies(spec, bundle, registry) : [];
  const overrides: OverridePolicy[] = [];
  for (const ref of spec.type === 'deploy' ? spec.policies : []) {
    const policy = policies.get(ref.name);
    if (!policy) {
      throw bundleError(
        `policy "${ref.name}" is not in the bundle (policies: ${[...policies.keys()].join(', ') || 'none'})`,
        ref.place,
        'RENDER',
      );
    }
    if (policy.type === 'topology') topologies.push(policy);
    else if (policy.type === 'override') overrides.push(policy);
    else
      throw bundleError(
        `policy "${ref.name}" is a ${policy.type} policy: it applies to the whole application, a deploy step lists only topology and override policies`,
        ref.place,
        'RENDER',
      );
  }
  if (topologies.length === 0) {
    throw bundleError(
      'a deploy step needs at least one topology policy among its policies; it would deploy nowhere',
      placeAt(spec.place, 'properties.policies'),
      'RENDER',
    );
  }
  for (const policy of overrides) rejectUnknownComponentNames(policy, bundle.application.components);
  const only = spec.type === 'apply-component' ? new Set([spec.component]) : selectedComponents(overrides, bundle.application.components);

  const clusters = new Map<string, { namespace: Relocation | undefined; place: SourcePlace }>();
  for (const topology of topologies) {
    const relocation = memo.relocation(topology);
    for (const { cluster, place } of selectClusters(topology, registry)) {
      if (!clusters.has(cluster)) clusters.set(cluster, { namespace: relocation, place });
    }
  }

  const rendered = renderComponents(bundle, index, memo, overrides, only);
  const byNamespace = new Map<string | undefined, KubeObject[]>();
  const targets: ClusterTarget[] = [];
  for (const [cluster, { namespace, place }] of clusters) {
    let manifests = byNamespace.get(namespace?.namespace);
    if (!manifests) {
      manifests = rendered.map((r) => memo.manifest(r, namespace, () => finalize(r, namespace, stamping)));
      byNamespace.set(namespace?.namespace, manifests);
    }
    // Clusters of one step with the same namespace share one frozen list: 50 clusters cost one copy.
    const target: ClusterTarget = { cluster, manifests };
    attachTargetPlacement(target, place);
    targets.push(target);
  }
  return {
    name: spec.name,
    type: 'deploy',
    needsApproval: spec.type === 'deploy' && spec.needsApproval,
    parallelism: spec.type === 'deploy' ? spec.parallelism : DEFAULT_PARALLELISM,
    timeoutMs: spec.timeoutMs,
    targets: placeByClusterLabel(targets, registry),
  };
}

interface RenderedObject {
  component: string;
  componentType: string;
  object: KubeObject;
  source: ManifestSource;
}

function renderComponents(
  bundle: AppBundle,
  index: ObjectIndex,
  memo: RenderMemo,
  overrides: OverridePolicy[],
  only: Set<string> | undefined,
): RenderedObject[] {
  const app = bundle.application;
  const out: RenderedObject[] = [];
  const seen = new Map<string, string>();
  const defaultNamespacePlace = placeAt(app.place, 'metadata.namespace');
  for (const component of app.components) {
    if (only !== undefined && !only.has(component.name)) continue;
    let properties: unknown = component.properties;
    // Where the properties were last written: the component, or the override entry that merged into them.
    let propertiesFrom = component.place;
    let traits = component.traits;
    for (const policy of overrides) {
      for (const entry of policy.components) {
        if (!matchesComponent(entry, component)) continue;
        if (entry.properties) {
          properties = mergePatch(properties, entry.properties);
          propertiesFrom = entry.place;
        }
        if (entry.traits.length === 0) continue;
        // The component's own list is copied once, when an override adds to it.
        if (traits === component.traits) traits = [...traits];
        traits.push(...entry.traits);
      }
    }
    const resolvedOnce = memo.componentObjects(component, properties, () => {
      const propertiesPlace = placeAt(propertiesFrom, 'properties');
      const typed = parseComponentProperties(component.type, properties, propertiesPlace, component.name);
      const resolved = isWorkloadComponent(typed)
        ? renderWorkloadComponent(typed, { appName: app.name, componentName: component.name }).map((object) => ({
            object,
            place: propertiesPlace,
          }))
        : resolveComponentObjects(typed, index, app.namespace, propertiesPlace);
      const objects = resolved.map((r) => r.object);
      const sources = resolved.map((r): ManifestSource => ({ object: r.place, fields: {} }));
      objects.forEach((object, i) => {
        if (object.metadata.namespace || isClusterScoped(object.kind)) return;
        object.metadata.namespace = app.namespace;
        const source = sources[i];
        if (source) source.fields['metadata.namespace'] = defaultNamespacePlace;
      });
      return { objects, sources };
    });
    const { objects, sources } = traits.length === 0 ? resolvedOnce : applyTraits(resolvedOnce, traits, component.name, memo);
    objects.forEach((object, i) => {
      const identity = memo.identity(object, resolvedOnce.objects[i], app.namespace);
      const owner = seen.get(identity);
      if (owner !== undefined) {
        throw bundleError(
          `${object.kind} ${object.metadata.name} is already deployed by component "${owner}"; an object belongs to one component`,
          component.place,
          'RENDER',
        );
      }
      seen.set(identity, component.name);
      out.push({
        component: component.name,
        componentType: component.type,
        object,
        source: sources[i] ?? { object: component.place, fields: {} },
      });
    });
  }
  return out;
}

/**
 * Applies the traits to the component's objects, copying only what they change (CopyOnWrite):
 * what they leave as it was stays the shared object (or part of it), and its source the shared source.
 */
function applyTraits(
  resolved: ComponentObjects,
  traits: Trait[],
  componentName: string,
  memo: RenderMemo,
): { objects: readonly KubeObject[]; sources: readonly ManifestSource[] } {
  const objects = [...resolved.objects];
  const sources = [...resolved.sources];
  const tracked = [...resolved.tracked];
  const cow = new CopyOnWrite(memo.traitValues);
  for (const trait of traits) applyTracked(objects, sources, tracked, trait, componentName, cow);
  return {
    // What the copy-on-write traits left alone is shared already; after a deep copy or a patch,
    // every part that came out equal to the original is made the original again.
    // Frozen with the manifest (finalize): the parts not shared are then hashed without a memo entry each.
    objects: cow.copiedDeep || traits.some(isPatch) ? objects.map((object, i) => shareWith(object, resolved.objects[i])) : objects,
    sources,
  };
}

const isPatch = (trait: Trait) => trait.type === 'json-patch' || trait.type === 'json-merge-patch';

/**
 * The tracked fields (TRACKED_FIELDS) a trait can change, for the traits that change known parts;
 * any other trait may change any of them. env and scaler write only under `spec`.
 */
const TRACKED_WRITES: Partial<Record<Trait['type'], readonly TrackedField[]>> = {
  env: [],
  scaler: [],
  labels: ['metadata.labels'],
  annotations: ['metadata.annotations'],
};

/**
 * Applies a trait and records it as the writer of every tracked field it changed. `tracked` holds
 * each object's tracked values as they are now; a trait changes one object, whose values it updates.
 */
function applyTracked(
  objects: KubeObject[],
  sources: ManifestSource[],
  tracked: (readonly string[])[],
  trait: Trait,
  componentName: string,
  cow: CopyOnWrite,
): void {
  const count = objects.length;
  const index = applyTrait(objects, trait, componentName, cow);
  // Objects a trait adds (gateway's Ingress, storage's PVC...) are the trait's own text.
  for (let i = count; i < objects.length; i++) {
    sources.push({ object: trait.place, fields: {} });
    tracked.push(trackedValues(objects[i] as KubeObject));
  }
  if (index === undefined) return;
  const object = objects[index];
  const source = sources[index];
  const before = tracked[index];
  if (!object || !source || !before) return;
  const writes = TRACKED_WRITES[trait.type];
  if (writes?.length === 0) return;
  let after: readonly string[];
  if (writes === undefined) after = trackedValues(object);
  else {
    const updated = [...before];
    for (const field of writes) updated[TRACKED_FIELDS.indexOf(field)] = trackedValue(object, field);
    after = updated;
  }
  let written = source;
  for (let f = 0; f < TRACKED_FIELDS.length; f++) {
    const field = TRACKED_FIELDS[f] as TrackedField;
    if (after[f] === before[f] || written.fields[field] === trait.place) continue;
    // The sources as resolved are shared by every step: a trait writes on its own copy.
    if (written === source) written = { object: source.object, fields: { ...source.fields } };
    written.fields[field] = trait.place;
  }
  sources[index] = written;
  tracked[index] = after;
}

/** `*` matches any run of characters; the pattern must match the whole name (unlike KubeVela's unanchored regex). */
export function matchesComponentName(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  // Glob matching without a RegExp: the first and last parts anchor, the parts between are found
  // left to right (the leftmost match of each leaves the most room for the rest).
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const found = name.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

function matchesComponent(entry: OverrideEntry, component: Component): boolean {
  if (entry.name !== undefined && !matchesComponentName(entry.name, component.name)) return false;
  return entry.type === undefined || entry.type === component.type;
}

/** An exact name that matches no component is a typo, not a choice: say so instead of silently doing nothing. */
function rejectUnknownComponentNames(policy: OverridePolicy, components: Component[]): void {
  for (const entry of policy.components) {
    if (entry.name === undefined || entry.name.includes('*')) continue;
    if (components.some((c) => c.name === entry.name)) continue;
    const place: SourcePlace = placeAt(entry.place, 'name');
    throw bundleError(`no component named "${entry.name}" (components: ${components.map((c) => c.name).join(', ')})`, place, 'RENDER');
  }
}

/** What finalize needs besides the object: the same for every manifest of one render. */
interface Stamping {
  bundle: AppBundle;
  publishVersion: string;
  resourcePolicies: ResourceRulesPolicy[];
  /** The apply-once, read-only and garbage-collect policies, in bundle order. */
  objectPolicies: Policy[];
  memo: RenderMemo;
}

/**
 * The rendered object stamped: relocated namespace, ownership labels, publish version, content
 * hash, source. A new object and metadata; every other part stays the rendered object's (shared).
 */
function finalize(rendered: RenderedObject, relocation: Relocation | undefined, stamping: Stamping): KubeObject {
  const { bundle, publishVersion, resourcePolicies, objectPolicies, memo } = stamping;
  const app = bundle.application;
  const object: KubeObject = { ...rendered.object, metadata: { ...rendered.object.metadata } };
  let source = rendered.source;
  if (relocation !== undefined && !isClusterScoped(object.kind)) {
    object.metadata.namespace = relocation.namespace;
    source = { object: source.object, fields: { ...source.fields, 'metadata.namespace': relocation.place } };
  }
  attachManifestSource(object, source);
  // The same labels for every manifest of the component made from the same labels: one frozen object.
  object.metadata.labels = memo.stampedLabels(object.metadata.labels, rendered.component, (labels) => ({
    ...labels,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_APP_NAMESPACE]: app.namespace,
    [LABEL_APP_NAME]: app.name,
    [LABEL_COMPONENT]: rendered.component,
  }));
  // Whose an object is, and who may share it, is tricenter's to say: a bundle cannot forge it.
  // The written annotations but the reserved ones, then tricenter's: one new object, no lists made.
  const stampedAnnotations: Record<string, string> = {};
  const written = object.metadata.annotations;
  if (written !== undefined) {
    for (const key of Object.keys(written)) {
      if (!RESERVED_ANNOTATIONS.has(key)) setAnnotation(stampedAnnotations, key, written[key] as string);
    }
  }
  stampedAnnotations[ANNOTATION_PUBLISH_VERSION] = publishVersion;
  const resourcePolicy = resourcePolicies.length > 0 ? resourcePolicyOf(rendered, resourcePolicies) : undefined;
  if (resourcePolicy) stampedAnnotations[ANNOTATION_RESOURCE_POLICY] = resourcePolicy;
  object.metadata.annotations = stampedAnnotations;
  if (objectPolicies.length > 0) {
    const target = {
      component: rendered.component,
      componentType: rendered.componentType,
      kind: object.kind,
      name: object.metadata.name,
    };
    const applyOnce = applyOnceStampsFor(objectPolicies, target);
    if (applyOnce) object.metadata.annotations[ANNOTATION_APPLY_ONCE] = applyOnce;
    Object.assign(object.metadata.annotations, lifecycleAnnotations(objectPolicies, target));
  }
  // Hashing writes every part, and freezes it (the manifest is deeply frozen, see render), all but
  // the three the hash goes into: those are frozen once it is in.
  const { metadata } = object;
  const stamped = metadata.annotations as Record<string, string>;
  stamped[ANNOTATION_CONTENT_HASH] = sha256Hex(canonicalJsonFreezing(object, memo.canonical, [object, metadata, stamped]));
  Object.freeze(stamped);
  Object.freeze(metadata);
  return Object.freeze(object);
}

/** `annotations[key] = value` as a spread writes it: a key named `__proto__` is an own member. */
function setAnnotation(annotations: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(annotations, key, { value, enumerable: true, writable: true, configurable: true });
  else annotations[key] = value;
}

/** What the application's take-over / shared-resource policies say about this object, if anything. */
function resourcePolicyOf(rendered: RenderedObject, policies: ResourceRulesPolicy[]): ResourcePolicy | undefined {
  const target = {
    component: rendered.component,
    componentType: rendered.componentType,
    kind: rendered.object.kind,
    name: rendered.object.metadata.name,
  };
  const matches = (type: ResourceRulesPolicy['type']) =>
    policies.some((policy) => policy.type === type && policy.selectors.some((selector) => matchesResourceSelector(selector, target)));
  const takeOver = matches('take-over');
  const shared = matches('shared-resource');
  if (takeOver && shared) return 'take-over,shared';
  return takeOver ? 'take-over' : shared ? 'shared' : undefined;
}
