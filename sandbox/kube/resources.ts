/**
 * The resource types the simulated API server serves, and the discovery documents that describe
 * them (kube-apiserver 1.20's legacy discovery: /api, /apis, /api/v1, /apis/<group>/<version>).
 * Only these types are listed: a client that asks for another one gets a 404, as it would from a
 * server without that API. Three are served at the version a newer server has instead of 1.20's
 * (docs/sandbox-vs-kube-apiserver.md): CronJob batch/v1 (1.21; 1.20 has batch/v1beta1),
 * PodDisruptionBudget policy/v1 (1.21; policy/v1beta1) and HorizontalPodAutoscaler autoscaling/v2
 * (1.23; autoscaling/v2beta2), the versions tricenter renders.
 */
export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Subresources served besides the object itself. */
  status: boolean;
  /** metadata.generation is kept and bumped on spec changes (Deployment, Ingress, ...), as their registry strategies do. */
  generation: boolean;
  storageVersionHash: string;
}

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const NAMESPACE_VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCE_TYPES: ResourceType[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    categories: [],
    status: true,
    generation: false,
    storageVersionHash: 'Q3oi5N2YM8M=',
  },
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    categories: [],
    status: false,
    generation: false,
    storageVersionHash: 'qFsyl6wFWjQ=',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Secret',
    plural: 'secrets',
    singular: 'secret',
    namespaced: true,
    shortNames: [],
    categories: [],
    status: false,
    generation: false,
    storageVersionHash: 'S6u1pOWzb84=',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    status: true,
    generation: false,
    storageVersionHash: '0/CO1lhkEBI=',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    status: true,
    generation: true,
    storageVersionHash: '8aSe+NMegvE=',
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    plural: 'ingresses',
    singular: 'ingress',
    namespaced: true,
    shortNames: ['ing'],
    categories: [],
    status: true,
    generation: true,
    storageVersionHash: '39NQlfNR+bo=',
  },
  {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    singular: 'serviceaccount',
    namespaced: true,
    shortNames: ['sa'],
    categories: [],
    status: false,
    generation: false,
    storageVersionHash: 'pbx9ZvyFpBE=',
  },
  {
    group: '',
    version: 'v1',
    kind: 'PersistentVolumeClaim',
    plural: 'persistentvolumeclaims',
    singular: 'persistentvolumeclaim',
    namespaced: true,
    shortNames: ['pvc'],
    categories: [],
    status: true,
    generation: false,
    storageVersionHash: 'QWTyNDq0dC4=',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    singular: 'statefulset',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    status: true,
    generation: true,
    storageVersionHash: 'H+vl74LkKdo=',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    singular: 'daemonset',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    status: true,
    generation: true,
    storageVersionHash: 'dd7pWHUlMKQ=',
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    singular: 'job',
    namespaced: true,
    shortNames: [],
    categories: ['all'],
    status: true,
    generation: true,
    storageVersionHash: 'mudhfqk/qZY=',
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    plural: 'cronjobs',
    singular: 'cronjob',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
    status: true,
    generation: true,
    storageVersionHash: 'sd5LIXh4Fjs=',
  },
  {
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    singular: 'horizontalpodautoscaler',
    namespaced: true,
    shortNames: ['hpa'],
    categories: ['all'],
    status: true,
    generation: false,
    storageVersionHash: 'oQlkt7f5j/A=',
  },
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    singular: 'poddisruptionbudget',
    namespaced: true,
    shortNames: ['pdb'],
    categories: [],
    status: true,
    generation: true,
    storageVersionHash: '6BGBu0kpHtk=',
  },
];

export function groupVersion(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function findResource(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

export function servesGroupVersion(group: string, version: string): boolean {
  return RESOURCE_TYPES.some((t) => t.group === group && t.version === version);
}

export const SERVER_VERSION = {
  major: '1',
  minor: '20',
  gitVersion: 'v1.20.2',
  gitCommit: 'faecb196815e248d3ecfb03c680a4507229c2a56',
  gitTreeState: 'clean',
  buildDate: '2021-01-13T13:20:00Z',
  goVersion: 'go1.15.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function coreVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function namedGroups(): Array<{ name: string; version: string }> {
  const seen = new Map<string, string>();
  for (const t of RESOURCE_TYPES) if (t.group && !seen.has(t.group)) seen.set(t.group, t.version);
  return [...seen].map(([name, version]) => ({ name, version }));
}

export function apiGroupList(): unknown {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: namedGroups().map(({ name, version }) => {
      const gv = { groupVersion: `${name}/${version}`, version };
      return { name, versions: [gv], preferredVersion: gv };
    }),
  };
}

export function apiGroup(group: string): unknown | undefined {
  const found = namedGroups().find((g) => g.name === group);
  if (!found) return undefined;
  const gv = { groupVersion: `${found.name}/${found.version}`, version: found.version };
  return { kind: 'APIGroup', apiVersion: 'v1', name: found.name, versions: [gv], preferredVersion: gv };
}

export function apiResourceList(group: string, version: string): unknown {
  const resources = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version).flatMap((t) => {
    const main: Record<string, unknown> = {
      name: t.plural,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.kind === 'Namespace' ? NAMESPACE_VERBS : VERBS,
    };
    if (t.shortNames.length) main.shortNames = t.shortNames;
    if (t.categories.length) main.categories = t.categories;
    main.storageVersionHash = t.storageVersionHash;
    const status = {
      name: `${t.plural}/status`,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'patch', 'update'],
    };
    const scale = {
      name: `${t.plural}/scale`,
      singularName: '',
      namespaced: t.namespaced,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    };
    return [main, ...(t.kind === 'Deployment' ? [scale] : []), ...(t.status ? [status] : [])];
  });
  // The core group's list carries no apiVersion, a quirk of kube-apiserver that clients tolerate.
  const head = group ? { kind: 'APIResourceList', apiVersion: 'v1' } : { kind: 'APIResourceList' };
  return { ...head, groupVersion: groupVersion({ group, version }), resources };
}
