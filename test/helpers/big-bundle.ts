/**
 * A bundle at the limits of releases: `components` ConfigMap components (about 600 bytes each once
 * rendered), `clusters` clusters, one deploy step per cluster with an override of its own. With
 * `overrides: 'scattered'` cluster i overrides component i (every cluster differs from every other
 * in two objects); with `'same'` every cluster overrides component 0 (the seed's env-per-cluster
 * shape). Written as JSON documents in one YAML file, with a registry of the clusters.
 */
export interface BigBundleOptions {
  components?: number;
  clusters?: number;
  overrides?: 'scattered' | 'same';
  /** The second step waits for approval, so a twin deploys only the first cluster. */
  approvalAfterFirst?: boolean;
}

export const BIG_APP = { namespace: 'big', name: 'big-app' } as const;

export function clusterName(index: number): string {
  return `c${String(index).padStart(2, '0')}`;
}

export function bigBundle(options: BigBundleOptions = {}): { app: string; clusters: string } {
  const components = options.components ?? 1000;
  const clusters = options.clusters ?? 50;
  const documents: object[] = [];
  for (let c = 0; c < clusters; c++) {
    const cluster = clusterName(c);
    const target = options.overrides === 'same' ? 0 : c % components;
    documents.push({
      apiVersion: 'core.oam.dev/v1alpha1',
      kind: 'Policy',
      metadata: { name: `on-${cluster}`, namespace: BIG_APP.namespace },
      type: 'topology',
      properties: { clusters: [cluster] },
    });
    documents.push({
      apiVersion: 'core.oam.dev/v1alpha1',
      kind: 'Policy',
      metadata: { name: `override-${cluster}`, namespace: BIG_APP.namespace },
      type: 'override',
      properties: { components: [{ name: `cm-${target}`, traits: [{ type: 'json-merge-patch', properties: { data: { cluster } } }] }] },
    });
  }
  documents.push({
    apiVersion: 'core.oam.dev/v1alpha1',
    kind: 'Workflow',
    metadata: { name: 'rollout', namespace: BIG_APP.namespace },
    steps: Array.from({ length: clusters }, (_, c) => ({
      type: 'deploy',
      name: `deploy-${clusterName(c)}`,
      properties: {
        policies: [`override-${clusterName(c)}`, `on-${clusterName(c)}`],
        ...(options.approvalAfterFirst && c === 1 ? { auto: false } : {}),
      },
    })),
  });
  documents.push({
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'Application',
    metadata: { name: BIG_APP.name, namespace: BIG_APP.namespace, annotations: { 'app.oam.dev/publishVersion': 'v1' } },
    spec: {
      workflow: { ref: 'rollout' },
      components: Array.from({ length: components }, (_, i) => ({
        name: `cm-${i}`,
        type: 'k8s-objects',
        properties: {
          objects: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: `cm-${i}`, labels: { app: BIG_APP.name, part: `p${i % 10}` } },
              data: {
                'config.json': JSON.stringify({
                  id: i,
                  database: `db-${i}.internal.example.com`,
                  pool: 20,
                  settings: `${i}`.repeat(20).slice(0, 120),
                }),
              },
            },
          ],
        },
      })),
    },
  });
  const registry = { clusters: Array.from({ length: clusters }, (_, c) => ({ name: clusterName(c), labels: { region: `r${c % 5}` } })) };
  return { app: documents.map((d) => JSON.stringify(d)).join('\n---\n'), clusters: JSON.stringify(registry) };
}
