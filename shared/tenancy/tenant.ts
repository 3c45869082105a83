import type { ClusterRegistry } from '../delivery/model/clusters.ts';

/**
 * What one tenant may use, with the registry's defaults filled in (Argo CD's AppProject, narrow by
 * default): its own namespace only, every cluster, no cluster-scoped kind, no ClusterRole to
 * bind, no GTM instance.
 */
export interface TenantRules {
  tenant: string;
  /** Whether the registry has an entry for the tenant: only an entry can open a reserved namespace. */
  declared: boolean;
  /** Namespace names and `*` globs. */
  namespaces: readonly string[];
  /** Canonical cluster names; undefined: every cluster. */
  clusters: ReadonlySet<string> | undefined;
  clusterScopedKinds: ReadonlySet<string>;
  clusterRoles: ReadonlySet<string>;
  gtm: ReadonlyArray<{ instance: string; domains: readonly string[] }>;
}

/** The cluster's own namespaces: a glob never reaches them, only an entry that names them. */
export const RESERVED_NAMESPACES: ReadonlySet<string> = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

export function tenantRules(registry: ClusterRegistry, tenant: string): TenantRules {
  const entry = registry.tenants?.find((t) => t.name === tenant);
  if (!entry) {
    return {
      tenant,
      declared: false,
      namespaces: [tenant],
      clusters: undefined,
      clusterScopedKinds: new Set(),
      clusterRoles: new Set(),
      gtm: [],
    };
  }
  return {
    tenant,
    declared: true,
    namespaces: entry.namespaces ?? [tenant],
    clusters:
      entry.clusters === undefined ? undefined : new Set(entry.clusters.map((written) => canonicalCluster(registry, written) ?? written)),
    clusterScopedKinds: new Set(entry.clusterScopedKinds),
    clusterRoles: new Set(entry.clusterRoles),
    gtm: entry.gtm,
  };
}

/** The registry name of a cluster written by name or alias. */
export function canonicalCluster(registry: ClusterRegistry, written: string): string | undefined {
  return registry.clusters.find((c) => c.name === written || c.aliases.includes(written))?.name;
}

/** `*` stands for any run of characters other than `.`; the pattern must match the whole value. */
function matchesGlob(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^.]*');
  return new RegExp(`^${body}$`).test(value);
}

export function namespaceAllowed(rules: TenantRules, namespace: string): boolean {
  if (RESERVED_NAMESPACES.has(namespace)) return rules.declared && rules.namespaces.includes(namespace);
  return rules.namespaces.some((pattern) => matchesGlob(pattern, namespace));
}

export function clusterAllowed(rules: TenantRules, cluster: string): boolean {
  return rules.clusters === undefined || rules.clusters.has(cluster);
}

/** Whether a RoleBinding may reference this ClusterRole: allowing ClusterRoleBinding already allows binding any. */
export function clusterRoleBindable(rules: TenantRules, role: string): boolean {
  return rules.clusterScopedKinds.has('ClusterRoleBinding') || rules.clusterRoles.has(role);
}

type GtmDecision = 'allowed' | 'instance' | 'domain';

/** `instance`: no entry for the instance; `domain`: entries for it, none with the domain. */
export function gtmDecision(rules: TenantRules, instance: string, domain: string): GtmDecision {
  const entries = rules.gtm.filter((g) => g.instance === instance);
  if (entries.length === 0) return 'instance';
  const lower = domain.toLowerCase();
  return entries.some((g) => g.domains.some((pattern) => matchesGlob(pattern, lower))) ? 'allowed' : 'domain';
}

export function describeList(values: Iterable<string>): string {
  const list = [...values];
  return list.length === 0 ? 'none' : list.join(', ');
}
