/**
 * reconcileTraffic with the real adapter against the local GTM emulator (sandbox/gtm) and a
 * gateway double: the plan lands in the emulator's pools, strategy and instance config, and a
 * second run writes nothing. (The full local twin, with simulated clusters, is the lead's test.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { startGtmEmulator, type GtmEmulator } from '#sandbox/gtm/index.ts';
import { reconcileTraffic } from '#shared/traffic/usecases/reconcile-traffic.ts';
import { claimsHeld } from './claims-held.ts';
import { SEED_ADDRESSES, seedPolicy, seedRegistry } from './fixtures.ts';

const KEY = { accessKeyId: 'local-ak', accessKeySecret: 'local-secret' };

describe('reconcileTraffic against the local GTM emulator', () => {
  let emulator: GtmEmulator;
  beforeAll(async () => {
    emulator = await startGtmEmulator({ ...KEY, logger: silentLogger });
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('creates the seed pools, health checks, strategy and TTL, then writes nothing', async () => {
    const gtm = new AlidnsGtm({ endpoint: emulator.endpoint, instanceId: emulator.instanceId, credentials: KEY });
    const history = new MemoryTrafficHistoryStore();
    const gateway = { ingressAddresses: async (cluster: string) => [SEED_ADDRESSES[cluster] as string] };
    const reconcile = (now: number) =>
      reconcileTraffic({
        policy: seedPolicy(),
        registry: seedRegistry(),
        gateway,
        gtm,
        claims: claimsHeld(seedPolicy(), emulator.instanceId),
        history,
        logger: silentLogger,
        now,
        dryRun: false,
      });

    const first = await reconcile(1_000);
    expect(first.applied).toMatchObject({ applied: 4, failed: 0 });
    const state = emulator.state();
    expect(state).toMatchObject({ domain: 'web-demo.example.com', ttl: 60 });
    const pools = Object.fromEntries(state.pools.map((p) => [p.name, p]));
    const beijing = pools['tricenter.demo.web-demo.pool-beijing'];
    const hangzhou = pools['tricenter.demo.web-demo.pool-hangzhou'];
    expect(beijing?.addresses.map((a) => a.addr)).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(hangzhou?.addresses.map((a) => a.addr)).toEqual(['127.0.0.4']);
    expect(
      state.monitors.map((m) => [m.poolId, m.status, m.interval, m.evaluationCount, m.timeout, JSON.parse(m.extendInfo)]).sort(),
    ).toEqual(
      [beijing!.id, hangzhou!.id]
        .sort()
        .map((id) => [id, 'OPEN', 60, 2, 5000, { port: 80, host: 'web-demo.example.com', path: '/', code: 500 }]),
    );
    expect(state.strategies).toEqual([
      expect.objectContaining({
        name: 'tricenter.demo.web-demo',
        accessMode: 'AUTO',
        defaultPoolIds: [beijing!.id],
        failoverPoolIds: [hangzhou!.id],
        defaultMinAvailableAddrNum: 1,
      }),
    ]);

    const before = emulator.callCounts();
    const second = await reconcile(2_000);
    expect(second.plan.changes).toEqual([]);
    const after = emulator.callCounts();
    const writes = Object.keys(after).filter((action) => !action.startsWith('Describe') && after[action] !== before[action]);
    expect(writes).toEqual([]);
  });
});
