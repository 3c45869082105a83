import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { variantOfWebDemo } from './bundles.ts';
import { startTestTwin, waitFor } from './helpers.ts';

/**
 * Issue 4's chaos run, through the real handlers, store, gateway and simulated clusters: 30% of
 * queue messages duplicated, deliveries delayed (so reordered), 10% of tasks crashing between
 * apply and record. 50 runs must end exactly like a clean run, and every step complete once.
 */
const RUNS = 50;
const apps: AppRef[] = Array.from({ length: RUNS }, (_, i) => ({ namespace: `chaos-${i}`, name: 'web-demo' }));

describe('chaos: duplicates, reordering and crashes between apply and record', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  const completions = new Map<string, number>();

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin({
      faults: { duplicateRate: 0.3, delayMs: [0, 40], crashBeforeRecordRate: 0.1, seed: 20261126 },
      queueConcurrency: 16,
    }));
    // Every step that succeeded asks for its traffic reconcile once: count those requests instead.
    twin.deps.trafficQueue = {
      send: async (messages) => {
        for (const { app, step } of messages) {
          const key = `${app.namespace}/${step}`;
          completions.set(key, (completions.get(key) ?? 0) + 1);
        }
      },
    };
  });
  afterAll(async () => cleanup?.());

  it(`${RUNS} runs end like a clean run and every step completes once`, async () => {
    await Promise.all(
      apps.map(async (app) => {
        const dir = variantOfWebDemo({
          'app.yaml': (t) => t.replaceAll('namespace: demo', `namespace: ${app.namespace}`),
          'app-meta.yaml': (t) => t.replaceAll('namespace: demo', `namespace: ${app.namespace}`),
        });
        rmSync(join(dir, 'traffic.yaml')); // one domain cannot serve 50 apps; traffic is not what this test is about
        const packed = await packBundle(dir);
        expect(packed.app).toEqual(app);
        await client.upload(app, packed);
      }),
    );
    const atGate = (app: AppRef) =>
      waitFor(
        () => client.status(app),
        (s) => s.phase === 'workflowSuspending',
        120_000,
        `${app.namespace} at the gate`,
      );
    await Promise.all(apps.map(atGate));
    await Promise.all(apps.map((app) => client.decide(app, 'approve')));
    const finals = await Promise.all(
      apps.map((app) =>
        waitFor(
          () => client.status(app),
          (s) => s.phase === 'running',
          120_000,
          `${app.namespace} running`,
        ),
      ),
    );

    expect(twin.faultStats?.duplicated).toBeGreaterThan(0);
    expect(twin.faultStats?.crashed).toBeGreaterThan(0);
    expect(twin.queueStats.deadLettered).toBe(0);

    for (const status of finals) {
      expect(status.steps.map((s) => [s.name, s.phase, s.clusters.map((c) => c.status)])).toEqual([
        ['deploy-cluster1-beijing', 'succeeded', ['done']],
        ['deploy-cluster2-beijing', 'succeeded', ['done']],
        ['deploy-cluster1-hangzhou', 'succeeded', ['done']],
      ]);
      expect(status.clusters.map((c) => [c.cluster, c.workloads.map((w) => w.ready)])).toEqual([
        ['cluster1-beijing', ['5/5']],
        ['cluster2-beijing', ['5/5']],
        ['cluster1-hangzhou', ['1/1']],
      ]);
    }
    for (const app of apps) {
      for (const step of ['deploy-cluster1-beijing', 'deploy-cluster2-beijing', 'deploy-cluster1-hangzhou']) {
        expect(completions.get(`${app.namespace}/${step}`), `${app.namespace} ${step}`).toBe(1);
      }
    }
  }, 300_000);
});
