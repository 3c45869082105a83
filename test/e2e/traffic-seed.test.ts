import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDrillSetup, resolveOnce, runDrillOnTwin, type DrillPhase, type DrillReport } from '#local/drill.ts';
import type { LocalTwin } from '#local/twin.ts';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { waitFor, WEB_DEMO } from './helpers.ts';
import { drillPhase, expectSeedDrillSetup, startSeedOnTwin } from './seed-traffic.ts';

/**
 * The fixture README's steps 3 and 4 on the local twin: after the seed runs, the reconciler has
 * built the GTM pools, checks and strategy in the emulator; then the drill resolves the domain
 * through the emulator's DNS and asks whoever is answered, while Beijing fails and heals.
 * Probe intervals are scaled by 0.005 (60 s -> 300 ms), so the whole drill takes seconds.
 */
const DOMAIN = 'web-demo.example.com';
const BEIJING_CONFIG = 'database-host: "beijing-db.pg.aliyun.com"';
const HANGZHOU_CONFIG = 'database-address: "hangzhou-db.pg.aliyun.com"';
const POOL_BEIJING = 'tricenter.demo.web-demo.pool-beijing';
const POOL_HANGZHOU = 'tricenter.demo.web-demo.pool-hangzhou';

describe('seed scenario: traffic on the healthy centers', () => {
  let twin: LocalTwin;
  let cleanup: () => Promise<void>;
  let address: Record<string, string>;
  const logger = memoryLogger();

  beforeAll(async () => {
    ({ twin, cleanup, address } = await startSeedOnTwin({ logger, gtmVersion: '2.0' }));
  });
  afterAll(async () => cleanup?.());

  const gtm = () =>
    new AlidnsGtm({
      endpoint: twin.endpoints.gtm.endpoint,
      instanceId: twin.endpoints.gtm.instanceId,
      credentials: { accessKeyId: twin.endpoints.gtm.accessKeyId, accessKeySecret: twin.endpoints.gtm.accessKeySecret },
    });
  const poolAddresses = (name: string) =>
    twin.gtm
      .state()
      .pools.find((p) => p.name === name)
      ?.addresses.map((a) => a.addr);

  it('step 3: GTM holds pool-beijing (both Beijing addresses, ALL_RR) and pool-hangzhou, checked, primary Beijing, TTL 60', async () => {
    // The reconcile after the last step (and the timer) lands the Hangzhou address too.
    await waitFor(
      async () => twin.gtm.state(),
      (s) => poolAddresses(POOL_HANGZHOU)?.length === 1 && s.strategies[0]?.failoverPoolIds.length === 1,
      10_000,
      'the Hangzhou pool as failover',
    );
    const state = twin.gtm.state();
    expect(state).toMatchObject({ domain: DOMAIN, ttl: 60 });
    const beijing = state.pools.find((p) => p.name === POOL_BEIJING);
    const hangzhou = state.pools.find((p) => p.name === POOL_HANGZHOU);
    expect(beijing).toMatchObject({ lbaStrategy: 'ALL_RR' });
    expect(beijing?.addresses.map((a) => a.addr).sort()).toEqual([address['cluster1-beijing'], address['cluster2-beijing']].sort());
    expect(hangzhou?.addresses.map((a) => a.addr)).toEqual([address['cluster1-hangzhou']]);
    for (const pool of [beijing, hangzhou]) {
      const monitor = state.monitors.find((m) => m.id === pool?.monitorConfigId);
      expect(monitor).toMatchObject({ poolId: pool?.id, status: 'OPEN', protocolType: 'HTTP', interval: 60, evaluationCount: 2 });
      expect(JSON.parse(monitor?.extendInfo ?? '{}')).toMatchObject({ host: DOMAIN, path: '/' });
    }
    expect(state.strategies).toEqual([
      expect.objectContaining({
        accessMode: 'AUTO',
        defaultPoolIds: [beijing?.id],
        failoverPoolIds: [hangzhou?.id],
        defaultMinAvailableAddrNum: 1,
        effective: 'DEFAULT',
      }),
    ]);
    expect((await resolveOnce(twin.endpoints.gtm.dns, DOMAIN)).sort()).toEqual(
      [address['cluster1-beijing'], address['cluster2-beijing']].sort(),
    );

    // The drill reads the same picture back through the GTM API.
    const setup = await readDrillSetup(gtm(), WEB_DEMO);
    expectSeedDrillSetup(setup, address);
  });

  describe('step 4: the disaster-recovery drill', () => {
    let report: DrillReport;
    const progress: string[] = [];
    const phase = (name: DrillPhase['name']) => drillPhase(report, name);

    beforeAll(async () => {
      // From endpoints.json alone, as `tricenter drill` does: faults go through the sandbox's control API.
      report = await runDrillOnTwin(twin.endpoints, { app: WEB_DEMO, requests: 50, onProgress: (line) => progress.push(line) });
    });

    it('all healthy: both Beijing clusters answer, about half each, with the Beijing config', () => {
      const healthy = phase('all-healthy');
      expect(healthy.errors).toEqual([]);
      expect(Object.keys(healthy.answeredBy).sort()).toEqual(['cluster1-beijing', 'cluster2-beijing']);
      for (const cluster of ['cluster1-beijing', 'cluster2-beijing']) {
        const tally = healthy.answeredBy[cluster];
        expect(tally?.count).toBeGreaterThanOrEqual(15);
        expect(tally?.envNames).toEqual([cluster]);
        expect(tally?.configs).toHaveLength(1);
        expect(tally?.configs[0]).toContain(BEIJING_CONFIG);
      }
      expect((healthy.answeredBy['cluster1-beijing']?.count ?? 0) + (healthy.answeredBy['cluster2-beijing']?.count ?? 0)).toBe(50);
      expect(healthy.ok).toBe(true);
    });

    it('cluster1-beijing fails: after the health checks notice, every answer is cluster2-beijing', () => {
      const failing = phase('primary-failing');
      expect(failing.failed).toEqual(['cluster1-beijing']);
      expect(failing.errors).toEqual([]);
      expect(Object.keys(failing.answeredBy)).toEqual(['cluster2-beijing']);
      expect(failing.answeredBy['cluster2-beijing']).toMatchObject({ count: 50, envNames: ['cluster2-beijing'] });
      expect(failing.answeredBy['cluster2-beijing']?.configs[0]).toContain(BEIJING_CONFIG);
      expect(failing.transition).toMatchObject({ kind: 'failover', boundMs: 600 });
      expect(failing.transition?.measuredMs).toBeGreaterThan(0);
    });

    it('both Beijing clusters fail: every answer is cluster1-hangzhou with the Hangzhou config', () => {
      const down = phase('primary-down');
      expect(down.failed).toEqual(['cluster1-beijing', 'cluster2-beijing']);
      expect(down.errors).toEqual([]);
      expect(Object.keys(down.answeredBy)).toEqual(['cluster1-hangzhou']);
      const hangzhou = down.answeredBy['cluster1-hangzhou'];
      expect(hangzhou).toMatchObject({ count: 50, envNames: ['cluster1-hangzhou'] });
      expect(hangzhou?.configs).toHaveLength(1);
      expect(hangzhou?.configs[0]).toContain(HANGZHOU_CONFIG);
      expect(hangzhou?.configs[0]).not.toContain('database-host');
    });

    it('healed: traffic returns to both Beijing clusters', () => {
      const healed = phase('healed');
      expect(healed.failed).toEqual([]);
      expect(healed.errors).toEqual([]);
      expect(Object.keys(healed.answeredBy).sort()).toEqual(['cluster1-beijing', 'cluster2-beijing']);
      expect(healed.transition?.kind).toBe('recovery');
      expect(twin.sandbox.clusters.map((c) => twin.sandbox.fault(c.name))).toEqual(['none', 'none', 'none']);
    });

    it('reports every switch beside its bound and says how the bound is taken locally', () => {
      expect(report.ok).toBe(true);
      expect(report.phases.map((p) => p.name)).toEqual(['all-healthy', 'primary-failing', 'primary-down', 'healed']);
      expect(report.bound).toMatchObject({
        localMs: 600,
        cloudS: 180,
        scaledIntervalMs: 300,
        evaluationCount: 2,
        ttlS: 60,
        probeIntervalScale: 0.005,
      });
      for (const p of report.phases.slice(1))
        expect(p.transition?.ratio).toBe(Math.round(((p.transition?.measuredMs ?? 0) / 600) * 100) / 100);
      expect(report.notes.join('\n')).toMatch(/scaled by 0\.005/);
      expect(report.notes.join('\n')).toMatch(/TTL term .* is 0 here/);
      expect(progress.some((line) => line.includes('cluster1-beijing fails'))).toBe(true);
    });
  });

  it('a cluster whose API is unreachable keeps its address in GTM', async () => {
    const beijing1 = address['cluster1-beijing'] as string;
    await twin.sandbox.setFault('cluster1-beijing', 'api-unreachable');
    try {
      const since = logger.lines.length;
      // More rounds than the removal threshold (3): an absent answer would have removed it by now.
      for (let round = 0; round < 4; round++) await twin.reconcileTraffic();
      const unobserved = logger.lines
        .slice(since)
        .filter((l) => l.msg === 'cluster not observed; its addresses are kept' && l.cluster === 'cluster1-beijing');
      expect(unobserved.length).toBeGreaterThanOrEqual(4);
      expect(poolAddresses(POOL_BEIJING)).toContain(beijing1);
      // Its data plane still serves, so GTM keeps answering with it.
      expect(await resolveOnce(twin.endpoints.gtm.dns, DOMAIN)).toContain(beijing1);
    } finally {
      await twin.sandbox.setFault('cluster1-beijing', 'none');
    }
  });
});
