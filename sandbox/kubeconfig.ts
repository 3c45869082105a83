import { stringify } from 'yaml';

/** A kubeconfig with one cluster, user and context per simulated cluster, each named after it. */
export interface KubeconfigCluster {
  name: string;
  server: string;
}

export function renderKubeconfig(clusters: KubeconfigCluster[], caPem: string, token: string): string {
  const caData = Buffer.from(caPem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: clusters.map((c) => ({ name: c.name, cluster: { server: c.server, 'certificate-authority-data': caData } })),
    users: clusters.map((c) => ({ name: c.name, user: { token } })),
    contexts: clusters.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    'current-context': clusters[0]?.name ?? '',
  });
}
