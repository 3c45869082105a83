import { z } from 'zod';
import { approvalPolicyFieldsSchema, type ApprovalPolicyFields } from './approval-policy.ts';
import { DEFAULT_PARALLELISM, DEFAULT_STEP_TIMEOUT_MS } from './plan.ts';
import { bundleError, parseAt, placeAt, unsupportedType, type SourcePlace } from './source.ts';

/**
 * KubeVela-style workflow: a `Workflow` document (core.oam.dev/v1alpha1) or the Application's
 * inline `spec.workflow.steps`. Steps are `deploy`, `apply-component`, `suspend` and `step-group`
 * (its `subSteps` run side by side, ordered only by their `dependsOn`). Top-level steps run one
 * after the other (KubeVela's default StepByStep mode); a step's `dependsOn` may name only steps
 * before it there, and sub-steps' `dependsOn` their siblings (a cycle is refused naming its steps).
 * A group is flattened: its sub-steps carry `group`, the group itself is no step of its own.
 */
const SUPPORTED_STEP_TYPES = ['deploy', 'apply-component', 'suspend', 'step-group'] as const;

const DURATION_UNITS_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const DURATION_PATTERN = /^(\d+(?:\.\d+)?(?:h|ms|m|s))+$/;

/** Go-style durations as KubeVela writes them: `30s`, `10m`, `1h30m`, `500ms`. Returns undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    total += Number(amount) * (DURATION_UNITS_MS[unit ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) && total > 0 ? Math.round(total) : undefined;
}

const durationSchema = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: 'must be a duration such as 30s, 10m or 1h30m',
});

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits, -)')
  .max(63);

const STEP_FIELDS = ['name', 'type', 'properties', 'timeout', 'dependsOn', 'subSteps'] as const;

const stepEnvelopeSchema = z.strictObject({
  name: z.string().min(1),
  type: z.string().min(1),
  /** KubeVela puts the timeout on the step; `properties.timeout` is accepted too, not both. */
  timeout: durationSchema.optional(),
  /** Steps (by name) that must have succeeded before this one starts. */
  dependsOn: z.array(z.string().min(1)).optional(),
  /** `step-group` only: the steps it runs side by side. */
  subSteps: z.array(z.unknown()).optional(),
  properties: z.record(z.string(), z.unknown()).default({}),
});

const deployPropertiesSchema = z.strictObject({
  policies: z.array(z.string().min(1)).min(1, 'a deploy step lists at least one policy'),
  /** `false`: wait for approval before this step. */
  auto: z.boolean().default(true),
  parallelism: z.number().int().min(1).default(DEFAULT_PARALLELISM),
  timeout: durationSchema.optional(),
  /** With `auto: false`: who must approve and how many (model/approval-policy.ts). */
  approval: z.optional(approvalPolicyFieldsSchema),
});

const suspendPropertiesSchema = z.strictObject({
  /** Resume by itself after this long; without it, only an approval resumes. */
  duration: durationSchema.optional(),
  timeout: durationSchema.optional(),
  /** Without a duration: who must approve and how many (model/approval-policy.ts). */
  approval: z.optional(approvalPolicyFieldsSchema),
});

const applyComponentPropertiesSchema = z.strictObject({
  component: z.string().min(1),
  /** A registry cluster (name or alias); without it, every cluster the application's topology policies select. */
  cluster: z.string().optional(),
  /** Deploy the component's namespaced objects into this namespace. */
  namespace: z.string().optional(),
  timeout: durationSchema.optional(),
});

/** Where a step sits in the run order: the step-group it belongs to, and what it waits for. */
interface StepOrder {
  /** The step-group this step is a sub-step of. */
  group?: string;
  /** Steps (or step-groups) that must have succeeded first. */
  dependsOn?: string[];
}

export interface DeployStepSpec extends StepOrder {
  name: string;
  type: 'deploy';
  policies: Array<{ name: string; place: SourcePlace }>;
  needsApproval: boolean;
  /** `properties.approval` as written; render resolves it over the registry's defaults. */
  approval?: ApprovalSpec;
  parallelism: number;
  timeoutMs: number;
  place: SourcePlace;
}

/** A step's approval policy fields and where they are written (for errors naming the field). */
export interface ApprovalSpec {
  fields: ApprovalPolicyFields;
  place: SourcePlace;
}

export interface ApplyComponentStepSpec extends StepOrder {
  name: string;
  type: 'apply-component';
  component: string;
  cluster?: string;
  namespace?: string;
  timeoutMs: number;
  place: SourcePlace;
}

interface SuspendStepSpec extends StepOrder {
  name: string;
  type: 'suspend';
  durationMs?: number;
  /** Only when the bundle gives one: a suspend step without a timeout waits for as long as it takes. */
  timeoutMs?: number;
  approval?: ApprovalSpec;
  place: SourcePlace;
}

export type StepSpec = DeployStepSpec | ApplyComponentStepSpec | SuspendStepSpec;

export interface Workflow {
  name: string;
  steps: StepSpec[];
  place: SourcePlace;
}

const workflowDocumentSchema = z.looseObject({
  apiVersion: z.string().regex(/^core\.oam\.dev\/v1(alpha|beta)?\d*$/, 'must be core.oam.dev/v1alpha1'),
  kind: z.literal('Workflow'),
  metadata: z.looseObject({ name: dnsLabel, namespace: dnsLabel.optional() }),
  steps: z.array(z.unknown()).min(1, 'a workflow needs at least one step'),
  mode: z.unknown().optional(),
});

/** KubeVela's execution modes: top-level steps StepByStep (DAG refused), sub-steps DAG or StepByStep. */
const modeSchema = z.strictObject({
  steps: z.enum(['StepByStep', 'DAG']).optional(),
  subSteps: z.enum(['StepByStep', 'DAG']).optional(),
});

export function parseWorkflowDocument(value: unknown, place: SourcePlace): Workflow {
  const doc = parseAt(workflowDocumentSchema, value, place);
  return { name: doc.metadata.name, steps: parseStepsWithMode(doc.steps, doc.mode, place), place };
}

/** The steps at `place`.steps under the workflow's `mode` at `place`.mode (a Workflow document or the Application's spec.workflow). */
export function parseStepsWithMode(steps: unknown[], mode: unknown, place: SourcePlace): StepSpec[] {
  const modes = mode === undefined ? {} : parseAt(modeSchema, mode, placeAt(place, 'mode'));
  if (modes.steps === 'DAG') {
    throw bundleError(
      'mode.steps: DAG is not supported: top-level steps run one after the other (StepByStep); put the steps that may run side by side in a step-group, whose subSteps run as a DAG',
      placeAt(place, 'mode.steps'),
    );
  }
  const parsed = parseSteps(steps, placeAt(place, 'steps'));
  if (modes.subSteps === 'StepByStep') chainSubSteps(parsed);
  return parsed;
}

/** subSteps in StepByStep mode: each sub-step waits for the one before it in its group. */
function chainSubSteps(steps: StepSpec[]): void {
  steps.forEach((step, i) => {
    const previous = steps[i - 1];
    if (step.group === undefined || previous?.group !== step.group) return;
    step.dependsOn = [...new Set([...(step.dependsOn ?? []), previous.name])];
  });
}

/** Steps at `place` (the list's own location, e.g. `steps` or `spec.workflow.steps`), groups flattened. */
function parseSteps(steps: unknown[], place: SourcePlace): StepSpec[] {
  const out: StepSpec[] = [];
  const seen = new Map<string, SourcePlace>();
  const claim = (name: string, at: SourcePlace) => {
    const first = seen.get(name);
    if (first !== undefined) throw bundleError(`step name "${name}" is already used at ${first.path}`, placeAt(at, 'name'));
    seen.set(name, at);
  };
  /** Top-level names in order, each with the names it stands for (a group: itself and its sub-steps). */
  const earlier = new Set<string>();
  steps.forEach((value, i) => {
    const stepPlace = placeAt(place, [i]);
    const envelope = parseEnvelope(value, stepPlace);
    claim(envelope.name, stepPlace);
    checkEarlierOnly(envelope.dependsOn, earlier, stepPlace);
    if (envelope.type !== 'step-group') {
      out.push(parseStep(envelope, stepPlace));
      earlier.add(envelope.name);
      return;
    }
    const group = parseGroup(envelope, stepPlace, earlier, claim);
    out.push(...group);
    earlier.add(envelope.name);
    for (const sub of group) earlier.add(sub.name);
  });
  return out;
}

type Envelope = z.output<typeof stepEnvelopeSchema>;

function parseEnvelope(value: unknown, place: SourcePlace): Envelope {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const unknown = Object.keys(value).filter((key) => !(STEP_FIELDS as readonly string[]).includes(key));
    if (unknown.length > 0) {
      throw bundleError(
        `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} on a workflow step; supported: ${STEP_FIELDS.join(', ')}`,
        placeAt(place, unknown[0] ?? ''),
      );
    }
  }
  const envelope = parseAt(stepEnvelopeSchema, value, place);
  if (!(SUPPORTED_STEP_TYPES as readonly string[]).includes(envelope.type)) {
    throw unsupportedType('workflow step', envelope.type, SUPPORTED_STEP_TYPES, place);
  }
  if (envelope.subSteps !== undefined && envelope.type !== 'step-group') {
    throw bundleError('only a step-group has subSteps', placeAt(place, 'subSteps'));
  }
  return envelope;
}

/** Top level runs in order: a dependency on a later step could never be met. */
function checkEarlierOnly(dependsOn: string[] | undefined, earlier: Set<string>, place: SourcePlace): void {
  (dependsOn ?? []).forEach((name, i) => {
    if (earlier.has(name)) return;
    throw bundleError(
      `depends on "${name}", which is not a step before this one (top-level steps run one after the other; earlier steps: ${[...earlier].join(', ') || 'none'})`,
      placeAt(place, ['dependsOn', i]),
    );
  });
}

function parseGroup(
  envelope: Envelope,
  place: SourcePlace,
  earlier: Set<string>,
  claim: (name: string, at: SourcePlace) => void,
): StepSpec[] {
  if (Object.keys(envelope.properties).length > 0) {
    throw bundleError('a step-group takes no properties (as in KubeVela); put them on its subSteps', placeAt(place, 'properties'));
  }
  if (envelope.timeout !== undefined) {
    throw bundleError("a step-group's timeout is not supported; give each of its subSteps its own timeout", placeAt(place, 'timeout'));
  }
  const subSteps = envelope.subSteps ?? [];
  if (subSteps.length === 0) throw bundleError('a step-group needs at least one sub-step', placeAt(place, 'subSteps'));
  const subPlace = placeAt(place, 'subSteps');
  const parsed = subSteps.map((value, i) => {
    const at = placeAt(subPlace, [i]);
    const sub = parseEnvelope(value, at);
    if (sub.type === 'step-group') throw bundleError('a step-group cannot hold another step-group', placeAt(at, 'type'));
    claim(sub.name, at);
    return { sub, at };
  });
  const siblings = new Set(parsed.map(({ sub }) => sub.name));
  for (const { sub, at } of parsed) {
    (sub.dependsOn ?? []).forEach((name, i) => {
      if (siblings.has(name) || earlier.has(name)) return;
      throw bundleError(
        `depends on "${name}", which is neither a sub-step of "${envelope.name}" (${[...siblings].join(', ')}) nor a step before the group`,
        placeAt(at, ['dependsOn', i]),
      );
    });
  }
  rejectCycle(parsed.map(({ sub, at }) => ({ name: sub.name, dependsOn: (sub.dependsOn ?? []).filter((d) => siblings.has(d)), at })));
  return parsed.map(({ sub, at }) => ({ ...parseStep(sub, at), group: envelope.name }));
}

/** Depth-first search over the sub-steps' dependsOn; the first cycle found is named step by step. */
function rejectCycle(nodes: Array<{ name: string; dependsOn: string[]; at: SourcePlace }>): void {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      const node = byName.get(name) as { at: SourcePlace };
      throw bundleError(
        `dependsOn forms a cycle: ${cycle.join(' -> ')}; these steps would wait for each other forever`,
        placeAt(node.at, 'dependsOn'),
      );
    }
    state.set(name, 'visiting');
    path.push(name);
    for (const dep of byName.get(name)?.dependsOn ?? []) visit(dep);
    path.pop();
    state.set(name, 'done');
  };
  for (const node of nodes) visit(node.name);
}

function withOrder<T extends StepSpec>(step: T, envelope: Envelope): T {
  if (envelope.dependsOn !== undefined && envelope.dependsOn.length > 0) step.dependsOn = [...envelope.dependsOn];
  return step;
}

function parseStep(envelope: Envelope, place: SourcePlace): StepSpec {
  const propsPlace = placeAt(place, 'properties');
  const props =
    envelope.type === 'deploy'
      ? parseAt(deployPropertiesSchema, envelope.properties, propsPlace)
      : envelope.type === 'apply-component'
        ? parseAt(applyComponentPropertiesSchema, envelope.properties, propsPlace)
        : parseAt(suspendPropertiesSchema, envelope.properties, propsPlace);
  if (envelope.timeout !== undefined && props.timeout !== undefined) {
    throw bundleError('timeout is given both on the step and in its properties; keep one', placeAt(place, 'timeout'));
  }
  const timeoutText = envelope.timeout ?? props.timeout;
  const explicitTimeoutMs = timeoutText === undefined ? undefined : parseDuration(timeoutText);
  const approval: ApprovalSpec | undefined =
    'approval' in props && props.approval !== undefined ? { fields: props.approval, place: placeAt(propsPlace, 'approval') } : undefined;
  if ('policies' in props) {
    if (approval && props.auto) {
      throw bundleError('an approval policy needs `auto: false`: this step does not wait for approval', approval.place);
    }
    return withOrder(
      {
        name: envelope.name,
        type: 'deploy',
        policies: props.policies.map((name, i) => ({ name, place: placeAt(propsPlace, ['policies', i]) })),
        needsApproval: !props.auto,
        ...(approval ? { approval } : {}),
        parallelism: props.parallelism,
        timeoutMs: explicitTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
        place,
      },
      envelope,
    );
  }
  if ('component' in props) {
    const step: ApplyComponentStepSpec = {
      name: envelope.name,
      type: 'apply-component',
      component: props.component,
      timeoutMs: explicitTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
      place,
    };
    if (props.cluster) step.cluster = props.cluster;
    if (props.namespace) step.namespace = props.namespace;
    return withOrder(step, envelope);
  }
  const durationMs = 'duration' in props && props.duration !== undefined ? parseDuration(props.duration) : undefined;
  if (durationMs !== undefined && explicitTimeoutMs !== undefined && explicitTimeoutMs <= durationMs) {
    throw bundleError(
      "a suspend step's timeout must be longer than its duration",
      placeAt(place, envelope.timeout ? 'timeout' : 'properties.timeout'),
    );
  }
  const suspend: SuspendStepSpec = { name: envelope.name, type: 'suspend', place };
  if (explicitTimeoutMs !== undefined) suspend.timeoutMs = explicitTimeoutMs;
  if (durationMs !== undefined) suspend.durationMs = durationMs;
  if (approval && durationMs !== undefined) {
    throw bundleError('an approval policy on a suspend step with a duration: it resumes by itself, nobody approves it', approval.place);
  }
  if (approval) suspend.approval = approval;
  return withOrder(suspend, envelope);
}
