/**
 * Traffic reconcile at scale with nothing to change: 500 applications x 3 clusters, each with its
 * own GTM instance (GTM 2.0 serves one domain per instance) in the in-memory Alidns behind msw,
 * through the real adapter (signed pop-core requests, verified by the handlers; traffic-scale.ts).
 * Every app is reconciled once to build its pools (not measured), then measured twice: a run that
 * re-reads every GTM setting (verifyEveryMs 0), and the steady run that trusts settings verified
 * < 15 min ago. Goal: 0 writes, reads <= pools + pages.
 */
import { trafficAtScale } from './traffic-scale.ts';

const APPS = 500;
const T0 = 1_700_000_000_000;

export async function run(): Promise<Record<string, unknown>> {
  const scale = trafficAtScale('2.0', APPS);
  try {
    const build = await scale.reconcileAll(T0);
    const pools = scale.fake.pools.size;
    // Pool list pages + strategy list pages: one each per instance at PageSize 100.
    const pages = APPS * 2;
    // Reads every setting (and leaves the verified settings in the history for the next run).
    const fullVerify = await scale.reconcileAll(T0 + 60_000, 0);
    const steady = await scale.reconcileAll(T0 + 120_000);
    const goal = (r: { reads: number; writes: number }) => ({
      zeroWrites: r.writes === 0,
      readsWithinPoolsPlusPages: r.reads <= pools + pages,
    });
    return {
      apps: APPS,
      clustersPerApp: scale.registry.clusters.length,
      concurrency: scale.concurrency,
      pools,
      pages,
      readBudget: pools + pages,
      firstBuild: { ms: build.ms, writes: build.writes, reads: build.reads },
      fullVerify: { ...fullVerify, goal: goal(fullVerify) },
      steady: { ...steady, goal: goal(steady) },
    };
  } finally {
    scale.close();
  }
}
