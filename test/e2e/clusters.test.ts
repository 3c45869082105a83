import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '#cli/client.ts';
import { formatClusters } from '#cli/commands/clusters.ts';
import type { LocalTwin } from '#local/twin.ts';
import { sweepDrift } from '#shared/delivery/usecases/keep-state.ts';
import type { ClusterView } from '#shared/delivery/usecases/fleet.ts';
import { deploySeedToRunning, startTestTwin } from './helpers.ts';

const run = promisify(execFile);
const CLUSTERS = ['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou'];

/** `tricenter clusters` and `GET /clusters` on the local twin: the fleet as the functions see it. */
describe('tricenter clusters', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin({ timerIntervalMs: 3_600_000 }));
    await deploySeedToRunning(client);
  });
  afterAll(async () => cleanup?.());

  it('shows every registry cluster: reachable, version, latency, server-side apply, the applications it runs', async () => {
    const { clusters } = await client.clusters();
    expect(clusters.map((c) => c.cluster)).toEqual(CLUSTERS);
    for (const cluster of clusters) {
      expect(cluster).toMatchObject({
        reachable: true,
        version: 'v1.20.2',
        serverSideApply: 'yes',
        apps: [{ app: 'demo/web-demo', phase: 'running', publishVersion: 'version8' }],
      });
      expect(cluster.latencyMs).toBeGreaterThanOrEqual(0);
      expect(cluster.error).toBeUndefined();
    }
    const text = formatClusters(clusters);
    expect(text.split('\n')[0]).toMatch(/^CLUSTER +REACHABLE +VERSION +LATENCY +SSA +APPS$/);
    expect(text).toMatch(/cluster1-hangzhou +yes +v1\.20\.2 +[\d.]+ ms +yes +demo\/web-demo/);
  });

  it('an unreachable cluster is shown as such, with why; the sweep leaves it unknown, never "drifted"', async () => {
    await twin.sandbox.setFault('cluster1-hangzhou', 'api-unreachable');
    try {
      const { clusters } = await client.clusters();
      const down = clusters.find((c) => c.cluster === 'cluster1-hangzhou') as ClusterView;
      expect(down).toMatchObject({ reachable: false, serverSideApply: 'unknown', apps: [{ app: 'demo/web-demo' }] });
      expect(down.error).toBeTruthy();
      expect(down.version).toBeUndefined();
      expect(clusters.filter((c) => c.reachable).map((c) => c.cluster)).toEqual(['cluster1-beijing', 'cluster2-beijing']);
      expect(formatClusters(clusters)).toMatch(/cluster1-hangzhou +no +- +- +unknown/);
      expect(formatClusters(clusters)).toMatch(/PROBLEM/);

      const round = await sweepDrift(twin.deps);
      expect(round).toMatchObject({ clusters: 2, drifted: 0, healed: 0, unobserved: ['cluster1-hangzhou'] });
      expect((await client.status({ namespace: 'demo', name: 'web-demo' })).driftEvents).toBeUndefined();
    } finally {
      await twin.sandbox.setFault('cluster1-hangzhou', 'none');
    }
  });

  it('only reads: GET, never anything else, and only with a token', async () => {
    const url = `${twin.endpoints.approvalUrl}/clusters`;
    const post = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${twin.endpoints.token}` } });
    expect(post.status).toBe(405);
    expect((await fetch(url)).status).toBe(401);
  });

  it('the CLI process prints the fleet as JSON (-o json)', async () => {
    const { stdout } = await run(
      process.execPath,
      ['bin/tricenter.mjs', 'clusters', '-o', 'json', '--endpoint', twin.endpoints.approvalUrl, '--token', twin.endpoints.token],
      { timeout: 50_000 },
    );
    const clusters = JSON.parse(stdout) as ClusterView[];
    expect(clusters.map((c) => [c.cluster, c.reachable, c.serverSideApply])).toEqual(CLUSTERS.map((c) => [c, true, 'yes']));
  });
});
