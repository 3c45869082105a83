import { z } from 'zod';
import { parseAt, type SourcePlace } from '../source.ts';
import {
  containerBase,
  hostAliasesSchema,
  imagePullPolicySchema,
  legacyVolumesInput,
  probeSchema,
  stringMap,
  volumeMountsSchema,
} from './container.ts';

/**
 * The parameters of KubeVela's built-in component types `webservice`, `worker`, `task` and
 * `cron-task`, read from their definitions (vela-templates/definitions/internal/component/*.cue):
 * the same names, types and defaults. What a definition accepts but never renders is refused
 * here rather than dropped: `addRevisionLabel: true` (tricenter keeps no component revisions) and
 * the probes of `task` / `cron-task` (their templates take them and write nothing).
 */

export const WORKLOAD_COMPONENT_TYPES = ['webservice', 'worker', 'task', 'cron-task'] as const;
export type WorkloadComponentType = (typeof WORKLOAD_COMPONENT_TYPES)[number];

const portSchema = z.strictObject({
  port: z.number().int().min(1).max(65535),
  containerPort: z.number().int().min(1).max(65535).optional(),
  name: z.string().min(1).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
  expose: z.boolean().default(false),
  nodePort: z.number().int().min(1).max(65535).optional(),
});
export type PortParameter = z.infer<typeof portSchema>;

/** Pod labels: the application and component labels are the definition's own (KubeVela fails to unify another value). */
const podLabels = stringMap
  .refine((labels) => !('app.oam.dev/name' in labels || 'app.oam.dev/component' in labels), {
    message: 'app.oam.dev/name and app.oam.dev/component are set from the application and the component; remove them',
  })
  .optional();

const neverRendered = (what: string) =>
  z
    .unknown()
    .refine((v) => v === undefined, `${what} accepts this parameter but never renders it; tricenter refuses it rather than ignore it`);

const webserviceSchema = z.strictObject({
  ...containerBase,
  labels: podLabels,
  annotations: stringMap.optional(),
  imagePullPolicy: imagePullPolicySchema.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  ports: z.array(portSchema).optional(),
  exposeType: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
  addRevisionLabel: z
    .boolean()
    .default(false)
    .refine((v) => !v, 'addRevisionLabel needs KubeVela component revisions, which tricenter does not keep; set pod labels with `labels`'),
  args: z.array(z.string()).optional(),
  limit: z.strictObject({ cpu: z.string().min(1).optional(), memory: z.string().min(1).optional() }).optional(),
  volumeMounts: volumeMountsSchema.optional(),
  volumes: legacyVolumesInput.optional(),
  livenessProbe: probeSchema.optional(),
  readinessProbe: probeSchema.optional(),
  hostAliases: hostAliasesSchema.optional(),
});
export type WebserviceProperties = z.infer<typeof webserviceSchema>;

const workerSchema = z.strictObject({
  ...containerBase,
  imagePullPolicy: z.string().min(1).optional(),
  volumeMounts: volumeMountsSchema.optional(),
  volumes: legacyVolumesInput.optional(),
  livenessProbe: probeSchema.optional(),
  readinessProbe: probeSchema.optional(),
});
export type WorkerProperties = z.infer<typeof workerSchema>;

const jobBase = {
  ...containerBase,
  labels: podLabels,
  annotations: stringMap.optional(),
  count: z.number().int().min(0).default(1),
  imagePullPolicy: imagePullPolicySchema.optional(),
  restart: z.string().min(1).default('Never'),
  volumes: legacyVolumesInput.optional(),
};

const taskSchema = z.strictObject({
  ...jobBase,
  livenessProbe: neverRendered('the task definition').optional(),
  readinessProbe: neverRendered('the task definition').optional(),
});
export type TaskProperties = z.infer<typeof taskSchema>;

const cronTaskSchema = z.strictObject({
  ...jobBase,
  schedule: z.string().min(1),
  startingDeadlineSeconds: z.number().int().min(0).optional(),
  suspend: z.boolean().default(false),
  concurrencyPolicy: z.enum(['Allow', 'Forbid', 'Replace']).default('Allow'),
  successfulJobsHistoryLimit: z.number().int().min(0).default(3),
  failedJobsHistoryLimit: z.number().int().min(0).default(1),
  volumeMounts: volumeMountsSchema.optional(),
  hostAliases: hostAliasesSchema.optional(),
  ttlSecondsAfterFinished: z.number().int().min(0).optional(),
  activeDeadlineSeconds: z.number().int().min(1).optional(),
  backoffLimit: z.number().int().min(0).default(6),
  livenessProbe: neverRendered('the cron-task definition').optional(),
  readinessProbe: neverRendered('the cron-task definition').optional(),
});
export type CronTaskProperties = z.infer<typeof cronTaskSchema>;

export type WorkloadComponentProperties =
  | { type: 'webservice'; properties: WebserviceProperties }
  | { type: 'worker'; properties: WorkerProperties }
  | { type: 'task'; properties: TaskProperties }
  | { type: 'cron-task'; properties: CronTaskProperties };

export function isWorkloadComponentType(type: string): type is WorkloadComponentType {
  return (WORKLOAD_COMPONENT_TYPES as readonly string[]).includes(type);
}

/** Validates a built-in component's properties (at `place`, the properties' own location), defaults filled in. */
export function parseWorkloadProperties(type: WorkloadComponentType, properties: unknown, place: SourcePlace): WorkloadComponentProperties {
  switch (type) {
    case 'webservice':
      return { type, properties: parseAt(webserviceSchema, properties, place) };
    case 'worker':
      return { type, properties: parseAt(workerSchema, properties, place) };
    case 'task':
      return { type, properties: parseAt(taskSchema, properties, place) };
    case 'cron-task':
      return { type, properties: parseAt(cronTaskSchema, properties, place) };
  }
}

export function isWorkloadComponent(typed: { type: string }): typed is WorkloadComponentProperties {
  return isWorkloadComponentType(typed.type);
}

/** KubeVela's other built-in component types, and what to write instead. */
const COMPONENT_ALTERNATIVES: Readonly<Record<string, string>> = {
  daemon: 'ship the DaemonSet in a k8s-objects component',
  statefulset: 'ship the StatefulSet (and its headless Service) in a k8s-objects component',
  helm: 'render the chart with `helm template` and ship the objects in a k8s-objects component',
  helmchart: 'render the chart with `helm template` and ship the objects in a k8s-objects component',
  kustomize: 'render it with `kubectl kustomize` and ship the objects in a k8s-objects component',
  raw: 'use k8s-objects',
};

export function componentAlternative(type: string): string | undefined {
  return Object.hasOwn(COMPONENT_ALTERNATIVES, type) ? COMPONENT_ALTERNATIVES[type] : undefined;
}
