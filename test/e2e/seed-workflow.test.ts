import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { askDataPlane, startTestTwin, waitFor, waitForPhase, WEB_DEMO, workloadsOf, type PodAnswer } from './helpers.ts';

/** The fixture README's steps 1 and 2, through the same handlers the cloud runs, on the local twin. */
describe('seed scenario: upload -> approval gate -> running', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  const logger = memoryLogger();

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin({ logger }));
  });
  afterAll(async () => cleanup?.());

  const pod = async (cluster: string): Promise<PodAnswer> => {
    const info = twin.sandbox.clusters.find((c) => c.name === cluster);
    if (!info) throw new Error(`no cluster ${cluster}`);
    const answer = await askDataPlane(info.ingressAddress, info.dataPlanePort);
    expect(answer.status, answer.body).toBe(200);
    return JSON.parse(answer.body) as PodAnswer;
  };

  it('step 1: deploys cluster1-beijing, then waits for a review', async () => {
    const packed = await packBundle('examples/web-demo');
    expect(packed.app).toEqual(WEB_DEMO);
    const uploaded = await client.upload(packed.app, packed);
    expect(uploaded.key).toBe('bundles/demo/web-demo.tar.gz');

    const status = await waitForPhase(client, 'workflowSuspending');
    expect(status.publishVersion).toBe('version8');
    expect(status.steps.map((s) => [s.name, s.phase])).toEqual([
      ['deploy-cluster1-beijing', 'succeeded'],
      ['deploy-cluster2-beijing', 'suspended'],
      ['deploy-cluster1-hangzhou', 'pending'],
    ]);
    expect(workloadsOf(status, 'cluster1-beijing')).toEqual([
      expect.objectContaining({ name: 'web-demo', ready: '5/5', upToDate: 5, available: 5 }),
    ]);
    // Only the clusters of steps already run are shown live; the others hold nothing of ours yet.
    for (const cluster of ['cluster2-beijing', 'cluster1-hangzhou']) {
      expect(await twin.deps.gateway.listOwned(cluster, WEB_DEMO)).toEqual([]);
    }
    const beijing1 = await pod('cluster1-beijing');
    expect(beijing1.env.ENV_NAME).toBe('cluster1-beijing');
    expect(beijing1.files['/config-file/config.json']).toContain('database-host: "beijing-db.pg.aliyun.com"');
  });

  it('step 2: after approval deploys cluster2-beijing then cluster1-hangzhou and runs', async () => {
    const decided = await client.decide(WEB_DEMO, 'approve', 'looks good');
    expect(decided.by).toBe('local-operator');
    const status = await waitForPhase(client, 'running');
    expect(status.decisions).toEqual([expect.objectContaining({ kind: 'approve', by: 'local-operator', comment: 'looks good' })]);

    expect(workloadsOf(status, 'cluster1-beijing')[0]?.ready).toBe('5/5');
    expect(workloadsOf(status, 'cluster2-beijing')[0]?.ready).toBe('5/5');
    expect(workloadsOf(status, 'cluster1-hangzhou')[0]?.ready).toBe('1/1');

    const beijing2 = await pod('cluster2-beijing');
    expect(beijing2.env.ENV_NAME).toBe('cluster2-beijing');
    expect(beijing2.files['/config-file/config.json']).toContain('database-host: "beijing-db.pg.aliyun.com"');
    const hangzhou = await pod('cluster1-hangzhou');
    expect(hangzhou.env.ENV_NAME).toBe('cluster1-hangzhou');
    expect(hangzhou.files['/config-file/config.json']).toContain('database-address: "hangzhou-db.pg.aliyun.com"');
    expect(hangzhou.files['/config-file/config.json']).not.toContain('database-host');

    // Service and Ingress are the same everywhere; each Ingress has its own address.
    const addresses = await Promise.all(
      twin.sandbox.clusters.map((c) => twin.deps.gateway.ingressAddresses(c.name, { namespace: 'demo', name: 'web-demo' })),
    );
    expect(addresses).toEqual(twin.sandbox.clusters.map((c) => [c.ingressAddress]));
    expect(new Set(addresses.flat()).size).toBe(3);
  });

  it('uploading the same publishVersion again, even repackaged, changes nothing', async () => {
    const before = await client.status(WEB_DEMO);
    // The same content as one multi-document YAML: another object key, so only publishVersion can tell.
    const yaml = ['clusters.yaml', 'app-meta.yaml', 'app.yaml', 'traffic.yaml']
      .map((f) => readFileSync(`examples/web-demo/${f}`, 'utf8'))
      .join('\n---\n');
    const uploaded = await client.upload(WEB_DEMO, { app: WEB_DEMO, format: 'yaml', data: Buffer.from(yaml) });
    expect(uploaded.key).toBe('bundles/demo/web-demo.yaml');
    const ingested = await waitFor(
      async () => logger.lines.find((l) => l.msg === 'bundle ingested' && l.key === uploaded.key),
      (line) => line !== undefined,
      10_000,
      'the ingest of the repackaged bundle',
    );
    expect(ingested).toMatchObject({ outcome: 'unchanged', runId: before.runId });
    expect((await client.runs(WEB_DEMO)).runs).toHaveLength(1);
    expect((await client.status(WEB_DEMO)).phase).toBe('running');
  });
});
