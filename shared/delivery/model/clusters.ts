// zod/mini: the functions load the registry on their first invocation, so it must parse cheaply.
import * as z from 'zod/mini';
import { BundleError } from '../../platform/errors.ts';
import { approvalPolicyFieldsSchema } from './approval-policy.ts';
import type { LoadedBundle } from './loaded-bundle.ts';
import { isClusterScoped } from './scope.ts';
import { bundleError, parseAt, type SourcePlace } from './source.ts';

/**
 * The cluster registry (`clusters.yaml`): the clusters an application can be placed on, with
 * aliases, labels for `clusterLabelSelector`, and how to reach each one. An entry without a
 * connection is reached through the default kubeconfig, with a context named after the cluster
 * (which is what the local sandbox writes).
 */
const name = z
  .string()
  .check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits, -)'), z.maxLength(63));
const nonEmpty = z.string().check(z.minLength(1));

const clusterConnectionSchema = z.union([
  z.strictObject({
    kubeconfig: z.strictObject({
      /** Path of a kubeconfig file; `~` is expanded. Default: $KUBECONFIG, then ~/.kube/config. */
      path: z.optional(nonEmpty),
      /** Context to use. Default: the cluster's name. */
      context: z.optional(nonEmpty),
    }),
  }),
  z.strictObject({
    /** Name of an environment variable holding a base64-encoded kubeconfig (e.g. from a secret). */
    kubeconfigEnv: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')),
    context: z.optional(nonEmpty),
  }),
  z.strictObject({
    /** An ACK cluster id; its kubeconfig is fetched with DescribeClusterUserKubeconfig. */
    ackClusterId: nonEmpty,
    region: nonEmpty,
    privateIpAddress: z.optional(z.boolean()),
  }),
]);

export const clusterEntrySchema = z.strictObject({
  name,
  aliases: z._default(z.array(name), []),
  labels: z._default(z.record(z.string(), z.string()), {}),
  connection: z.optional(clusterConnectionSchema),
  /**
   * Client-side rate limit towards this cluster's API server, per process (client-go's QPS and
   * Burst): `qps` requests per second, `burst` at once. Default 50 and 100 (shared/platform/token-bucket.ts).
   */
  rateLimit: z.optional(z.strictObject({ qps: z.number().check(z.positive()), burst: z.int().check(z.positive()) })),
});

/** A namespace name in which `*` stands for any run of characters (anchored: `team-a-*` does not match `x-team-a-1`). */
const namespacePattern = z
  .string()
  .check(
    z.regex(/^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$/, 'must be a namespace name, `*` allowed (lower case letters, digits, -)'),
    z.maxLength(63),
  );
/** A domain in which `*` stands for any run of characters inside one label: `*.example.com` matches `a.example.com`, not `a.b.example.com`. */
const domainPattern = z
  .string()
  .check(
    z.regex(
      /^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?(\.[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?)+$/,
      'must be a lower-case domain name, `*` allowed inside a label',
    ),
    z.maxLength(253),
  );

/** The GTM instance a TrafficPolicy without `spec.gtmInstanceId` uses (the deployment's `TRICENTER_GTM_INSTANCE_ID`). */
export const DEFAULT_GTM_INSTANCE = 'default';

/** GTM 3.0 (`CloudGtm*` actions) or GTM 2.0 (`DnsGtm*`), both of Alidns API 2015-01-09. */
const GTM_VERSIONS = ['3.0', '2.0'] as const;
export type GtmVersion = (typeof GTM_VERSIONS)[number];

/**
 * What one tenant (the `<tenant>` of `bundles/<tenant>/<name>.<ext>`) may use, after Argo CD's
 * AppProject. Every field is narrow by default: see tenancy/admission.ts for how it is applied.
 */
const tenantEntrySchema = z.strictObject({
  name,
  /** Target namespaces; `*` globs allowed, but kube-system, kube-public and kube-node-lease only by name. Default: `[<tenant>]`. */
  namespaces: z.optional(z.array(namespacePattern)),
  /** Cluster names or aliases. Default: every cluster of the registry. */
  clusters: z.optional(z.array(name)),
  /** Cluster-scoped kinds the tenant may ship (Namespace, ClusterRole, ...). Default: none. Allowing ClusterRoleBinding allows binding any ClusterRole, cluster-admin included. */
  clusterScopedKinds: z._default(z.array(nonEmpty), []),
  /** ClusterRoles a RoleBinding in an allowed namespace may reference (e.g. `view`, `edit`). Default: none. */
  clusterRoles: z._default(z.array(nonEmpty), []),
  /**
   * GTM instances (`default`: the deployment's own) and the domains on each a TrafficPolicy may name. Default: none.
   * `version`: the instance's GTM, 3.0 (`CloudGtm*` API, the default) or 2.0 (`DnsGtm*`); it picks the reconciler's adapter.
   */
  gtm: z._default(
    z.array(
      z.strictObject({
        instance: nonEmpty,
        domains: z.array(domainPattern).check(z.minLength(1)),
        version: z._default(z.enum(GTM_VERSIONS), '3.0'),
      }),
    ),
    [],
  ),
});

export const clusterRegistrySchema = z
  .strictObject({
    clusters: z.array(clusterEntrySchema).check(z.minLength(1, 'at least one cluster is required')),
    /** Per-tenant allowances; a tenant not listed (or no section at all) gets the narrow defaults. */
    tenants: z.optional(z.array(tenantEntrySchema)),
    /** Defaults of every approval step's policy (model/approval-policy.ts); a step's `properties.approval` overrides them field by field. */
    approval: z.optional(approvalPolicyFieldsSchema),
  })
  .check(
    z.superRefine((registry, ctx) => {
      const seen = new Map<string, number>();
      registry.clusters.forEach((cluster, index) => {
        for (const [i, key] of [cluster.name, ...cluster.aliases].entries()) {
          const first = seen.get(key);
          if (first !== undefined && first !== index) {
            ctx.addIssue({
              code: 'custom',
              path: i === 0 ? ['clusters', index, 'name'] : ['clusters', index, 'aliases', i - 1],
              message: `"${key}" is already used by clusters[${first}]`,
            });
          }
          seen.set(key, index);
        }
      });
      const tenants = new Map<string, number>();
      const versions = new Map<string, { version: string; at: string }>();
      registry.tenants?.forEach((tenant, index) => {
        tenant.gtm.forEach((entry, i) => {
          const first = versions.get(entry.instance);
          if (first !== undefined && first.version !== entry.version)
            ctx.addIssue({
              code: 'custom',
              path: ['tenants', index, 'gtm', i, 'version'],
              message: `GTM instance "${entry.instance}" is version ${first.version} at ${first.at}; one instance has one version`,
            });
          else if (first === undefined) versions.set(entry.instance, { version: entry.version, at: `tenants[${index}].gtm[${i}]` });
        });
        const first = tenants.get(tenant.name);
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['tenants', index, 'name'],
            message: `tenant "${tenant.name}" is already declared by tenants[${first}]`,
          });
        tenants.set(tenant.name, index);
        tenant.clusters?.forEach((cluster, i) => {
          if (!seen.has(cluster))
            ctx.addIssue({
              code: 'custom',
              path: ['tenants', index, 'clusters', i],
              message: `"${cluster}" is not a cluster name or alias of this registry`,
            });
        });
        tenant.clusterScopedKinds.forEach((kind, i) => {
          if (!isClusterScoped(kind))
            ctx.addIssue({
              code: 'custom',
              path: ['tenants', index, 'clusterScopedKinds', i],
              message: `"${kind}" is not a cluster-scoped kind`,
            });
        });
      });
    }),
  );

/** The GTM version the registry gives an instance (`default` for the deployment's own); undefined when no tenant lists it. */
export function gtmVersionOf(registry: ClusterRegistry, instance: string): GtmVersion | undefined {
  for (const tenant of registry.tenants ?? []) {
    const entry = tenant.gtm.find((g) => g.instance === instance);
    if (entry) return entry.version;
  }
  return undefined;
}

export type ClusterEntry = z.infer<typeof clusterEntrySchema>;
export type ClusterRegistry = z.infer<typeof clusterRegistrySchema>;

/** The cluster registry of a `--clusters` file (or the bundle's clusters.yaml): its one document must be a registry. */
export function parseClusterRegistry(loaded: LoadedBundle): ClusterRegistry {
  const [doc, extra] = loaded.documents;
  if (!doc) throw new BundleError('holds no cluster registry', { file: loaded.source });
  const place: SourcePlace = { file: doc.file, document: doc.index, line: doc.line, path: '' };
  if (extra) throw bundleError('a cluster registry file holds one document', { ...place, document: extra.index }, 'BUNDLE_INVALID');
  return parseAt(clusterRegistrySchema, doc.value, place);
}
