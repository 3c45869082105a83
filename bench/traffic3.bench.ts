/**
 * GTM 3.0 traffic reconcile at scale with nothing to change: 200 applications x 3 clusters on one
 * Alibaba Cloud account, each with its own GTM 3.0 instance, in the in-memory CloudGtm behind msw,
 * through the real adapter (signed pop-core requests, verified by the handlers). Every app is
 * reconciled once to build its objects (not measured), then once more, measured.
 *
 * In GTM 3.0 addresses, pools and health-check templates belong to the account, not the instance:
 * every reconcile lists them all (four paged lists), so reads per reconcile grow with the number
 * of applications sharing the account. Goal: 0 writes; the figures show that growth.
 */
import { setupServer } from 'msw/node';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { silentLogger } from '#shared/platform/log.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import { reconcileTraffic } from '#shared/traffic/usecases/reconcile-traffic.ts';
import { claimsHeld } from '../test/traffic/claims-held.ts';
import { FakeCloudGtm } from '../test/traffic/cloudgtm-msw.ts';
import { seedPolicy, seedRegistry } from '../test/traffic/fixtures.ts';

const APPS = 200;
const CONCURRENCY = 8;
const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-bench3', accessKeySecret: 'bench3-secret' };
const T0 = 1_700_000_000_000;

interface App {
  policy: TrafficPolicy;
  gtm: AlidnsCloudGtm;
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
  const instances = Array.from({ length: APPS }, (_, i) => `gtm-bench3-${i}`);
  const fake = new FakeCloudGtm({ endpoint: ENDPOINT, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances });
  const server = setupServer(...fake.handlers());
  server.listen({ onUnhandledRequest: 'error' });

  const apps: App[] = instances.map((instanceId, i) => {
    const policy = seedPolicy();
    policy.metadata.name = `app-${i}`;
    policy.spec.domain = `app-${i}.example.com`;
    policy.spec.gtmInstanceId = instanceId;
    policy.spec.ingress = { name: `app-${i}` };
    return { policy, gtm: new AlidnsCloudGtm({ endpoint: ENDPOINT, instanceId, credentials: KEY }) };
  });
  const gateway = {
    ingressAddresses: async (cluster: string, ingress: { name: string }) => {
      const i = Number(ingress.name.slice('app-'.length));
      return [`10.${clusterIndex.get(cluster)}.${Math.floor(i / 256)}.${i % 256}`];
    },
  };
  const history = new MemoryTrafficHistoryStore();
  const reconcileAll = async (now: number) => {
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
      });
      changes += result.plan.changes.length;
    });
    const ms = Math.round(performance.now() - started);
    const reads = apps.reduce((n, a) => n + a.gtm.stats.reads, 0);
    const writes = apps.reduce((n, a) => n + a.gtm.stats.writes, 0);
    return { ms, msPerApp: Number((ms / APPS).toFixed(2)), changes, reads, readsPerApp: Number((reads / APPS).toFixed(1)), writes };
  };

  try {
    const build = await reconcileAll(T0);
    const steady = await reconcileAll(T0 + 60_000);
    return {
      apps: APPS,
      clustersPerApp: registry.clusters.length,
      concurrency: CONCURRENCY,
      objects: { addresses: fake.addresses.size, pools: fake.pools.size, templates: fake.templates.size, configs: fake.configs.size },
      firstBuild: { ms: build.ms, writes: build.writes, reads: build.reads },
      steady: { ...steady, goal: { zeroWrites: steady.writes === 0 } },
    };
  } finally {
    server.close();
  }
}
