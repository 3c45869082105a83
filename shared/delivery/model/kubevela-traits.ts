import { z } from 'zod';
import { envVarSchema, hostAliasesSchema, imagePullPolicySchema, probeSchema, stringMap } from './components/container.ts';
import { parseAt, type SourcePlace } from './source.ts';

/**
 * KubeVela's built-in traits beyond the patch traits of traits.ts, with the parameters and defaults
 * of their definitions (vela-templates/definitions/internal/trait/*.cue). Pod traits patch the
 * workload's pod template; output traits (gateway, expose, storage) also add objects beside it.
 */

const envListSchema = z.array(
  z.union([
    envVarSchema,
    // sidecar's env also takes a fieldRef
    z.strictObject({ name: z.string().min(1), valueFrom: z.strictObject({ fieldRef: z.strictObject({ fieldPath: z.string().min(1) }) }) }),
  ]),
);

const sidecarSchema = z.strictObject({
  name: z.string().min(1),
  image: z.string().min(1),
  cmd: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: envListSchema.optional(),
  volumes: z.array(z.strictObject({ name: z.string().min(1), path: z.string().min(1) })).optional(),
  livenessProbe: probeSchema.optional(),
  readinessProbe: probeSchema.optional(),
});

const initContainerSchema = z.strictObject({
  name: z.string().min(1),
  image: z.string().min(1),
  imagePullPolicy: imagePullPolicySchema.default('IfNotPresent'),
  cmd: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: z.array(envVarSchema).optional(),
  mountName: z.string().min(1).default('workdir'),
  appMountPath: z.string().min(1),
  initMountPath: z.string().min(1),
  extraVolumeMounts: z.array(z.strictObject({ name: z.string().min(1), mountPath: z.string().min(1) })).default([]),
});

/**
 * A trait with a single-container form and a `containers: [...]` form: the form is chosen by the
 * presence of `containers`, so an error speaks of the form the author wrote (a union would report
 * the other form's complaint as often as not).
 */
export function byForm<S extends z.ZodType, M extends z.ZodType>(single: S, multi: M) {
  return z.unknown().transform((value, ctx): z.output<S> | z.output<M> => {
    const form = typeof value === 'object' && value !== null && 'containers' in value ? multi : single;
    const result = form.safeParse(value);
    if (result.success) return result.data as z.output<S> | z.output<M>;
    for (const issue of result.error.issues) ctx.issues.push({ ...issue, input: value } as never);
    return z.NEVER;
  });
}

/** `containerName` empty or absent: the component's container (named after the component). */
const containerName = z.string().default('');
/** The multi-container form (`containers: [...]`) needs a name on each entry, as the definitions say. */
const named = z
  .string({ error: 'containerName must be set for each entry of containers' })
  .min(1, 'containerName must be set for each entry of containers');

const imagePatch = { image: z.string().min(1), imagePullPolicy: z.union([z.literal(''), imagePullPolicySchema]).default('') };
const containerImageSchema = byForm(
  z.strictObject({ containerName, ...imagePatch }),
  z.strictObject({ containers: z.array(z.strictObject({ containerName: named, ...imagePatch })).min(1) }),
);

const argsList = z.array(z.string()).nullable().default(null);
const commandPatch = { command: argsList, args: argsList, addArgs: argsList, delArgs: argsList };
const noArgsWithAddDel = (p: { args: string[] | null; addArgs: string[] | null; delArgs: string[] | null }) =>
  p.args === null || (p.addArgs === null && p.delArgs === null);
const addDelMessage = 'cannot set addArgs/delArgs and args at the same time';
const commandSchema = byForm(
  z.strictObject({ containerName, ...commandPatch }).refine(noArgsWithAddDel, addDelMessage),
  z.strictObject({
    containers: z.array(z.strictObject({ containerName: named, ...commandPatch }).refine(noArgsWithAddDel, addDelMessage)).min(1),
  }),
);

const quantity = /^([1-9][0-9]{0,63})(E|P|T|G|M|K|Ei|Pi|Ti|Gi|Mi|Ki)$/;
const cpu = z.union([z.number().positive(), z.string().min(1)]);
const memory = z.string().regex(quantity, 'must be a quantity such as 512Mi or 2Gi');
const resourceSchema = z
  .strictObject({
    cpu: cpu.optional(),
    memory: memory.optional(),
    requests: z.strictObject({ cpu: cpu.default(1), memory: memory.default('2048Mi') }).optional(),
    limits: z.strictObject({ cpu: cpu.default(1), memory: memory.default('2048Mi') }).optional(),
  })
  .refine(
    (r) => r.cpu !== undefined || r.memory !== undefined || r.requests !== undefined || r.limits !== undefined,
    'resource needs cpu, memory, requests or limits',
  );

const hostaliasSchema = z.strictObject({ hostAliases: hostAliasesSchema.min(1) });

const labelSelector = z.strictObject({
  matchLabels: stringMap.optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']).default('In'),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
const podAffinityTerm = z.strictObject({
  labelSelector: labelSelector.optional(),
  namespace: z.string().min(1).optional(),
  namespaces: z.array(z.string()).optional(),
  topologyKey: z.string().min(1),
  namespaceSelector: labelSelector.optional(),
});
const weight = z.number().int().min(1).max(100);
const podAffinity = z.strictObject({
  required: z.array(podAffinityTerm).optional(),
  preferred: z.array(z.strictObject({ weight, podAffinityTerm })).optional(),
});
const nodeSelector = z.strictObject({
  key: z.string().min(1),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']).default('In'),
  values: z.array(z.string()).optional(),
});
const nodeSelectorTerm = z.strictObject({
  matchExpressions: z.array(nodeSelector).optional(),
  matchFields: z.array(nodeSelector).optional(),
});
const affinitySchema = z.strictObject({
  podAffinity: podAffinity.optional(),
  podAntiAffinity: podAffinity.optional(),
  nodeAffinity: z
    .strictObject({
      required: z.strictObject({ nodeSelectorTerms: z.array(nodeSelectorTerm) }).optional(),
      preferred: z.array(z.strictObject({ weight, preference: nodeSelectorTerm })).optional(),
    })
    .optional(),
  tolerations: z
    .array(
      z.strictObject({
        key: z.string().optional(),
        operator: z.enum(['Equal', 'Exists']).default('Equal'),
        value: z.string().optional(),
        effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
        tolerationSeconds: z.number().int().optional(),
      }),
    )
    .optional(),
});

const port = z.number().int().min(1).max(65535);
const gatewaySchema = z
  .strictObject({
    domain: z.string().min(1).optional(),
    http: z
      .record(z.string(), port)
      .refine((h) => Object.keys(h).length > 0, 'http maps at least one path to a port')
      .refine((h) => Object.keys(h).every((path) => path.startsWith('/')), 'an http path starts with /'),
    class: z.string().min(1).default('nginx'),
    classInSpec: z.boolean().default(false),
    secretName: z.string().min(1).optional(),
    gatewayHost: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    pathType: z.enum(['ImplementationSpecific', 'Prefix', 'Exact']).default('ImplementationSpecific'),
    annotations: stringMap.optional(),
    labels: stringMap.optional(),
    existingServiceName: z.string().min(1).optional(),
  })
  .refine((g) => g.secretName === undefined || g.domain !== undefined, {
    message: 'secretName (TLS) needs a domain to name in the certificate',
    path: ['secretName'],
  });

const exposeSchema = z
  .strictObject({
    port: z.array(port).optional(),
    ports: z
      .array(
        z.strictObject({
          port,
          name: z.string().min(1).optional(),
          protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP'),
          nodePort: port.optional(),
        }),
      )
      .optional(),
    annotations: stringMap.default({}),
    matchLabels: stringMap.optional(),
    type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']).default('ClusterIP'),
  })
  .refine((e) => e.port !== undefined || e.ports !== undefined, 'expose needs ports (or the older port list)');

const items = z.array(z.strictObject({ key: z.string(), path: z.string(), mode: z.number().int().default(511) })).optional();
const storageQuantity = z.string().regex(quantity, 'must be a quantity such as 8Gi');
const typedRef = z.strictObject({ name: z.string().min(1), kind: z.string().min(1), apiGroup: z.string() });
const storageSchema = z.strictObject({
  pvc: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        mountOnly: z.boolean().default(false),
        mountPath: z.string().min(1),
        subPath: z.string().optional(),
        volumeMode: z.enum(['Filesystem', 'Block']).default('Filesystem'),
        volumeName: z.string().min(1).optional(),
        accessModes: z.array(z.string().min(1)).default(['ReadWriteOnce']),
        storageClassName: z.string().min(1).optional(),
        resources: z
          .strictObject({
            requests: z.strictObject({ storage: storageQuantity }),
            limits: z.strictObject({ storage: storageQuantity }).optional(),
          })
          .optional(),
        dataSourceRef: typedRef.optional(),
        dataSource: typedRef.optional(),
        selector: z
          .strictObject({
            matchLabels: stringMap.optional(),
            matchExpressions: z.array(z.strictObject({ key: z.string(), values: z.array(z.string()), operator: z.string() })).optional(),
          })
          .optional(),
      }),
    )
    .optional(),
  configMap: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        mountOnly: z.boolean().default(false),
        mountToEnv: z.strictObject({ envName: z.string().min(1), configMapKey: z.string().min(1) }).optional(),
        mountToEnvs: z.array(z.strictObject({ envName: z.string().min(1), configMapKey: z.string().min(1) })).optional(),
        mountPath: z.string().min(1).optional(),
        subPath: z.string().optional(),
        defaultMode: z.number().int().default(420),
        readOnly: z.boolean().default(false),
        data: z.record(z.string(), z.unknown()).optional(),
        items,
      }),
    )
    .optional(),
  secret: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        mountOnly: z.boolean().default(false),
        mountToEnv: z.strictObject({ envName: z.string().min(1), secretKey: z.string().min(1) }).optional(),
        mountToEnvs: z.array(z.strictObject({ envName: z.string().min(1), secretKey: z.string().min(1) })).optional(),
        mountPath: z.string().min(1),
        subPath: z.string().optional(),
        defaultMode: z.number().int().default(420),
        readOnly: z.boolean().default(false),
        stringData: z.record(z.string(), z.unknown()).optional(),
        data: z.record(z.string(), z.unknown()).optional(),
        items,
      }),
    )
    .optional(),
  emptyDir: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        mountPath: z.string().min(1),
        subPath: z.string().optional(),
        medium: z.enum(['', 'Memory']).default(''),
      }),
    )
    .optional(),
  hostPath: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        path: z.string().min(1),
        mountPath: z.string().min(1),
        type: z
          .enum(['Directory', 'DirectoryOrCreate', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'])
          .default('Directory'),
      }),
    )
    .optional(),
});

type SidecarProperties = z.infer<typeof sidecarSchema>;
type InitContainerProperties = z.infer<typeof initContainerSchema>;
type ContainerImageProperties = z.infer<typeof containerImageSchema>;
type CommandProperties = z.infer<typeof commandSchema>;
type ResourceProperties = z.infer<typeof resourceSchema>;
type HostaliasProperties = z.infer<typeof hostaliasSchema>;
type AffinityProperties = z.infer<typeof affinitySchema>;
type GatewayProperties = z.infer<typeof gatewaySchema>;
type ExposeProperties = z.infer<typeof exposeSchema>;
type StorageProperties = z.infer<typeof storageSchema>;

interface Of<T extends string, P> {
  type: T;
  target?: { apiVersion?: string | undefined; kind?: string | undefined; name?: string | undefined } | undefined;
  properties: P;
  place: SourcePlace;
}

export type KubeVelaTrait =
  | Of<'sidecar', SidecarProperties>
  | Of<'init-container', InitContainerProperties>
  | Of<'container-image', ContainerImageProperties>
  | Of<'command', CommandProperties>
  | Of<'resource', ResourceProperties>
  | Of<'hostalias', HostaliasProperties>
  | Of<'affinity', AffinityProperties>
  | Of<'gateway', GatewayProperties>
  | Of<'expose', ExposeProperties>
  | Of<'storage', StorageProperties>;

const SCHEMAS = {
  sidecar: sidecarSchema,
  'init-container': initContainerSchema,
  'container-image': containerImageSchema,
  command: commandSchema,
  resource: resourceSchema,
  hostalias: hostaliasSchema,
  affinity: affinitySchema,
  gateway: gatewaySchema,
  expose: exposeSchema,
  storage: storageSchema,
} as const;

export const KUBEVELA_TRAIT_TYPES = Object.keys(SCHEMAS) as Array<KubeVelaTrait['type']>;

/** Validates the properties of one of these traits; undefined when `type` is not one of them. */
export function parseKubeVelaTrait(
  type: string,
  properties: unknown,
  base: Pick<KubeVelaTrait, 'target' | 'place'>,
  propsPlace: SourcePlace,
): KubeVelaTrait | undefined {
  if (!Object.hasOwn(SCHEMAS, type)) return undefined;
  const schema = SCHEMAS[type as KubeVelaTrait['type']];
  return { ...base, type, properties: parseAt(schema, properties, propsPlace) } as KubeVelaTrait;
}

const POD_TEMPLATE_PATCH = 'write it with json-merge-patch or json-patch on spec.template.spec';
/**
 * KubeVela's other built-in traits, which tricenter does not render, and what to write instead:
 * the refusal names the way that works rather than only the list.
 */
const TRAIT_ALTERNATIVES: Readonly<Record<string, string>> = {
  hpa: 'ship a HorizontalPodAutoscaler in a k8s-objects component',
  cpuscaler: 'ship a HorizontalPodAutoscaler in a k8s-objects component',
  ingress: 'use gateway',
  'pure-ingress': 'use gateway with existingServiceName',
  volumes: "use storage, or the component's volumeMounts",
  'service-account': 'set spec.template.spec.serviceAccountName with json-merge-patch',
  'container-ports': POD_TEMPLATE_PATCH,
  lifecycle: POD_TEMPLATE_PATCH,
  'startup-probe': POD_TEMPLATE_PATCH,
  securitycontext: POD_TEMPLATE_PATCH,
  podsecuritycontext: POD_TEMPLATE_PATCH,
  topologyspreadconstraints: POD_TEMPLATE_PATCH,
  'k8s-update-strategy': 'set spec.strategy with json-merge-patch',
};

export function traitAlternative(type: string): string | undefined {
  return Object.hasOwn(TRAIT_ALTERNATIVES, type) ? TRAIT_ALTERNATIVES[type] : undefined;
}
