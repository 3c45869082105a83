/**
 * The sandbox's own costs: start and stop for 3 and 50 clusters (goal: well under 1 s for 3),
 * memory per cluster, and the latency of a server-side apply and of a data plane request.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { startSandbox } from '#sandbox/index.ts';

function clusters(n: number) {
  return Array.from({ length: n }, (_, i) => ({ name: `bench-${i}`, aliases: [], labels: {} }));
}

async function timedStart(n: number): Promise<{ startMs: number; stopMs: number; rssMbPerCluster: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-bench-'));
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const sandbox = await startSandbox({ clusters: clusters(n), dir, dataPlanePort: 0 });
  const startMs = performance.now() - t0;
  const rssMbPerCluster = (process.memoryUsage().rss - rssBefore) / 1024 / 1024 / n;
  const t1 = performance.now();
  await sandbox.stop();
  const stopMs = performance.now() - t1;
  await rm(dir, { recursive: true, force: true });
  return { startMs: Math.round(startMs), stopMs: Math.round(stopMs), rssMbPerCluster: Number(rssMbPerCluster.toFixed(2)) };
}

function get(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { Host: host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

async function latencies(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-bench-'));
  const sandbox = await startSandbox({ clusters: clusters(1), dir, dataPlanePort: 0, readyDelayMs: 0 });
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(sandbox.kubeconfigPath);
    const api = KubernetesObjectApi.makeApiClient(kc);
    const apply = (obj: object) => api.patch(obj as never, undefined, undefined, 'bench', true, PatchStrategy.ServerSideApply);
    await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const rounds = 200;
    let t = performance.now();
    for (let i = 0; i < rounds; i++) {
      await apply({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `cm-${i % 20}`, namespace: 'bench' },
        data: { round: String(i) },
      });
    }
    const applyMs = (performance.now() - t) / rounds;
    await apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'bench' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, protocol: 'TCP' }] },
    });
    await apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: 'bench' },
      spec: {
        rules: [
          {
            host: 'web.bench',
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] },
          },
        ],
      },
    });
    t = performance.now();
    for (let i = 0; i < rounds; i++) await get(`${sandbox.clusters[0]?.dataPlaneUrl}/`, 'web.bench');
    const dataPlaneMs = (performance.now() - t) / rounds;
    return { applyMsPerRequest: Number(applyMs.toFixed(2)), dataPlaneMsPerRequest: Number(dataPlaneMs.toFixed(2)) };
  } finally {
    await sandbox.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const three = await timedStart(3);
  const fifty = await timedStart(50);
  const threeWarm = await timedStart(3);
  return {
    goal: 'start 3 clusters well under 1000 ms; 50 clusters in one process',
    clusters3: three,
    clusters3Warm: threeWarm,
    clusters50: fifty,
    ...(await latencies()),
  };
}
