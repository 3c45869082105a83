import { z } from 'zod';
import { parseAt, placeAt, unsupportedType, type SourcePlace } from './source.ts';
import { parseTrait, type Trait } from './traits.ts';
import { APPLY_ONCE_AFFECTS, applyOnceAnnotation, type ApplyOnceAffect, type ApplyOnceStamp } from './drift.ts';
import { parseFieldPath, WHOLE_OBJECT } from './field-path.ts';

/**
 * KubeVela-style policies: `topology` (where to deploy), `override` (what to change there), and
 * the resource policies `take-over` (adopt objects created outside tricenter) and `shared-resource`
 * (share objects with other applications). A policy is either a `Policy` document
 * (core.oam.dev/v1alpha1, `type`/`properties` at the top) or an entry of the Application's
 * `spec.policies`.
 */
const SUPPORTED_POLICY_TYPES = ['topology', 'override', 'take-over', 'shared-resource', 'apply-once'] as const;

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
}
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

const resourcePolicyPropertiesSchema = z.strictObject({ rules: z.array(z.strictObject({ selector: resourceSelectorSchema })).min(1) });

export interface ResourceRulesPolicy extends PolicyBase {
  type: 'take-over' | 'shared-resource';
  selectors: ResourceSelector[];
}

/**
 * KubeVela's `apply-once`: fields of deployed objects that may drift (an HPA owns `spec.replicas`). With
 * `enable: false` (the default) it does nothing, rules or not; enabled without rules, every object is
 * apply-once as a whole (`*`). A rule without a selector covers every object of the application.
 */
export interface ApplyOncePolicy extends PolicyBase {
  type: 'apply-once';
  enable: boolean;
  rules: ApplyOnceRule[];
}
export interface ApplyOnceRule {
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

export type Policy = TopologyPolicy | OverridePolicy | ResourceRulesPolicy | ApplyOncePolicy;

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

const inlinePolicySchema = z.strictObject({ name: dnsLabel, type: z.string().min(1), properties: z.unknown() });

/** A `Policy` document. */
export function parsePolicyDocument(value: unknown, place: SourcePlace): Policy {
  const doc = parseAt(policyDocumentSchema, value, place);
  return parsePolicyBody(doc.metadata.name, doc.type, doc.properties, place);
}

/** An entry of the Application's `spec.policies` (at `place`, e.g. `spec.policies[0]`). */
export function parseInlinePolicy(value: unknown, place: SourcePlace): Policy {
  const entry = parseAt(inlinePolicySchema, value, place);
  return parsePolicyBody(entry.name, entry.type, entry.properties, place);
}

function parsePolicyBody(name: string, type: string, properties: unknown, place: SourcePlace): Policy {
  const propsPlace = placeAt(place, 'properties');
  if (type === 'topology') {
    return { name, type, place, properties: parseTopologyProperties(properties ?? {}, propsPlace) };
  }
  if (type === 'override') {
    const props = parseAt(z.strictObject({ components: z.array(overrideEntrySchema).min(1) }), properties, propsPlace);
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
    return { name, type, place, components };
  }
  if (type === 'take-over' || type === 'shared-resource') {
    const props = parseAt(resourcePolicyPropertiesSchema, properties, propsPlace);
    return { name, type, place, selectors: props.rules.map((rule) => rule.selector) };
  }
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
