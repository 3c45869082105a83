import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BucketReleaseObjectStore } from '#shared/delivery/adapters/bucket-release-objects.ts';
import { staticCredentials } from '#shared/platform/credentials.ts';
import { createOssBundleSource } from '#shared/delivery/adapters/aliyun/oss-bundle-source.ts';
import { createTablestoreRunStore } from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';
import { createTables, tablestoreClient } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { objectRef, type KubeObject, type ObjectRef } from '#shared/delivery/model/kube.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { ingestBundle } from '#shared/delivery/usecases/ingest-bundle.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { runDeployTask } from '#shared/delivery/usecases/run-task.ts';
import type { DeployTask } from '#shared/delivery/workflow/run.ts';
import { BIG_APP, bigBundle, clusterName } from '../helpers/big-bundle.ts';
import { FakeOss } from './oss-msw.ts';
import { FakeTablestore } from './tablestore-msw.ts';

/**
 * A bundle at the limits (1,000 components, 50 clusters, an override per cluster: a 29 MB plan)
 * through the cloud adapters over msw: OSS for the bundle and the release objects, Tablestore for
 * the release row and the run. Every task reads only its cluster's packs; the figures are printed.
 */
const OSS_HOST = 'oss-cn-hangzhou.aliyuncs.com';
const OTS_ENDPOINT = 'https://tricenter-limits.cn-hangzhou.ots.aliyuncs.com';
const KEY = { accessKeyId: 'STS.limits', accessKeySecret: 'limits-secret', securityToken: 'limits-token' };
const BUCKET = 'tricenter-bundles';
const BUNDLE_KEY = `bundles/${BIG_APP.namespace}/${BIG_APP.name}.yaml`;

const server = setupServer();
const oss = new FakeOss({
  endpointHost: OSS_HOST,
  buckets: [BUCKET],
  keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
});
const ots = new FakeTablestore({
  endpoint: OTS_ENDPOINT,
  instance: 'tricenter-limits',
  keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
});
beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  server.resetHandlers(...oss.handlers(), ...ots.handlers());
  await createTables(tablestoreClient({ endpoint: OTS_ENDPOINT, instance: 'tricenter-limits', credentials: KEY }), 'limits_');
});
afterAll(() => server.close());

/** A cluster gateway that records what each cluster was sent; everything is healthy at once. */
function recordingGateway() {
  const applied = new Map<string, KubeObject[][]>();
  const pruned = new Map<string, ObjectRef[]>();
  const gateway: ClusterGateway = {
    verify: async () => {},
    apply: async (cluster, manifests) => {
      applied.set(cluster, [...(applied.get(cluster) ?? []), manifests]);
      return { cluster, objects: [] };
    },
    health: async (cluster, objects) => ({ cluster, healthy: true, objects: objects.map((ref) => ({ ref, healthy: true })) }),
    listOwned: async () => [],
    prune: async (cluster, _app, keep) => {
      pruned.set(cluster, keep);
      return [];
    },
    ingressAddresses: async () => [],
    ingressAddressesIn: async () => new Map(),
    workloads: async () => [],
    // Every cluster runs what it was sent: nothing drifts.
    observe: async (_cluster, manifests) => manifests.map((m) => ({ ref: objectRef(m), state: 'in-sync' as const })),
    probe: async (cluster) => ({ cluster, reachable: true, serverSideApply: 'yes' as const }),
    preview: async (_cluster, _app, manifests) =>
      manifests.map((m) => ({ ref: objectRef(m), action: 'same' as const, fields: [], liveVersion: '' })),
  };
  return { gateway, applied, pruned };
}

describe('a release at the limits through OSS and Tablestore (msw)', () => {
  it('ingests 1,000 components x 50 clusters with a small row, then each task reads only its cluster', async () => {
    const files = bigBundle({ components: 1000, clusters: 50, overrides: 'scattered' });
    const credentials = staticCredentials(KEY);
    const bundles = createOssBundleSource({ region: 'cn-hangzhou', endpoint: `https://${OSS_HOST}`, credentials });
    const store = createTablestoreRunStore({
      region: 'cn-hangzhou',
      instance: 'tricenter-limits',
      tablePrefix: 'limits_',
      endpoint: OTS_ENDPOINT,
      credentials,
    });
    const registry = parseClusterRegistry(await loadBundleBytes('clusters.yaml', new TextEncoder().encode(files.clusters)));
    const { gateway, applied, pruned } = recordingGateway();
    const queued: DeployTask[] = [];
    const logger = memoryLogger();
    let ids = 0;
    const deps: WorkflowDeps = {
      store,
      queue: { send: async (tasks) => void queued.push(...tasks) },
      gateway,
      bundles,
      manifests: new ReleaseManifests(new BucketReleaseObjectStore(bundles, BUCKET)),
      registry: async () => registry,
      clock: new ManualClock(1_000_000),
      logger,
      newId: () => `run-${++ids}`,
      healthWait: { totalMs: 0, pollMs: 1 },
    };

    const uploaded = await bundles.put(BUCKET, BUNDLE_KEY, new TextEncoder().encode(files.app));
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await ingestBundle(deps, { bucket: BUCKET, key: BUNDLE_KEY, etag: uploaded.etag });
    const ingestMs = performance.now() - started;
    const ingestCpu = process.cpuUsage(cpu);
    expect(result).toMatchObject({ outcome: 'run-started' });

    const releaseRow = [...ots.tables.get('limits_releases')!.rows.values()][0]!;
    const rowBytes = [...releaseRow.columns.entries()]
      .filter(([name]) => name.startsWith('body_') && name !== 'body_chunks')
      .reduce((sum, [, column]) => sum + Buffer.byteLength(String((column.cell as { v: unknown }).v)), 0);
    const objects = [...oss.buckets.get(BUCKET)!.entries()].filter(([key]) => key.startsWith('releases/objects/'));
    const objectBytes = objects.reduce((sum, [, o]) => sum + o.data.byteLength, 0);
    const stored = logger.lines.find((l) => l.msg === 'release stored');
    expect(rowBytes).toBeLessThan(64 * 1024);
    expect(objects).toHaveLength(51);
    expect(objectBytes).toBeLessThan(3 * 1024 * 1024);

    // Every cluster's step, one task at a time; the OSS requests of each task are counted.
    const requestsPerTask: number[] = [];
    while (queued.length > 0) {
      const task = queued.shift()!;
      const before = oss.calls.length;
      expect(await runDeployTask(deps, task)).toMatchObject({ handled: true, outcome: { kind: 'done' } });
      requestsPerTask.push(oss.calls.length - before);
    }
    expect(requestsPerTask).toHaveLength(50);
    // The first task reads the shared pack and its own (HEAD + GET each); every later one only its own.
    expect(requestsPerTask[0]).toBe(4);
    expect(requestsPerTask.slice(1).every((n) => n === 2)).toBe(true);
    expect(oss.calls.every((c) => !c.key.startsWith('releases/') || c.method !== 'PUT' || c.status === 200)).toBe(true);

    for (let c = 0; c < 50; c++) {
      const [manifests, ...again] = applied.get(clusterName(c)) ?? [];
      expect(again).toEqual([]);
      expect(manifests).toHaveLength(1000);
      const overridden = manifests!.filter((m) => (m.data as Record<string, string>).cluster !== undefined);
      expect(overridden.map((m) => [m.metadata.name, (m.data as Record<string, string>).cluster])).toEqual([[`cm-${c}`, clusterName(c)]]);
    }
    // The run finished: garbage collection kept, on every cluster, its 1,000 objects.
    expect([...pruned.keys()]).toHaveLength(50);
    expect([...pruned.values()].every((keep) => keep.length === 1000)).toBe(true);

    console.log(
      JSON.stringify({
        bundle: '1000 components x 50 clusters, an override per cluster',
        yamlBytes: files.app.length,
        ingestMs: Math.round(ingestMs),
        ingestCpuMs: Math.round((ingestCpu.user + ingestCpu.system) / 1000),
        releaseRowBytes: rowBytes,
        releaseObjects: objects.length,
        releaseObjectBytes: objectBytes,
        logged: { packs: stored?.packs, packBytes: stored?.packBytes, rowBytes: stored?.rowBytes },
        ossRequestsPerTask: { first: requestsPerTask[0], others: requestsPerTask[1] },
      }),
    );
  }, 120_000);
});
