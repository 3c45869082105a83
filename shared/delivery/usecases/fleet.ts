import { errorMessage } from '../../platform/errors.ts';
import type { ClusterProbe } from '../model/fleet.ts';
import { appKey } from '../model/ownership.ts';
import { targetsByCluster } from '../model/plan.ts';
import type { RunPhase } from '../workflow/run.ts';
import type { WorkflowDeps } from './deps.ts';

/** What `GET /clusters` and `tricenter clusters` show: every registry cluster, probed now, and what runs there. */
export interface ClusterView extends ClusterProbe {
  /** Applications whose current release deploys to this cluster, with their run's phase. */
  apps: Array<{ app: string; phase: RunPhase; publishVersion: string }>;
}

/** Probes every registry cluster (all at once; each probe bounded by the gateway's request timeout) and lists what each runs. */
export async function fleetView(deps: WorkflowDeps): Promise<ClusterView[]> {
  const registry = await deps.registry();
  const [probes, apps] = await Promise.all([
    Promise.all(
      registry.clusters.map(({ name }) =>
        deps.gateway
          .probe(name)
          .catch(
            (err: unknown): ClusterProbe => ({ cluster: name, reachable: false, serverSideApply: 'unknown', error: errorMessage(err) }),
          ),
      ),
    ),
    appsByCluster(deps),
  ]);
  return probes.map((probe) => ({ ...probe, apps: apps.get(probe.cluster) ?? [] }));
}

async function appsByCluster(deps: WorkflowDeps): Promise<Map<string, ClusterView['apps']>> {
  const byCluster = new Map<string, ClusterView['apps']>();
  let cursor: string | undefined;
  do {
    const page = await deps.store.listApps({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      if (!record.currentRunId) continue;
      const run = await deps.store.getRun(record.currentRunId);
      const release = run && (await deps.store.getRelease(run.releaseId));
      if (!run || !release) continue;
      for (const cluster of targetsByCluster(release.plan).keys()) {
        byCluster.set(cluster, [
          ...(byCluster.get(cluster) ?? []),
          { app: appKey(record.app), phase: run.phase, publishVersion: run.publishVersion },
        ]);
      }
    }
    cursor = page.nextCursor;
  } while (cursor);
  return byCluster;
}
