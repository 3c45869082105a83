/**
 * GTM 3.0 traffic reconcile at scale with nothing to change: 200 applications x 3 clusters on one
 * Alibaba Cloud account, each with its own GTM 3.0 instance, in the in-memory CloudGtm behind msw,
 * through the real adapter (signed pop-core requests, verified by the handlers; traffic-scale.ts).
 * Every app is reconciled once to build its objects (not measured), then once more, measured.
 *
 * In GTM 3.0 addresses, pools and health-check templates belong to the account, not the instance:
 * every reconcile lists them all (four paged lists), so reads per reconcile grow with the number
 * of applications sharing the account. Goal: 0 writes; the figures show that growth.
 */
import { trafficAtScale } from './traffic-scale.ts';

const APPS = 200;
const T0 = 1_700_000_000_000;

export async function run(): Promise<Record<string, unknown>> {
  const scale = trafficAtScale('3.0', APPS);
  try {
    const build = await scale.reconcileAll(T0);
    const { ms, msPerApp, changes, reads, writes } = await scale.reconcileAll(T0 + 60_000);
    const { fake } = scale;
    return {
      apps: APPS,
      clustersPerApp: scale.registry.clusters.length,
      concurrency: scale.concurrency,
      objects: { addresses: fake.addresses.size, pools: fake.pools.size, templates: fake.templates.size, configs: fake.configs.size },
      firstBuild: { ms: build.ms, writes: build.writes, reads: build.reads },
      steady: {
        ms,
        msPerApp,
        changes,
        reads,
        readsPerApp: Number((reads / APPS).toFixed(1)),
        writes,
        goal: { zeroWrites: writes === 0 },
      },
    };
  } finally {
    scale.close();
  }
}
