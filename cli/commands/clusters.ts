import type { Command } from 'commander';
import type { ClusterView } from '#shared/delivery/usecases/fleet.ts';
import { ApiClient } from '../client.ts';
import { table } from '../status-view.ts';
import { resolveTarget } from '../target.ts';
import { terminalSafeJson } from '../terminal-text.ts';

/** `tricenter clusters`: the fleet as the functions see it, through the approval API (`GET /clusters`). */
export function register(program: Command): void {
  program
    .command('clusters')
    .description('every registry cluster: reachable, server version, API latency, server-side apply, the applications it runs')
    .option('-o, --output <format>', 'text or json', 'text')
    .option('--endpoint <url>', 'approval API URL (default: the local twin, or $TRICENTER_ENDPOINT)')
    .option('--token <token>', 'bearer token (default: the local twin, or $TRICENTER_TOKEN)')
    .action(async (options: { output: string; endpoint?: string; token?: string }) => {
      const { clusters } = await new ApiClient(resolveTarget(options)).clusters();
      console.log(options.output === 'json' ? terminalSafeJson(clusters) : formatClusters(clusters));
      if (clusters.some((c) => !c.reachable)) process.exitCode = 2;
    });
}

/** One row per cluster; the reason of an unreachable cluster or an unknown server-side apply below the table. */
export function formatClusters(clusters: ClusterView[]): string {
  const rows = [['CLUSTER', 'REACHABLE', 'VERSION', 'LATENCY', 'SSA', 'APPS']];
  for (const c of clusters) {
    rows.push([
      c.cluster,
      c.reachable ? 'yes' : 'no',
      c.version ?? '-',
      c.latencyMs === undefined ? '-' : `${c.latencyMs} ms`,
      c.serverSideApply,
      c.apps.map((a) => (a.phase === 'running' ? a.app : `${a.app} (${a.phase})`)).join(', ') || '-',
    ]);
  }
  const notes = clusters.filter((c) => c.error).map((c) => [c.cluster, c.error as string]);
  return notes.length > 0 ? `${table(rows)}\n\n${table([['CLUSTER', 'PROBLEM'], ...notes])}` : table(rows);
}
