import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatTrafficStatus, reconcileOnTwin, trafficStatus } from '#cli/commands/traffic.ts';
import type { LocalTwin } from '#local/twin.ts';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { ownedPoolName } from '#shared/traffic/domain/gtm.ts';
import { waitFor, WEB_DEMO } from './helpers.ts';
import { startSeedOnTwin } from './seed-traffic.ts';

/**
 * `tricenter traffic plan | apply | status` on the local twin. The twin's timer is slowed to an
 * hour so that only the reconciles after each deploy step and the ones these tests start touch
 * GTM; a drift made by hand then stays until the test repairs it.
 */
const run = promisify(execFile);

describe('tricenter traffic on the local twin', () => {
  let twin: LocalTwin;
  let cleanup: () => Promise<void>;
  let address: Record<string, string>;
  const beijingPool = ownedPoolName(WEB_DEMO, 'pool-beijing');

  beforeAll(async () => {
    ({ twin, cleanup, address } = await startSeedOnTwin({ timerIntervalMs: 3_600_000, gtmVersion: '2.0' }));
    await waitFor(
      async () => twin.gtm.state(),
      (s) => s.pools.length === 2 && s.pools.every((p) => p.addresses.length > 0) && s.strategies[0]?.failoverPoolIds.length === 1,
      30_000,
      'the seed pools',
    );
  });
  afterAll(async () => cleanup?.());

  const beijingAddresses = () =>
    twin.gtm
      .state()
      .pools.find((p) => p.name === beijingPool)
      ?.addresses.map((a) => a.addr)
      .sort();

  it('status shows the pools with each address, its cluster and health, the strategy, and the DNS answer', async () => {
    const status = await trafficStatus(twin.endpoints, WEB_DEMO);
    expect(status).toMatchObject({
      domain: 'web-demo.example.com',
      ttl: 60,
      strategy: { primary: ['pool-beijing'], failover: ['pool-hangzhou'], serving: 'DEFAULT', minAvailable: 1 },
    });
    const pools = Object.fromEntries(status.pools.map((p) => [p.name, p]));
    expect(pools['pool-beijing']).toMatchObject({
      lbaStrategy: 'ALL_RR',
      healthCheck: { intervalS: 60, evaluationCount: 2, probeEveryMs: 300, host: 'web-demo.example.com', path: '/' },
    });
    expect(pools['pool-beijing']?.addresses.map((a) => [a.addr, a.cluster, a.health]).sort()).toEqual(
      [
        [address['cluster1-beijing'], 'cluster1-beijing', 'OK'],
        [address['cluster2-beijing'], 'cluster2-beijing', 'OK'],
      ].sort(),
    );
    expect(pools['pool-hangzhou']?.addresses).toEqual([
      { addr: address['cluster1-hangzhou'], cluster: 'cluster1-hangzhou', mode: 'SMART', health: 'OK' },
    ]);
    expect(Array.isArray(status.dns.answer) ? [...status.dns.answer].sort() : status.dns.answer).toEqual(
      [address['cluster1-beijing'], address['cluster2-beijing']].sort(),
    );
    const text = formatTrafficStatus(status);
    expect(text).toContain('serving DEFAULT');
    expect(text).toMatch(/cluster1-hangzhou\s+SMART\s+OK/);
  });

  it('status follows the health checks: a failed data plane shows ALERT and leaves the DNS answer', async () => {
    await twin.sandbox.setFault('cluster1-beijing', 'data-plane-down');
    try {
      const status = await waitFor(
        () => trafficStatus(twin.endpoints, WEB_DEMO),
        (s) => s.pools.some((p) => p.addresses.some((a) => a.cluster === 'cluster1-beijing' && a.health === 'ALERT')),
        10_000,
        'cluster1-beijing in ALERT',
      );
      expect(status.dns.answer).toEqual([address['cluster2-beijing']]);
      expect(status.strategy?.serving).toBe('DEFAULT');
    } finally {
      await twin.sandbox.setFault('cluster1-beijing', 'none');
    }
  });

  it('plan shows the repair of a drift without writing it; apply writes it', async () => {
    // Someone removes cluster2-beijing's address from the pool by hand.
    const { endpoint, instanceId, accessKeyId, accessKeySecret } = twin.endpoints.gtm;
    const gtm = new AlidnsGtm({ endpoint, instanceId, credentials: { accessKeyId, accessKeySecret } });
    const summary = (await gtm.listPools()).find((p) => p.name === beijingPool);
    const pool = await gtm.getPool(summary?.id ?? '');
    await gtm.updatePool(pool.id, {
      name: pool.name,
      lbaStrategy: pool.lbaStrategy,
      addresses: pool.addresses.filter((a) => a.addr === address['cluster1-beijing']),
    });
    expect(beijingAddresses()).toEqual([address['cluster1-beijing']]);

    const [planned] = await reconcileOnTwin(twin.endpoints, WEB_DEMO, { dryRun: true });
    expect(planned?.dryRun).toBe(true);
    expect(planned?.plan.changes).toEqual([
      expect.objectContaining({ kind: 'update-pool', poolId: pool.id, added: [address['cluster2-beijing']], removed: [] }),
    ]);
    expect(beijingAddresses()).toEqual([address['cluster1-beijing']]);

    const [applied] = await reconcileOnTwin(twin.endpoints, WEB_DEMO, { dryRun: false });
    expect(applied?.applied).toMatchObject({ applied: 1, failed: 0 });
    expect(beijingAddresses()).toEqual([address['cluster1-beijing'], address['cluster2-beijing']].sort());

    const [again] = await reconcileOnTwin(twin.endpoints, WEB_DEMO, { dryRun: true });
    expect(again?.plan.changes).toEqual([]);
  });

  it('the CLI process prints the plan as JSON from the endpoints file alone', async () => {
    const { stdout } = await run(
      process.execPath,
      ['bin/tricenter.mjs', 'traffic', 'plan', 'demo/web-demo', '--endpoints', twin.endpointsFile],
      { timeout: 50_000 },
    );
    const plans = JSON.parse(stdout) as Array<{
      app: unknown;
      changes: unknown[];
      desired: unknown;
      observations: Record<string, unknown>;
    }>;
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatchObject({ app: WEB_DEMO, changes: [] });
    expect(plans[0]?.observations).toEqual({
      'cluster1-beijing': { addresses: [address['cluster1-beijing']] },
      'cluster2-beijing': { addresses: [address['cluster2-beijing']] },
      'cluster1-hangzhou': { addresses: [address['cluster1-hangzhou']] },
    });
  });

  it('names what is missing: an application the twin does not run', async () => {
    await expect(reconcileOnTwin(twin.endpoints, { namespace: 'demo', name: 'nope' }, { dryRun: true })).rejects.toThrow(
      /demo\/nope has no current run/,
    );
  });
});
