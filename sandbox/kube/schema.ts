/**
 * The slice of the Kubernetes OpenAPI schema that merging needs: which lists are associative
 * (merged by key), which are sets, which lists and structs are atomic (replaced whole). Paths are
 * field names joined by dots, `[]` standing for a list item; any list not named here is atomic, as
 * the API server treats lists without `x-kubernetes-list-type`.
 */
export type ListType =
  | { type: 'map'; keys: string[]; patchKey: string; keyDefaults?: Record<string, string> }
  | { type: 'set' }
  | { type: 'atomic' };

const POD_SPEC_LISTS: Record<string, ListType> = {
  containers: { type: 'map', keys: ['name'], patchKey: 'name' },
  initContainers: { type: 'map', keys: ['name'], patchKey: 'name' },
  ephemeralContainers: { type: 'map', keys: ['name'], patchKey: 'name' },
  volumes: { type: 'map', keys: ['name'], patchKey: 'name' },
  imagePullSecrets: { type: 'map', keys: ['name'], patchKey: 'name' },
  hostAliases: { type: 'map', keys: ['ip'], patchKey: 'ip' },
  topologySpreadConstraints: { type: 'map', keys: ['topologyKey', 'whenUnsatisfiable'], patchKey: 'topologyKey' },
};

const CONTAINER_LISTS: Record<string, ListType> = {
  // 1.20's schema defaults a container port's protocol, so an apply may leave it out (not so for Service ports).
  ports: { type: 'map', keys: ['containerPort', 'protocol'], patchKey: 'containerPort', keyDefaults: { protocol: 'TCP' } },
  env: { type: 'map', keys: ['name'], patchKey: 'name' },
  volumeMounts: { type: 'map', keys: ['mountPath'], patchKey: 'mountPath' },
  volumeDevices: { type: 'map', keys: ['devicePath'], patchKey: 'devicePath' },
};

const COMMON_LISTS: Record<string, ListType> = {
  'metadata.finalizers': { type: 'set' },
  'metadata.ownerReferences': { type: 'map', keys: ['uid'], patchKey: 'uid' },
};

function podTemplateLists(prefix: string): Record<string, ListType> {
  const out: Record<string, ListType> = {};
  for (const [name, type] of Object.entries(POD_SPEC_LISTS)) out[`${prefix}.${name}`] = type;
  for (const containerList of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const [name, type] of Object.entries(CONTAINER_LISTS)) out[`${prefix}.${containerList}[].${name}`] = type;
  }
  return out;
}

const CONDITIONS: ListType = { type: 'map', keys: ['type'], patchKey: 'type' };

/** A kind whose pod template sits at `template` (under `spec.`), with conditions in its status. */
function templatedKind(template: string): Record<string, ListType> {
  return {
    ...podTemplateLists(`${template}.spec`),
    [`${template}.metadata.finalizers`]: { type: 'set' },
    'status.conditions': CONDITIONS,
  };
}

const LISTS_BY_KIND: Record<string, Record<string, ListType>> = {
  Deployment: templatedKind('spec.template'),
  StatefulSet: { ...templatedKind('spec.template'), 'spec.volumeClaimTemplates': { type: 'atomic' } },
  DaemonSet: templatedKind('spec.template'),
  Job: templatedKind('spec.template'),
  CronJob: templatedKind('spec.jobTemplate.spec.template'),
  PersistentVolumeClaim: { 'status.conditions': CONDITIONS },
  HorizontalPodAutoscaler: { 'status.conditions': CONDITIONS },
  PodDisruptionBudget: { 'status.conditions': CONDITIONS },
  Service: {
    'spec.ports': { type: 'map', keys: ['port', 'protocol'], patchKey: 'port' },
  },
  Namespace: {
    'status.conditions': { type: 'map', keys: ['type'], patchKey: 'type' },
  },
};

/** Structs replaced as a whole (`+structType=atomic`): a Deployment's label selector. */
const ATOMIC_STRUCTS_BY_KIND: Record<string, string[]> = {
  Deployment: ['spec.selector'],
  StatefulSet: ['spec.selector'],
  DaemonSet: ['spec.selector'],
  Job: ['spec.selector'],
  CronJob: ['spec.jobTemplate.spec.selector'],
  PersistentVolumeClaim: ['spec.selector'],
  PodDisruptionBudget: ['spec.selector'],
};

export function listTypeAt(kind: string, pattern: string): ListType {
  return LISTS_BY_KIND[kind]?.[pattern] ?? COMMON_LISTS[pattern] ?? { type: 'atomic' };
}

export function isAtomicStruct(kind: string, pattern: string): boolean {
  return ATOMIC_STRUCTS_BY_KIND[kind]?.includes(pattern) ?? false;
}

export function childPattern(pattern: string, field: string): string {
  return pattern ? `${pattern}.${field}` : field;
}

export function itemPattern(pattern: string): string {
  return `${pattern}[]`;
}
