/**
 * Traffic reconcile at scale with nothing to change: 500 applications x 3 clusters, each with its
 * own GTM instance (GTM 2.0 serves one domain per instance) in the in-memory Alidns behind msw,
 * through the real adapter (signed pop-core requests, verified by the handlers). Every app is
 * reconciled once to build its pools (not measured), then measured twice: a run that re-reads every
 * GTM setting (verifyEveryMs 0), and the steady run that trusts settings verified < 15 min ago.
 * Goal: 0 writes, reads <= pools + pages.
 */
import { setupServer } from 'msw/node';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { silentLogger } from '#shared/platform/log.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import { reconcileTraffic } from '#shared/traffic/usecases/reconcile-traffic.ts';
import { FakeAlidns } from '../test/traffic/alidns-msw.ts';
import { claimsHeld } from '../test/traffic/claims-held.ts';
import { seedPolicy, seedRegistry } from '../test/traffic/fixtures.ts';

const APPS = 500;
const CONCURRENCY = 8;
const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-bench', accessKeySecret: 'bench-secret' };
const T0 = 1_700_000_000_000;

interface App {
  policy: TrafficPolicy;
  gtm: AlidnsGtm;
}

async function forEachApp(apps: App[], work: (app: App) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < apps.length) await work(apps[next++] as App);
    }),
  );
}

export async function run(): Promise<Record<string, unknown>> {
  const registry: ClusterRegistry = seedRegistry();
  const clusterIndex = new Map(registry.clusters.map((c, i) => [c.name, i + 1]));
  const instances = Array.from({ length: APPS }, (_, i) => `gtm-bench-${i}`);
  const fake = new FakeAlidns({ endpoint: ENDPOINT, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances });
  const server = setupServer(...fake.handlers());
  server.listen({ onUnhandledRequest: 'error' });

  const apps: App[] = instances.map((instanceId, i) => {
    const policy = seedPolicy();
    policy.metadata.name = `app-${i}`;
    policy.spec.domain = `app-${i}.example.com`;
    policy.spec.gtmInstanceId = instanceId;
    policy.spec.ingress = { name: `app-${i}` };
    return { policy, gtm: new AlidnsGtm({ endpoint: ENDPOINT, instanceId, credentials: KEY }) };
  });
  // Each app's Ingress has its own address in each cluster.
  const gateway = {
    ingressAddresses: async (cluster: string, ingress: { name: string }) => {
      const i = Number(ingress.name.slice('app-'.length));
      return [`10.${clusterIndex.get(cluster)}.${Math.floor(i / 256)}.${i % 256}`];
    },
  };
  const history = new MemoryTrafficHistoryStore();
  const reconcileAll = async (now: number, verifyEveryMs?: number) => {
    for (const app of apps) Object.assign(app.gtm.stats, { reads: 0, writes: 0, retries: 0, byAction: {} });
    let changes = 0;
    const started = performance.now();
    await forEachApp(apps, async ({ policy, gtm }) => {
      const result = await reconcileTraffic({
        policy,
        registry,
        gateway,
        gtm,
        claims: claimsHeld(policy, gtm.instanceId),
        history,
        logger: silentLogger,
        now,
        dryRun: false,
        ...(verifyEveryMs === undefined ? {} : { verifyEveryMs }),
      });
      changes += result.plan.changes.length;
    });
    const ms = Math.round(performance.now() - started);
    const reads = apps.reduce((n, a) => n + a.gtm.stats.reads, 0);
    const writes = apps.reduce((n, a) => n + a.gtm.stats.writes, 0);
    const byAction: Record<string, number> = {};
    for (const app of apps)
      for (const [action, n] of Object.entries(app.gtm.stats.byAction)) byAction[action] = (byAction[action] ?? 0) + n;
    return { ms, msPerApp: Number((ms / APPS).toFixed(2)), changes, reads, writes, byAction };
  };

  try {
    const build = await reconcileAll(T0);
    const pools = fake.pools.size;
    // Pool list pages + strategy list pages: one each per instance at PageSize 100.
    const pages = APPS * 2;
    // Reads every setting (and leaves the verified settings in the history for the next run).
    const fullVerify = await reconcileAll(T0 + 60_000, 0);
    const steady = await reconcileAll(T0 + 120_000);
    const goal = (r: { reads: number; writes: number }) => ({
      zeroWrites: r.writes === 0,
      readsWithinPoolsPlusPages: r.reads <= pools + pages,
    });
    return {
      apps: APPS,
      clustersPerApp: registry.clusters.length,
      concurrency: CONCURRENCY,
      pools,
      pages,
      readBudget: pools + pages,
      firstBuild: { ms: build.ms, writes: build.writes, reads: build.reads },
      fullVerify: { ...fullVerify, goal: goal(fullVerify) },
      steady: { ...steady, goal: goal(steady) },
    };
  } finally {
    server.close();
  }
}
