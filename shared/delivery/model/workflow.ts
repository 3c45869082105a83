import { z } from 'zod';
import { DEFAULT_PARALLELISM, DEFAULT_STEP_TIMEOUT_MS } from './plan.ts';
import { bundleError, parseAt, placeAt, unsupportedType, type SourcePlace } from './source.ts';

/**
 * KubeVela-style workflow: a `Workflow` document (core.oam.dev/v1alpha1) or the Application's
 * inline `spec.workflow.steps`. Steps are `deploy` and `suspend`.
 */
const SUPPORTED_STEP_TYPES = ['deploy', 'suspend'] as const;

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

const stepEnvelopeSchema = z.strictObject({
  name: z.string().min(1),
  type: z.string().min(1),
  /** KubeVela puts the timeout on the step; `properties.timeout` is accepted too, not both. */
  timeout: durationSchema.optional(),
  properties: z.record(z.string(), z.unknown()).default({}),
});

const deployPropertiesSchema = z.strictObject({
  policies: z.array(z.string().min(1)).min(1, 'a deploy step lists at least one policy'),
  /** `false`: wait for approval before this step. */
  auto: z.boolean().default(true),
  parallelism: z.number().int().min(1).default(DEFAULT_PARALLELISM),
  timeout: durationSchema.optional(),
});

const suspendPropertiesSchema = z.strictObject({
  /** Resume by itself after this long; without it, only an approval resumes. */
  duration: durationSchema.optional(),
  timeout: durationSchema.optional(),
});

export interface DeployStepSpec {
  name: string;
  type: 'deploy';
  policies: Array<{ name: string; place: SourcePlace }>;
  needsApproval: boolean;
  parallelism: number;
  timeoutMs: number;
  place: SourcePlace;
}

interface SuspendStepSpec {
  name: string;
  type: 'suspend';
  durationMs?: number;
  timeoutMs: number;
  place: SourcePlace;
}

export type StepSpec = DeployStepSpec | SuspendStepSpec;

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
});

export function parseWorkflowDocument(value: unknown, place: SourcePlace): Workflow {
  const doc = parseAt(workflowDocumentSchema, value, place);
  return { name: doc.metadata.name, steps: parseSteps(doc.steps, placeAt(place, 'steps')), place };
}

/** Steps at `place` (the list's own location, e.g. `steps` or `spec.workflow.steps`). */
export function parseSteps(steps: unknown[], place: SourcePlace): StepSpec[] {
  const seen = new Map<string, number>();
  return steps.map((value, i) => {
    const stepPlace = placeAt(place, [i]);
    const step = parseStep(value, stepPlace);
    const first = seen.get(step.name);
    if (first !== undefined) throw bundleError(`step name "${step.name}" is already used by step ${first + 1}`, placeAt(stepPlace, 'name'));
    seen.set(step.name, i);
    return step;
  });
}

function parseStep(value: unknown, place: SourcePlace): StepSpec {
  const envelope = parseAt(stepEnvelopeSchema, value, place);
  const propsPlace = placeAt(place, 'properties');
  if (envelope.type !== 'deploy' && envelope.type !== 'suspend') {
    throw unsupportedType('workflow step', envelope.type, SUPPORTED_STEP_TYPES, place);
  }
  const props =
    envelope.type === 'deploy'
      ? parseAt(deployPropertiesSchema, envelope.properties, propsPlace)
      : parseAt(suspendPropertiesSchema, envelope.properties, propsPlace);
  if (envelope.timeout !== undefined && props.timeout !== undefined) {
    throw bundleError('timeout is given both on the step and in its properties; keep one', placeAt(place, 'timeout'));
  }
  const timeoutText = envelope.timeout ?? props.timeout;
  const explicitTimeoutMs = timeoutText === undefined ? undefined : parseDuration(timeoutText);
  if ('policies' in props) {
    return {
      name: envelope.name,
      type: 'deploy',
      policies: props.policies.map((name, i) => ({ name, place: placeAt(propsPlace, ['policies', i]) })),
      needsApproval: !props.auto,
      parallelism: props.parallelism,
      timeoutMs: explicitTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS,
      place,
    };
  }
  const durationMs = props.duration === undefined ? undefined : parseDuration(props.duration);
  if (durationMs !== undefined && explicitTimeoutMs !== undefined && explicitTimeoutMs <= durationMs) {
    throw bundleError(
      "a suspend step's timeout must be longer than its duration",
      placeAt(place, envelope.timeout ? 'timeout' : 'properties.timeout'),
    );
  }
  const suspend: SuspendStepSpec = {
    name: envelope.name,
    type: 'suspend',
    // A timed suspend is never cut short by the default deadline.
    timeoutMs: explicitTimeoutMs ?? Math.max(DEFAULT_STEP_TIMEOUT_MS, (durationMs ?? 0) * 2),
    place,
  };
  if (durationMs !== undefined) suspend.durationMs = durationMs;
  return suspend;
}
