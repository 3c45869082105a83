// zod/mini: the functions load the registry on their first invocation, so it must parse cheaply.
import * as z from 'zod/mini';
import { BundleError } from '../core/errors.ts';
import type { LoadedBundle } from '../bundle/load.ts';
import { bundleError, parseAt, type SourcePlace } from './source.ts';

/**
 * The cluster registry (`clusters.yaml`): the clusters an application can be placed on, with
 * aliases, labels for `clusterLabelSelector`, and how to reach each one. An entry without a
 * connection is reached through the default kubeconfig, with a context named after the cluster
 * (which is what the local sandbox writes).
 */
const name = z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits, -)'), z.maxLength(63));
const nonEmpty = z.string().check(z.minLength(1));

export const clusterConnectionSchema = z.union([
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
});

export const clusterRegistrySchema = z
  .strictObject({ clusters: z.array(clusterEntrySchema).check(z.minLength(1, 'at least one cluster is required')) })
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
    }),
  );

export type ClusterConnection = z.infer<typeof clusterConnectionSchema>;
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
