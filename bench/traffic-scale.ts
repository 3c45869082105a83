/**
 * What the two traffic-at-scale benches share (traffic.bench.ts on GTM 2.0, traffic3.bench.ts on
 * GTM 3.0): many applications of the seed policy, each with its own GTM instance and its own
 * Ingress address in each cluster, reconciled through the real adapter against an in-memory Alidns
 * fake behind msw (signed pop-core requests, verified by the handlers), a few at a time.
 */
import { setupServer } from 'msw/node';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import type { AlidnsRpcOptions, GtmCallStats } from '#shared/traffic/adapters/aliyun/alidns-rpc.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import type { Gtm } from '#shared/traffic/ports/gtm.port.ts';
import type { Gtm3 } from '#shared/traffic/ports/gtm3.port.ts';
import { silentLogger } from '#shared/platform/log.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { TrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import { reconcileTraffic } from '#shared/traffic/usecases/reconcile-traffic.ts';
import { FakeAlidns } from '../test/traffic/alidns-msw.ts';
import { claimsHeld } from '../test/traffic/claims-held.ts';
import { FakeCloudGtm } from '../test/traffic/cloudgtm-msw.ts';
import { seedPolicy, seedRegistry } from '../test/traffic/fixtures.ts';
import type { FakeRpcOptions } from '../test/traffic/rpc-msw.ts';

const CONCURRENCY = 8;
const ENDPOINT = 'https://alidns.aliyuncs.com';

type ScaleGtm = (Gtm | Gtm3) & { readonly stats: GtmCallStats };
type FakeOptions = FakeRpcOptions & { instances: string[] };
type GtmOptions = AlidnsRpcOptions & { instanceId: string };

/** Each generation's in-memory Alidns and adapter, and the names of its instances and key. */
const GENERATIONS = {
  '2.0': {
    fake: (options: FakeOptions) => new FakeAlidns(options),
    gtm: (options: GtmOptions): ScaleGtm => new AlidnsGtm(options),
    instancePrefix: 'gtm-bench-',
    key: { accessKeyId: 'LTAI-bench', accessKeySecret: 'bench-secret' },
  },
  '3.0': {
    fake: (options: FakeOptions) => new FakeCloudGtm(options),
    gtm: (options: GtmOptions): ScaleGtm => new AlidnsCloudGtm(options),
    instancePrefix: 'gtm-bench3-',
    key: { accessKeyId: 'LTAI-bench3', accessKeySecret: 'bench3-secret' },
  },
};
type Generations = typeof GENERATIONS;

/** One pass over every application: time, plan changes and GTM calls, summed. */
interface ReconcileRound {
  ms: number;
  msPerApp: number;
  changes: number;
  reads: number;
  writes: number;
  byAction: Record<string, number>;
}

interface App {
  policy: TrafficPolicy;
  gtm: ScaleGtm;
}

export interface TrafficScale<F> {
  registry: ClusterRegistry;
  fake: F;
  concurrency: number;
  reconcileAll(now: number, verifyEveryMs?: number): Promise<ReconcileRound>;
  close(): void;
}

/** `appCount` applications of the seed policy on GTM `version`, each with its own instance; the msw server listens until `close`. */
export function trafficAtScale<V extends keyof Generations>(
  version: V,
  appCount: number,
): TrafficScale<ReturnType<Generations[V]['fake']>> {
  const generation = GENERATIONS[version];
  const registry: ClusterRegistry = seedRegistry();
  const clusterIndex = new Map(registry.clusters.map((c, i) => [c.name, i + 1]));
  const instances = Array.from({ length: appCount }, (_, i) => `${generation.instancePrefix}${i}`);
  const { key } = generation;
  const fake = generation.fake({ endpoint: ENDPOINT, keys: { [key.accessKeyId]: key.accessKeySecret }, instances }) as ReturnType<
    Generations[V]['fake']
  >;
  const server = setupServer(...fake.handlers());
  server.listen({ onUnhandledRequest: 'error' });

  const apps: App[] = instances.map((instanceId, i) => {
    const policy = seedPolicy();
    policy.metadata.name = `app-${i}`;
    policy.spec.domain = `app-${i}.example.com`;
    policy.spec.gtmInstanceId = instanceId;
    policy.spec.ingress = { name: `app-${i}` };
    return { policy, gtm: generation.gtm({ endpoint: ENDPOINT, instanceId, credentials: key }) };
  });
  // Each app's Ingress has its own address in each cluster.
  const gateway = {
    ingressAddresses: async (cluster: string, ingress: { name: string }) => {
      const i = Number(ingress.name.slice('app-'.length));
      return [`10.${clusterIndex.get(cluster)}.${Math.floor(i / 256)}.${i % 256}`];
    },
  };
  const history = new MemoryTrafficHistoryStore();

  const reconcileAll = async (now: number, verifyEveryMs?: number): Promise<ReconcileRound> => {
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
    return { ms, msPerApp: Number((ms / appCount).toFixed(2)), changes, reads, writes, byAction };
  };

  return { registry, fake, concurrency: CONCURRENCY, reconcileAll, close: () => server.close() };
}

async function forEachApp(apps: App[], work: (app: App) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < apps.length) await work(apps[next++] as App);
    }),
  );
}
