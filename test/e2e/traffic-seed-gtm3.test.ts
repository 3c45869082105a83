import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDrillSetup3, resolveOnce, runDrillOnTwin, type DrillPhase, type DrillReport } from '#local/drill.ts';
import type { LocalTwin } from '#local/twin.ts';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { waitFor, WEB_DEMO } from './helpers.ts';
import { drillPhase, expectSeedDrillSetup, startSeedOnTwin } from './seed-traffic.ts';

/**
 * The seed's traffic steps (fixture README, steps 3 and 4) on a twin whose GTM is 3.0, the
 * default: gtm-reconcile builds a health-check template, one address per cluster, the Beijing and
 * Hangzhou pools and the domain's instance configuration (pools in sequence) in the emulator, then
 * the drill resolves the domain through the emulator's DNS while Beijing fails and heals.
 * Probe intervals are scaled by 0.005 (60 s -> 300 ms).
 */
const DOMAIN = 'web-demo.example.com';
const POOL_BEIJING = 'tricenter.demo.web-demo.pool-beijing';
const POOL_HANGZHOU = 'tricenter.demo.web-demo.pool-hangzhou';
const HANGZHOU_CONFIG = 'database-address: "hangzhou-db.pg.aliyun.com"';

describe('seed scenario on GTM 3.0: traffic on the healthy centers', () => {
  let twin: LocalTwin;
  let cleanup: () => Promise<void>;
  let address: Record<string, string>;

  beforeAll(async () => {
    // No gtmVersion: 3.0 is what the twin runs unless told otherwise.
    ({ twin, cleanup, address } = await startSeedOnTwin({}));
  });
  afterAll(async () => cleanup?.());

  const poolAddresses = (name: string) => {
    const state = twin.gtm.cloudState();
    const byId = new Map(state.addresses.map((a) => [a.id, a.address]));
    return state.pools.find((p) => p.name === name)?.addressIds.map((id) => byId.get(id));
  };

  it('runs GTM 3.0 by default and says so in endpoints.json', () => {
    expect(twin.gtm.gtmVersion).toBe('3.0');
    expect(twin.endpoints.gtm.gtmVersion).toBe('3.0');
    expect(() => twin.gtm.state()).toThrow(/GTM 3.0 instance/);
  });

  it('step 3: GTM holds both pools in sequence behind web-demo.example.com, every address checked by the template', async () => {
    await waitFor(
      async () => twin.gtm.cloudState(),
      (s) => poolAddresses(POOL_HANGZHOU)?.length === 1 && (s.configs[0]?.poolIds.length ?? 0) === 2,
      15_000,
      'the Hangzhou pool behind the configuration',
    );
    const state = twin.gtm.cloudState();
    const beijing = state.pools.find((p) => p.name === POOL_BEIJING);
    const hangzhou = state.pools.find((p) => p.name === POOL_HANGZHOU);
    expect(poolAddresses(POOL_BEIJING)?.sort()).toEqual([address['cluster1-beijing'], address['cluster2-beijing']].sort());
    expect(poolAddresses(POOL_HANGZHOU)).toEqual([address['cluster1-hangzhou']]);
    expect(state.configs).toEqual([
      expect.objectContaining({ domain: DOMAIN, rrType: 'A', ttl: 60, lbStrategy: 'sequence', poolIds: [beijing?.id, hangzhou?.id] }),
    ]);
    expect(state.templates).toEqual([
      expect.objectContaining({ protocol: 'http', interval: 60, evaluationCount: 2, probeIntervalMs: 300 }),
    ]);
    expect(state.addresses.every((a) => a.tasks.length === 1 && a.tasks[0]?.templateId === state.templates[0]?.id)).toBe(true);
    await waitFor(
      async () => twin.gtm.cloudState(),
      (s) => s.addresses.every((a) => a.tasks.every((t) => t.healthy && t.lastCheckedAt !== undefined)),
      10_000,
      'every address checked and healthy',
    );
    expect((await resolveOnce(twin.endpoints.gtm.dns, DOMAIN)).sort()).toEqual(
      [address['cluster1-beijing'], address['cluster2-beijing']].sort(),
    );
    const gtm = new AlidnsCloudGtm({
      endpoint: twin.endpoints.gtm.endpoint,
      instanceId: twin.endpoints.gtm.instanceId,
      credentials: { accessKeyId: twin.endpoints.gtm.accessKeyId, accessKeySecret: twin.endpoints.gtm.accessKeySecret },
    });
    const setup = await readDrillSetup3(gtm, WEB_DEMO);
    expectSeedDrillSetup(setup, address);
  });

  describe('step 4: the disaster-recovery drill', () => {
    let report: DrillReport;
    const phase = (name: DrillPhase['name']) => drillPhase(report, name);

    beforeAll(async () => {
      // From endpoints.json alone, as `tricenter drill` does.
      report = await runDrillOnTwin(twin.endpoints, { app: WEB_DEMO, requests: 30 });
    });

    it('passes: Beijing answers, then the other Beijing cluster, then Hangzhou with its config, then Beijing again', () => {
      expect(report.phases.map((p) => [p.name, p.ok, p.errors])).toEqual([
        ['all-healthy', true, []],
        ['primary-failing', true, []],
        ['primary-down', true, []],
        ['healed', true, []],
      ]);
      expect(Object.keys(phase('all-healthy').answeredBy).sort()).toEqual(['cluster1-beijing', 'cluster2-beijing']);
      expect(Object.keys(phase('primary-failing').answeredBy)).toEqual(['cluster2-beijing']);
      const down = phase('primary-down');
      expect(Object.keys(down.answeredBy)).toEqual(['cluster1-hangzhou']);
      expect(down.answeredBy['cluster1-hangzhou']?.configs[0]).toContain(HANGZHOU_CONFIG);
      expect(Object.keys(phase('healed').answeredBy).sort()).toEqual(['cluster1-beijing', 'cluster2-beijing']);
      expect(report.ok).toBe(true);
      expect(report.bound).toMatchObject({ localMs: 600, scaledIntervalMs: 300, evaluationCount: 2, ttlS: 60 });
      expect(twin.sandbox.clusters.map((c) => twin.sandbox.fault(c.name))).toEqual(['none', 'none', 'none']);
    });
  });
});
