/** What `tricenter clusters` shows for one registry cluster: one probe of its API server. */
export interface ClusterProbe {
  cluster: string;
  reachable: boolean;
  /** `GET /version`'s gitVersion, e.g. `v1.30.2`. */
  version?: string;
  /** Round trip of that `GET /version`, in ms. */
  latencyMs?: number;
  /**
   * Server-side apply, tried as a dry-run apply of a ConfigMap: `yes`, `no` (the API server refused the
   * apply patch type), or `unknown` (the probe may not write there, or the cluster is unreachable).
   */
  serverSideApply: 'yes' | 'no' | 'unknown';
  /** Why it is unreachable, or why server-side apply is unknown. */
  error?: string;
}
