import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { parseClusterRegistry, type ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The per-cluster rate limit and keep-alive through the real client stack, against a tiny API
 * server on loopback that records when each request arrives and how many connections it took.
 */

interface Recorder {
  server: Server;
  url: string;
  arrivals: number[];
  connections: number;
}

function answer(req: IncomingMessage, res: ServerResponse, recorder: Recorder): void {
  recorder.arrivals.push(Date.now());
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  res.setHeader('content-type', 'application/json');
  if (path === '/apis/networking.k8s.io/v1') {
    res.end(
      JSON.stringify({
        kind: 'APIResourceList',
        groupVersion: 'networking.k8s.io/v1',
        resources: [{ name: 'ingresses', namespaced: true, kind: 'Ingress', verbs: ['get', 'list'] }],
      }),
    );
    return;
  }
  const name = path.split('/').pop();
  res.end(
    JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
    }),
  );
}

async function startRecorder(): Promise<Recorder> {
  const recorder = { arrivals: [] as number[], connections: 0 } as Recorder;
  recorder.server = createServer((req, res) => answer(req, res, recorder));
  recorder.server.on('connection', () => {
    recorder.connections += 1;
  });
  await new Promise<void>((resolve) => recorder.server.listen(0, '127.0.0.1', resolve));
  recorder.url = `http://127.0.0.1:${(recorder.server.address() as AddressInfo).port}`;
  return recorder;
}

async function registryOf(yaml: string): Promise<ClusterRegistry> {
  return parseClusterRegistry(await loadBundleBytes('clusters.yaml', new TextEncoder().encode(yaml)));
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A gateway over a registry of one cluster (`rateLimit` as the registry says), reached over plain HTTP. */
async function gatewayFor(
  registryYaml: string,
  defaults?: { qps: number; burst: number },
): Promise<{ gateway: KubeGateway; recorder: Recorder }> {
  const recorder = await startRecorder();
  cleanup.push(() => new Promise<void>((resolve) => recorder.server.close(() => resolve())));
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-rate-limit-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'busy', cluster: { server: recorder.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'busy', user: { token: 't' } }],
      contexts: [{ name: 'busy', context: { cluster: 'busy', user: 'busy' } }],
      'current-context': 'busy',
    }),
  );
  const registry = await registryOf(registryYaml);
  const gateway = createKubeGateway({
    connections: createClusterConnections({ clusters: registry.clusters, defaultKubeconfigPath: kubeconfig }),
    ...(defaults ? { rateLimit: defaults } : {}),
  });
  cleanup.push(() => gateway.close());
  return { gateway, recorder };
}

/** Requests that arrived earlier than the limit allows, counted from `start` (2 tokens of slack: millisecond clocks and timers). */
function tooEarly(arrivals: number[], start: number, limit: { qps: number; burst: number }): number[] {
  return [...arrivals].sort((a, b) => a - b).filter((at, k) => k + 1 > limit.burst + 2 + (limit.qps * (at - start)) / 1000);
}

describe('per-cluster rate limit and keep-alive', () => {
  it('abuse: 500 requests fired at once at one cluster never exceed burst + qps * t, over a few kept-alive connections', async () => {
    const limit = { qps: 500, burst: 20 };
    // The gateway's own default would let 400 go at once: the registry's limit for the cluster is the one that holds.
    const { gateway, recorder } = await gatewayFor(
      `clusters:\n  - name: busy\n    rateLimit: {qps: ${limit.qps}, burst: ${limit.burst}}\n`,
      { qps: 500, burst: 400 },
    );
    const start = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 500 }, (_, i) => gateway.ingressAddresses('busy', { namespace: 'demo', name: `web-${i}` })),
    );
    expect(answers.every((addresses) => addresses[0] === '10.0.0.1')).toBe(true);
    // 500 reads and one discovery, each waiting its turn.
    expect(recorder.arrivals).toHaveLength(501);
    expect(tooEarly(recorder.arrivals, start, limit)).toEqual([]);
    expect(recorder.connections).toBeLessThanOrEqual(16);
  });

  it('without a registry limit, the gateway default (client-go style) applies, and the burst goes at once', async () => {
    const limit = { qps: 200, burst: 50 };
    const { gateway, recorder } = await gatewayFor('clusters:\n  - name: busy\n', limit);
    const start = Date.now();
    await Promise.all(Array.from({ length: 200 }, (_, i) => gateway.ingressAddresses('busy', { namespace: 'demo', name: `web-${i}` })));
    expect(recorder.arrivals).toHaveLength(201);
    expect(tooEarly(recorder.arrivals, start, limit)).toEqual([]);
  });

  it('a registry limit that would stop or never limit is refused at parse time, naming the cluster entry and field', async () => {
    for (const [limit, field] of [
      ['{qps: 0, burst: 10}', 'qps'],
      ['{qps: 5, burst: 0}', 'burst'],
      ['{qps: 5, burst: 1.5}', 'burst'],
      ['{qps: 5}', 'burst'],
      ['{qps: 5, burst: 10, extra: 1}', 'extra'],
    ] as const) {
      const refusal = await registryOf(`clusters:\n  - name: busy\n    rateLimit: ${limit}\n`).catch((err: unknown) => err);
      expect(String(refusal), limit).toMatch(/clusters\.yaml/);
      expect(String(refusal), limit).toMatch(new RegExp(`rateLimit.*${field}|${field}.*rateLimit`));
    }
  });
});
