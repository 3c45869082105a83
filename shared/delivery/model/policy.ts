import { z } from 'zod';
import { bundleError, parseAt, placeAt, unsupportedType, type SourcePlace } from './source.ts';
import { parseTrait, type Trait } from './traits.ts';
import { APPLY_ONCE_AFFECTS, applyOnceAnnotation, type ApplyOnceAffect, type ApplyOnceStamp } from './drift.ts';
import { parseFieldPath, WHOLE_OBJECT } from './field-path.ts';

/**
 * KubeVela-style policies: `topology` (where to deploy), `override` (what to change there), and
 * the resource policies `take-over` (adopt objects created outside tricenter), `shared-resource`
 * (share objects with other applications), `read-only` (objects only read and health-checked,
 * never written) and `garbage-collect` (what a finished run may prune). A policy is either a
 * `Policy` document (core.oam.dev/v1alpha1, `type`/`properties` at the top) or an entry of the
 * Application's `spec.policies`; an entry without a name is named `<type>:auto-gen:<index>`.
 */
const SUPPORTED_POLICY_TYPES = [
  'topology',
  'override',
  'take-over',
  'shared-resource',
  'read-only',
  'garbage-collect',
  'apply-once',
] as const;

const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits, -)')
  .max(63);

const labelSelectorRequirementSchema = z
  .strictObject({
    key: z.string().min(1),
    operator: z.enum(SELECTOR_OPERATORS),
    values: z.array(z.string()).optional(),
  })
  .superRefine((req, ctx) => {
    const needsValues = req.operator === 'In' || req.operator === 'NotIn';
    if (needsValues && (req.values === undefined || req.values.length === 0)) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${req.operator} needs a non-empty values list` });
    }
    if (!needsValues && req.values !== undefined && req.values.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['values'], message: `operator ${req.operator} takes no values` });
    }
  });
export type LabelSelectorRequirement = z.infer<typeof labelSelectorRequirementSchema>;

/** A Kubernetes LabelSelector. */
const structuredSelectorSchema = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(labelSelectorRequirementSchema).optional(),
});
/** KubeVela's form: a plain `{label: value}` map, meaning matchLabels. */
const plainSelectorSchema = z.record(z.string(), z.string());
export type ClusterLabelSelector = z.infer<typeof structuredSelectorSchema> | z.infer<typeof plainSelectorSchema>;

/**
 * Either form, told apart by the keys (a union would blame the wrong branch in its messages):
 * `matchLabels` / `matchExpressions` make it a LabelSelector.
 */
function parseClusterLabelSelector(value: unknown, place: SourcePlace): ClusterLabelSelector {
  const structured = typeof value === 'object' && value !== null && ('matchLabels' in value || 'matchExpressions' in value);
  return structured ? parseAt(structuredSelectorSchema, value, place) : parseAt(plainSelectorSchema, value, place);
}

const topologyEnvelopeSchema = z.strictObject({
  /** Cluster names or aliases from the registry; when present, wins over clusterLabelSelector. */
  clusters: z.array(z.string().min(1)).optional(),
  clusterLabelSelector: z.unknown().optional(),
  /** Matching no cluster is an error unless this is true. */
  allowEmpty: z.boolean().default(false),
  /** Deploy the namespaced objects into this namespace instead of their own. */
  namespace: dnsLabel.optional(),
});

interface TopologyProperties {
  clusters?: string[];
  clusterLabelSelector?: ClusterLabelSelector;
  allowEmpty: boolean;
  namespace?: string;
}

function parseTopologyProperties(value: unknown, place: SourcePlace): TopologyProperties {
  const envelope = parseAt(topologyEnvelopeSchema, value, place);
  const props: TopologyProperties = { allowEmpty: envelope.allowEmpty };
  if (envelope.clusters !== undefined) props.clusters = envelope.clusters;
  if (envelope.namespace !== undefined) props.namespace = envelope.namespace;
  if (envelope.clusterLabelSelector !== undefined) {
    props.clusterLabelSelector = parseClusterLabelSelector(envelope.clusterLabelSelector, placeAt(place, 'clusterLabelSelector'));
  }
  return props;
}

const overrideEntrySchema = z.strictObject({
  /** Component name; `*` matches any run of characters, and the pattern must match the whole name. */
  name: z.string().min(1).optional(),
  /** Component type, e.g. `ref-objects`. */
  type: z.string().min(1).optional(),
  /** Deep-merged into the component's properties: maps merge, lists are replaced, `null` deletes. */
  properties: z.record(z.string(), z.unknown()).optional(),
  traits: z.array(z.unknown()).default([]),
});

export interface OverrideEntry {
  name?: string;
  type?: string;
  properties?: Record<string, unknown>;
  traits: Trait[];
  place: SourcePlace;
}

interface PolicyBase {
  name: string;
  place: SourcePlace;
}
export interface TopologyPolicy extends PolicyBase {
  type: 'topology';
  properties: TopologyProperties;
}
export interface OverridePolicy extends PolicyBase {
  type: 'override';
  components: OverrideEntry[];
  /** KubeVela's `selector`: the components a deploy step listing this policy deploys (others are left out of it). */
  selector?: { names: string[]; place: SourcePlace };
}
const SELECTOR_FIELDS = ['componentNames', 'componentTypes', 'resourceTypes', 'resourceNames'] as const;

/** KubeVela's ResourcePolicyRuleSelector: an object matches when every list given contains it. */
const resourceSelectorSchema = z
  .strictObject({
    componentNames: z.array(z.string().min(1)).min(1).optional(),
    componentTypes: z.array(z.string().min(1)).min(1).optional(),
    /** Kinds, e.g. `ConfigMap`. */
    resourceTypes: z.array(z.string().min(1)).min(1).optional(),
    resourceNames: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine(
    (selector) => Object.keys(selector).length > 0,
    'an empty selector would match every object; name componentNames, componentTypes, resourceTypes or resourceNames',
  );
export type ResourceSelector = z.infer<typeof resourceSelectorSchema>;

const resourcePolicyPropertiesSchema = z.strictObject({ rules: z.array(z.strictObject({ selector: z.unknown() })).min(1) });

export interface ResourceRulesPolicy extends PolicyBase {
  type: 'take-over' | 'shared-resource' | 'read-only';
  selectors: ResourceSelector[];
}

/** When a finished run may delete an object the release no longer has (KubeVela's garbage-collect strategies). */
type GcStrategy = 'onAppUpdate' | 'onAppDelete' | 'never';

const gcRuleSchema = z.strictObject({
  selector: z.unknown(),
  strategy: z.enum(['onAppUpdate', 'onAppDelete', 'never']).default('onAppUpdate'),
  propagation: z.enum(['orphan', 'cascading']).optional(),
});

const gcPropertiesSchema = z.strictObject({
  keepLegacyResource: z.boolean().default(false),
  continueOnFailure: z.boolean().optional(),
  applicationRevisionLimit: z.number().int().optional(),
  rules: z.array(gcRuleSchema).optional(),
});

interface GcRule {
  selector: ResourceSelector;
  strategy: GcStrategy;
  /** `orphan`: deleting the object leaves what it owns (Pods of a Deployment...) in place. */
  propagation?: 'orphan' | 'cascading';
}

interface GarbageCollectPolicy extends PolicyBase {
  type: 'garbage-collect';
  /** A finished run prunes nothing: objects earlier releases deployed stay until removed by hand. */
  keepLegacyResource: boolean;
  /** The first rule that matches an object decides for it. */
  rules: GcRule[];
}

/**
 * KubeVela's `apply-once`: fields of deployed objects that may drift (an HPA owns `spec.replicas`). With
 * `enable: false` (the default) it does nothing, rules or not; enabled without rules, every object is
 * apply-once as a whole (`*`). A rule without a selector covers every object of the application.
 */
interface ApplyOncePolicy extends PolicyBase {
  type: 'apply-once';
  enable: boolean;
  rules: ApplyOnceRule[];
}
interface ApplyOnceRule {
  selector?: ResourceSelector;
  paths: string[];
  affect: ApplyOnceAffect;
}

const applyOncePathSchema = z.string().superRefine((path, ctx) => {
  const parsed = parseFieldPath(path);
  if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
});

const applyOncePropertiesSchema = z.strictObject({
  enable: z.boolean().default(false),
  rules: z
    .array(
      z.strictObject({
        selector: resourceSelectorSchema.optional(),
        strategy: z.strictObject({
          path: z.array(applyOncePathSchema).min(1, 'list at least one path (`*` for the whole object)'),
          affect: z.enum(APPLY_ONCE_AFFECTS).default('always'),
        }),
      }),
    )
    .optional(),
});

export type Policy = TopologyPolicy | OverridePolicy | ResourceRulesPolicy | GarbageCollectPolicy | ApplyOncePolicy;

/** True when the object of that component matches the selector (KubeVela's rule: every given list must contain it). */
export function matchesResourceSelector(
  selector: ResourceSelector,
  object: { component: string; componentType: string; kind: string; name: string },
): boolean {
  return (
    (selector.componentNames?.includes(object.component) ?? true) &&
    (selector.componentTypes?.includes(object.componentType) ?? true) &&
    (selector.resourceTypes?.includes(object.kind) ?? true) &&
    (selector.resourceNames?.includes(object.name) ?? true)
  );
}

/**
 * The apply-once paths of one rendered object under the application's apply-once policies (render
 * stamps them as the ANNOTATION_APPLY_ONCE annotation); undefined when none applies.
 */
export function applyOnceStampsFor(
  policies: readonly Policy[],
  object: { component: string; componentType: string; kind: string; name: string },
): string | undefined {
  const stamps: ApplyOnceStamp[] = [];
  for (const policy of policies) {
    if (policy.type !== 'apply-once' || !policy.enable) continue;
    if (policy.rules.length === 0) stamps.push({ path: WHOLE_OBJECT, affect: 'always' });
    for (const rule of policy.rules) {
      if (rule.selector && !matchesResourceSelector(rule.selector, object)) continue;
      for (const path of rule.paths) stamps.push({ path, affect: rule.affect });
    }
  }
  return stamps.length > 0 ? applyOnceAnnotation(stamps) : undefined;
}

const policyDocumentSchema = z.looseObject({
  apiVersion: z.string().regex(/^core\.oam\.dev\/v1(alpha|beta)?\d*$/, 'must be core.oam.dev/v1alpha1'),
  kind: z.literal('Policy'),
  metadata: z.looseObject({ name: dnsLabel, namespace: dnsLabel.optional() }),
  type: z.string().min(1),
  properties: z.unknown(),
});

const inlinePolicySchema = z.strictObject({ name: dnsLabel.optional(), type: z.string().min(1), properties: z.unknown() });

/** A `Policy` document. */
export function parsePolicyDocument(value: unknown, place: SourcePlace): Policy {
  const doc = parseAt(policyDocumentSchema, value, place);
  return parsePolicyBody(doc.metadata.name, doc.type, doc.properties, place);
}

/**
 * An entry of the Application's `spec.policies` (at `place`, e.g. `spec.policies[0]`, its position
 * `index`). Without a name it is `<type>:auto-gen:<index>`: no DNS label can be that name.
 */
export function parseInlinePolicy(value: unknown, place: SourcePlace, index: number): Policy {
  const entry = parseAt(inlinePolicySchema, value, place);
  return parsePolicyBody(entry.name ?? `${entry.type}:auto-gen:${index}`, entry.type, entry.properties, place);
}

const UNSUPPORTED_SELECTOR_FIELDS: Record<string, string> = {
  traitTypes: "tricenter traits change the component's own objects and create none of their own",
  oamTypes: "every object tricenter deploys is a component's object",
};

/** A rule's selector; KubeVela's traitTypes / oamTypes get a refusal that says why and what to use instead. */
function parseResourceSelector(value: unknown, place: SourcePlace): ResourceSelector {
  if (typeof value === 'object' && value !== null) {
    for (const [field, why] of Object.entries(UNSUPPORTED_SELECTOR_FIELDS)) {
      if (field in value) {
        throw bundleError(`${field} is not supported (${why}); select with ${SELECTOR_FIELDS.join(', ')}`, placeAt(place, field));
      }
    }
  }
  return parseAt(resourceSelectorSchema, value, place);
}

function parsePolicyBody(name: string, type: string, properties: unknown, place: SourcePlace): Policy {
  const propsPlace = placeAt(place, 'properties');
  if (type === 'topology') {
    return { name, type, place, properties: parseTopologyProperties(properties ?? {}, propsPlace) };
  }
  if (type === 'override') {
    const props = parseAt(
      z.strictObject({ components: z.array(overrideEntrySchema).min(1), selector: z.array(z.string().min(1)).optional() }),
      properties,
      propsPlace,
    );
    const components = props.components.map((entry, i): OverrideEntry => {
      const entryPlace = placeAt(propsPlace, ['components', i]);
      const out: OverrideEntry = {
        traits: entry.traits.map((t, j) => parseTrait(t, placeAt(entryPlace, ['traits', j]))),
        place: entryPlace,
      };
      if (entry.name !== undefined) out.name = entry.name;
      if (entry.type !== undefined) out.type = entry.type;
      if (entry.properties !== undefined) out.properties = entry.properties;
      return out;
    });
    const policy: OverridePolicy = { name, type, place, components };
    // KubeVela: an empty selector selects every component, as no selector does.
    if (props.selector !== undefined && props.selector.length > 0) {
      policy.selector = { names: props.selector, place: placeAt(propsPlace, 'selector') };
    }
    return policy;
  }
  if (type === 'take-over' || type === 'shared-resource' || type === 'read-only') {
    const props = parseAt(resourcePolicyPropertiesSchema, properties, propsPlace);
    const selectors = props.rules.map((rule, i) => parseResourceSelector(rule.selector, placeAt(propsPlace, ['rules', i, 'selector'])));
    return { name, type, place, selectors };
  }
  if (type === 'garbage-collect') return parseGarbageCollect(name, properties ?? {}, place);
  if (type === 'apply-once') {
    const props = parseAt(applyOncePropertiesSchema, properties ?? {}, propsPlace);
    const rules = (props.rules ?? []).map(
      (rule): ApplyOnceRule => ({
        ...(rule.selector ? { selector: rule.selector } : {}),
        paths: rule.strategy.path,
        affect: rule.strategy.affect,
      }),
    );
    return { name, type, place, enable: props.enable, rules };
  }
  throw unsupportedType('policy', type, SUPPORTED_POLICY_TYPES, place);
}

function parseGarbageCollect(name: string, properties: unknown, place: SourcePlace): GarbageCollectPolicy {
  const propsPlace = placeAt(place, 'properties');
  const props = parseAt(gcPropertiesSchema, properties, propsPlace);
  if (props.continueOnFailure === true) {
    throw bundleError(
      "continueOnFailure: true is not supported: tricenter prunes only after a run succeeds (KubeVela's default); remove the field",
      placeAt(propsPlace, 'continueOnFailure'),
    );
  }
  if (props.applicationRevisionLimit !== undefined) {
    throw bundleError(
      'applicationRevisionLimit is not supported: tricenter keeps every release, since rollback reads them; remove the field',
      placeAt(propsPlace, 'applicationRevisionLimit'),
    );
  }
  const rules = (props.rules ?? []).map((rule, i): GcRule => {
    const out: GcRule = {
      selector: parseResourceSelector(rule.selector, placeAt(propsPlace, ['rules', i, 'selector'])),
      strategy: rule.strategy,
    };
    if (rule.propagation !== undefined) out.propagation = rule.propagation;
    return out;
  });
  return { name, type: 'garbage-collect', place, keepLegacyResource: props.keepLegacyResource, rules };
}
