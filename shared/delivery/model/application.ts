import { z } from 'zod';
import type { KubeObject } from './kube.ts';
import { kubeObjectSchema } from './kube-schema.ts';
import {
  componentAlternative,
  isWorkloadComponentType,
  parseWorkloadProperties,
  WORKLOAD_COMPONENT_TYPES,
  type WorkloadComponentProperties,
} from './components/workloads.ts';
import { bundleError, parseAt, placeAt, unsupportedType, type SourcePlace } from './source.ts';
import { parseTrait, type Trait } from './traits.ts';

/**
 * The KubeVela-style `Application` (core.oam.dev): which objects make up the application
 * (components) and, optionally inline, its policies and workflow. Policies and workflows may also
 * be separate documents (see policy.ts, workflow.ts).
 */
export const OAM_GROUP = 'core.oam.dev';
const SUPPORTED_COMPONENT_TYPES = ['ref-objects', 'k8s-objects', ...WORKLOAD_COMPONENT_TYPES] as const;
export type ComponentType = (typeof SUPPORTED_COMPONENT_TYPES)[number];

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits, -)')
  .max(63);

/**
 * One reference of a `ref-objects` component: by `apiVersion`+`kind` (the seed's form) or by
 * `resource`+`group` (KubeVela's current form), and by `name` or `labelSelector`; with neither,
 * the name is the component's (as KubeVela does).
 */
const objectSelectorSchema = z
  .strictObject({
    apiVersion: z.string().min(1).optional(),
    kind: z.string().min(1).optional(),
    resource: z.string().min(1).optional(),
    group: z.string().optional(),
    name: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    labelSelector: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((sel, ctx) => {
    const byKind = sel.apiVersion !== undefined || sel.kind !== undefined;
    const byResource = sel.resource !== undefined || sel.group !== undefined;
    if (byKind && byResource) {
      ctx.addIssue({ code: 'custom', path: [], message: 'use either apiVersion+kind or resource+group, not both' });
    } else if (byKind && (sel.apiVersion === undefined || sel.kind === undefined)) {
      ctx.addIssue({ code: 'custom', path: [sel.kind === undefined ? 'kind' : 'apiVersion'], message: 'apiVersion and kind go together' });
    } else if (!byKind && sel.resource === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'an object reference needs apiVersion+kind or resource' });
    }
    if (sel.name !== undefined && sel.labelSelector !== undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'an object reference takes name or labelSelector, not both' });
    }
  });
export type ObjectSelector = z.infer<typeof objectSelectorSchema>;

const refObjectsPropertiesSchema = z.strictObject({ objects: z.array(objectSelectorSchema).min(1) });
const k8sObjectsPropertiesSchema = z.strictObject({ objects: z.array(kubeObjectSchema).min(1) });

/**
 * KubeVela names an object that has no `metadata.name` after its component: a k8s-objects object
 * gets the component's name (two unnamed objects of one kind then collide, and say so).
 */
export function withDefaultName(object: unknown, componentName: string): unknown {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return object;
  const record = object as Record<string, unknown>;
  const metadata = record.metadata;
  if (metadata === undefined || metadata === null) return { ...record, metadata: { name: componentName } };
  if (typeof metadata !== 'object' || Array.isArray(metadata) || 'name' in metadata) return object;
  return { ...record, metadata: { ...metadata, name: componentName } };
}

export type ComponentProperties = { type: 'ref-objects'; objects: ObjectSelector[] } | { type: 'k8s-objects'; objects: KubeObject[] };

export interface Component {
  name: string;
  type: ComponentType;
  /** As written; validated, and validated again after overrides merge into them. */
  properties: Record<string, unknown>;
  traits: Trait[];
  place: SourcePlace;
}

/**
 * Validates a component's properties for its type (at `place`, the properties' own location),
 * with KubeVela's defaults: a reference or an object without a name gets the component's name.
 */
export function parseComponentProperties(
  type: ComponentType,
  properties: unknown,
  place: SourcePlace,
  componentName: string,
): ComponentProperties | WorkloadComponentProperties {
  if (isWorkloadComponentType(type)) return parseWorkloadProperties(type, properties, place);
  if (type === 'ref-objects') {
    const objects = parseAt(refObjectsPropertiesSchema, properties, place).objects.map((sel) =>
      sel.name === undefined && sel.labelSelector === undefined ? { ...sel, name: componentName } : sel,
    );
    return { type, objects };
  }
  const list = typeof properties === 'object' && properties !== null ? (properties as Record<string, unknown>).objects : undefined;
  const named = Array.isArray(list)
    ? { ...(properties as object), objects: list.map((o) => withDefaultName(o, componentName)) }
    : properties;
  return { type, objects: parseAt(k8sObjectsPropertiesSchema, named, place).objects };
}

const componentEnvelopeSchema = z.strictObject({
  name: dnsLabel,
  type: z.string().min(1),
  properties: z.record(z.string(), z.unknown()),
  traits: z.array(z.unknown()).default([]),
});

function parseComponent(value: unknown, place: SourcePlace): Component {
  const envelope = parseAt(componentEnvelopeSchema, value, place);
  const type = SUPPORTED_COMPONENT_TYPES.find((t) => t === envelope.type);
  if (!type) throw unsupportedType('component', envelope.type, SUPPORTED_COMPONENT_TYPES, place, componentAlternative(envelope.type));
  parseComponentProperties(type, envelope.properties, placeAt(place, 'properties'), envelope.name);
  return {
    name: envelope.name,
    type,
    properties: envelope.properties,
    traits: envelope.traits.map((t, i) => parseTrait(t, placeAt(place, ['traits', i]))),
    place,
  };
}

const applicationSchema = z.looseObject({
  apiVersion: z.string().regex(/^core\.oam\.dev\/v1(alpha|beta)?\d*$/, 'must be core.oam.dev/v1beta1'),
  kind: z.literal('Application'),
  metadata: z.looseObject({
    name: dnsLabel,
    namespace: dnsLabel.default('default'),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.strictObject({
    components: z.array(z.unknown()).min(1, 'an Application needs at least one component'),
    /** Inline policies, as KubeVela allows; they share one name space with Policy documents. */
    policies: z.array(z.unknown()).optional(),
    workflow: z
      .strictObject({
        /** Name of a Workflow document. */
        ref: z.string().min(1).optional(),
        /** Inline steps. */
        steps: z.array(z.unknown()).optional(),
        /** KubeVela's execution modes; checked with the steps (workflow.ts). */
        mode: z.unknown().optional(),
      })
      .refine((w) => (w.ref === undefined) !== (w.steps === undefined), 'a workflow has either ref or steps')
      .optional(),
  }),
});

export interface Application {
  name: string;
  namespace: string;
  annotations: Record<string, string>;
  components: Component[];
  /** Raw inline policies and workflow steps; bundle.ts validates them with the document ones. */
  inlinePolicies: unknown[];
  workflow?: { ref: string } | { steps: unknown[]; mode?: unknown };
  place: SourcePlace;
}

export function parseApplication(value: unknown, place: SourcePlace): Application {
  const doc = parseAt(applicationSchema, value, place);
  const names = new Map<string, number>();
  const components = doc.spec.components.map((c, i) => {
    const component = parseComponent(c, placeAt(place, ['spec', 'components', i]));
    const first = names.get(component.name);
    if (first !== undefined) {
      throw duplicateComponent(component.name, first, placeAt(place, ['spec', 'components', i, 'name']));
    }
    names.set(component.name, i);
    return component;
  });
  const app: Application = {
    name: doc.metadata.name,
    namespace: doc.metadata.namespace,
    annotations: doc.metadata.annotations ?? {},
    components,
    inlinePolicies: doc.spec.policies ?? [],
    place,
  };
  const wf = doc.spec.workflow;
  if (wf?.ref !== undefined) app.workflow = { ref: wf.ref };
  else if (wf?.steps !== undefined) app.workflow = wf.mode === undefined ? { steps: wf.steps } : { steps: wf.steps, mode: wf.mode };
  return app;
}

function duplicateComponent(name: string, first: number, place: SourcePlace) {
  return bundleError(`component name "${name}" is already used by spec.components[${first}]`, place);
}
