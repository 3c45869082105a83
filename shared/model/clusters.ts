import { z } from 'zod';

/**
 * The cluster registry (`clusters.yaml`): the clusters an application can be placed on, with
 * aliases, labels for `clusterLabelSelector`, and how to reach each one. An entry without a
 * connection is reached through the default kubeconfig, with a context named after the cluster
 * (which is what the local sandbox writes).
 */
const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case letters, digits, -)').max(63);

export const clusterConnectionSchema = z.union([
  z.strictObject({
    kubeconfig: z.strictObject({
      /** Path of a kubeconfig file; `~` is expanded. Default: $KUBECONFIG, then ~/.kube/config. */
      path: z.string().min(1).optional(),
      /** Context to use. Default: the cluster's name. */
      context: z.string().min(1).optional(),
    }),
  }),
  z.strictObject({
    /** Name of an environment variable holding a base64-encoded kubeconfig (e.g. from a secret). */
    kubeconfigEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
    context: z.string().min(1).optional(),
  }),
  z.strictObject({
    /** An ACK cluster id; its kubeconfig is fetched with DescribeClusterUserKubeconfig. */
    ackClusterId: z.string().min(1),
    region: z.string().min(1),
    privateIpAddress: z.boolean().optional(),
  }),
]);

export const clusterEntrySchema = z.strictObject({
  name,
  aliases: z.array(name).default([]),
  labels: z.record(z.string(), z.string()).default({}),
  connection: clusterConnectionSchema.optional(),
});

export const clusterRegistrySchema = z
  .strictObject({ clusters: z.array(clusterEntrySchema).min(1, 'at least one cluster is required') })
  .superRefine((registry, ctx) => {
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
  });

export type ClusterConnection = z.infer<typeof clusterConnectionSchema>;
export type ClusterEntry = z.infer<typeof clusterEntrySchema>;
export type ClusterRegistry = z.infer<typeof clusterRegistrySchema>;
