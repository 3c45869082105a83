import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTrafficStatus3, reconcileOnTwin, trafficStatus3 } from '#cli/commands/traffic.ts';
import type { LocalTwin } from '#local/twin.ts';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { ownedPoolName } from '#shared/traffic/domain/gtm.ts';
import { waitFor, WEB_DEMO } from './helpers.ts';
import { startSeedOnTwin } from './seed-traffic.ts';

/**
 * `tricenter traffic plan | apply | status` on the local twin running GTM 3.0: status shows the
 * 3.0 objects (the instance config and its strategy, the pools in order, each address with its
 * cluster, health and availability, the health-check template), plan and apply repair a drift.
 * The twin's timer is slowed to an hour so only the reconciles these tests start touch GTM.
 */
describe('tricenter traffic on the local twin with GTM 3.0', () => {
  let twin: LocalTwin;
  let cleanup: () => Promise<void>;
  let address: Record<string, string>;
  const beijingPool = ownedPoolName(WEB_DEMO, 'pool-beijing');

  beforeAll(async () => {
    ({ twin, cleanup, address } = await startSeedOnTwin({ timerIntervalMs: 3_600_000, gtmVersion: '3.0' }));
    await waitFor(
      () => trafficStatus3(twin.endpoints, WEB_DEMO),
      (s) => s.config?.pools.length === 2 && s.pools.every((p) => p.addresses.length > 0 && p.addresses.every((a) => a.health === 'ok')),
      30_000,
      'the seed on GTM 3.0, healthy',
    );
  });
  afterAll(async () => cleanup?.());

  it('status shows the config in sequence, the pools, each address with its cluster and health, and the DNS answer', async () => {
    const status = await trafficStatus3(twin.endpoints, WEB_DEMO);
    expect(status.config).toMatchObject({
      domain: 'web-demo.example.com',
      rrType: 'A',
      ttl: 60,
      lbStrategy: 'sequence',
      sequenceMode: 'preemptive',
      pools: ['pool-beijing', 'pool-hangzhou'],
    });
    expect(status.healthChecks).toEqual([
      expect.objectContaining({
        template: 'tricenter.demo.web-demo.IPv4-http',
        protocol: 'http',
        intervalS: 60,
        host: 'web-demo.example.com',
      }),
    ]);
    const pools = Object.fromEntries(status.pools.map((p) => [p.name, p]));
    expect(pools['pool-beijing']?.lbStrategy).toBe('round_robin');
    expect(pools['pool-beijing']?.addresses.map((a) => [a.addr, a.cluster, a.enabled, a.mode]).sort()).toEqual(
      [
        [address['cluster1-beijing'], 'cluster1-beijing', 'enable', 'auto'],
        [address['cluster2-beijing'], 'cluster2-beijing', 'enable', 'auto'],
      ].sort(),
    );
    expect(Array.isArray(status.dns.answer) ? [...status.dns.answer].sort() : status.dns.answer).toEqual(
      [address['cluster1-beijing'], address['cluster2-beijing']].sort(),
    );
    const text = formatTrafficStatus3(status);
    expect(text).toContain('pools by sequence (preemptive): pool-beijing then pool-hangzhou');
    expect(text).toMatch(/cluster1-hangzhou\s+w1\s+enable\s+auto\s+ok/);
  });

  it('plan shows the repair of a drift without writing it; apply writes it, then nothing is left to do', async () => {
    const { endpoint, instanceId, accessKeyId, accessKeySecret } = twin.endpoints.gtm;
    const gtm = new AlidnsCloudGtm({ endpoint, instanceId, credentials: { accessKeyId, accessKeySecret } });
    const pool = (await gtm.listPools()).find((p) => p.name === beijingPool);
    const kept = pool?.members.filter((m) => m.address === address['cluster1-beijing']) ?? [];
    // Someone takes cluster2-beijing's address out of the pool by hand.
    await gtm.replacePoolAddresses(pool?.id ?? '', kept);
    const members = async () => ((await gtm.listPools()).find((p) => p.name === beijingPool)?.members ?? []).map((m) => m.address).sort();
    expect(await members()).toEqual([address['cluster1-beijing']]);

    const [planned] = await reconcileOnTwin(twin.endpoints, WEB_DEMO, { dryRun: true });
    expect(planned).toMatchObject({ gtmVersion: '3.0', dryRun: true });
    expect(planned?.plan.changes).toEqual([
      expect.objectContaining({ kind: 'replace-pool-addresses', pool: 'pool-beijing', added: [address['cluster2-beijing']], removed: [] }),
    ]);
    expect(await members()).toEqual([address['cluster1-beijing']]);

    const [applied] = await reconcileOnTwin(twin.endpoints, WEB_DEMO, { dryRun: false });
    expect(applied?.applied).toMatchObject({ applied: 1, failed: 0 });
    expect(await members()).toEqual([address['cluster1-beijing'], address['cluster2-beijing']].sort());
    const [again] = await reconcileOnTwin(twin.endpoints, WEB_DEMO, { dryRun: true });
    expect(again?.plan.changes).toEqual([]);
  });
});
