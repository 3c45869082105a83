import { z } from 'zod';

/**
 * The container-level parameters KubeVela's built-in component definitions share
 * (vela-templates/definitions/internal/component/*.cue), as zod schemas with the definitions'
 * defaults. Objects are strict: a parameter KubeVela does not know is refused, never dropped.
 */

const keyRef = z.strictObject({ name: z.string().min(1), key: z.string().min(1) });

/** An env entry: a literal `value` or a `valueFrom` secret / config map key (what the definitions accept). */
export const envVarSchema = z
  .strictObject({
    name: z.string().min(1),
    value: z.string().optional(),
    valueFrom: z
      .strictObject({ secretKeyRef: keyRef.optional(), configMapKeyRef: keyRef.optional() })
      .refine(
        (v) => (v.secretKeyRef === undefined) !== (v.configMapKeyRef === undefined),
        'valueFrom takes one of secretKeyRef or configMapKeyRef',
      )
      .optional(),
  })
  .refine((e) => e.value === undefined || e.valueFrom === undefined, 'an env entry has a value or a valueFrom, not both');
export type EnvVar = z.infer<typeof envVarSchema>;

/**
 * `#HealthProbe`: one handler (the API server refuses none or several) and the timing fields with
 * KubeVela's defaults, which it writes out.
 */
export const probeSchema = z
  .strictObject({
    exec: z.strictObject({ command: z.array(z.string()) }).optional(),
    httpGet: z
      .strictObject({
        path: z.string(),
        port: z.number().int(),
        host: z.string().optional(),
        scheme: z.string().optional(),
        httpHeaders: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
      })
      .optional(),
    tcpSocket: z.strictObject({ port: z.number().int() }).optional(),
    initialDelaySeconds: z.number().int().default(0),
    periodSeconds: z.number().int().default(10),
    timeoutSeconds: z.number().int().default(1),
    successThreshold: z.number().int().default(1),
    failureThreshold: z.number().int().default(3),
  })
  .refine(
    (p) => [p.exec, p.httpGet, p.tcpSocket].filter((h) => h !== undefined).length === 1,
    'a probe needs exactly one of exec, httpGet or tcpSocket',
  );
export type Probe = z.infer<typeof probeSchema>;

const itemsSchema = z.array(z.strictObject({ key: z.string(), path: z.string(), mode: z.number().int().default(511) })).optional();
const mount = { name: z.string().min(1), mountPath: z.string().min(1), subPath: z.string().optional() };

/** `volumeMounts`: the current form, one list per volume kind. */
export const volumeMountsSchema = z.strictObject({
  pvc: z.array(z.strictObject({ ...mount, claimName: z.string().min(1) })).optional(),
  configMap: z
    .array(z.strictObject({ ...mount, defaultMode: z.number().int().default(420), cmName: z.string().min(1), items: itemsSchema }))
    .optional(),
  secret: z
    .array(z.strictObject({ ...mount, defaultMode: z.number().int().default(420), secretName: z.string().min(1), items: itemsSchema }))
    .optional(),
  emptyDir: z.array(z.strictObject({ ...mount, medium: z.enum(['', 'Memory']).default('') })).optional(),
  hostPath: z.array(z.strictObject({ ...mount, path: z.string().min(1) })).optional(),
});
export type VolumeMounts = z.infer<typeof volumeMountsSchema>;

const legacy = { name: z.string().min(1), mountPath: z.string().min(1) };
/** `volumes`: the deprecated form, one list with a `type` each (default emptyDir). */
const legacyVolumesSchema = z.array(
  z.discriminatedUnion('type', [
    z.strictObject({ ...legacy, type: z.literal('pvc'), claimName: z.string().min(1) }),
    z.strictObject({
      ...legacy,
      type: z.literal('configMap'),
      defaultMode: z.number().int().default(420),
      cmName: z.string().min(1),
      items: itemsSchema,
    }),
    z.strictObject({
      ...legacy,
      type: z.literal('secret'),
      defaultMode: z.number().int().default(420),
      secretName: z.string().min(1),
      items: itemsSchema,
    }),
    z.strictObject({ ...legacy, type: z.literal('emptyDir'), medium: z.enum(['', 'Memory']).default('') }),
  ]),
);
export type LegacyVolumes = z.infer<typeof legacyVolumesSchema>;

/** A `volumes` entry without `type` is an emptyDir, as the definitions default it. */
export const legacyVolumesInput = z.preprocess(
  (value) =>
    Array.isArray(value)
      ? value.map((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && !('type' in v) ? { ...v, type: 'emptyDir' } : v))
      : value,
  legacyVolumesSchema,
);

export const hostAliasesSchema = z.array(z.strictObject({ ip: z.string().min(1), hostnames: z.array(z.string().min(1)) }));
export type HostAliases = z.infer<typeof hostAliasesSchema>;

export const imagePullPolicySchema = z.enum(['Always', 'Never', 'IfNotPresent']);
export const stringMap = z.record(z.string(), z.string());

/** What every built-in component has (image, pull policy and secrets, cmd, env, cpu, memory, labels, annotations). */
export const containerBase = {
  image: z.string().min(1),
  imagePullSecrets: z.array(z.string().min(1)).optional(),
  cmd: z.array(z.string()).optional(),
  env: z.array(envVarSchema).optional(),
  cpu: z.string().min(1).optional(),
  memory: z.string().min(1).optional(),
};
