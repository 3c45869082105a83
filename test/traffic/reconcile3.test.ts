/**
 * reconcileTraffic with a GTM 3.0 port: the real AlidnsCloudGtm adapter against the in-memory
 * CloudGtm behind msw (the real wire), a gateway double, the same history store as 2.0.
 */
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { MemoryTrafficHistoryStore } from '#shared/traffic/adapters/local/traffic-history-stores.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { TrafficHistoryStore } from '#shared/traffic/ports/traffic-history.port.ts';
import { GtmApplyError, reconcileTraffic, type ReconcileTrafficInput } from '#shared/traffic/usecases/reconcile-traffic.ts';
import { claimsHeld } from './claims-held.ts';
import { FakeCloudGtm } from './cloudgtm-msw.ts';
import { SEED_ADDRESSES, seedPolicy, seedRegistry } from './fixtures.ts';

const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-reconcile3', accessKeySecret: 'reconcile3-secret' };
const INSTANCE = 'gtm-cn-reconcile3';
const T0 = 1_700_000_000_000;

function gateway(behaviour: Record<string, string[] | 'unreachable'>): Pick<ClusterGateway, 'ingressAddresses'> {
  return {
    async ingressAddresses(cluster) {
      const b = behaviour[cluster] ?? [SEED_ADDRESSES[cluster] as string];
      if (b === 'unreachable') throw new TricenterError('UNREACHABLE', `cluster ${cluster}: connect ECONNREFUSED`, { retryable: true });
      return b;
    },
  };
}

describe('reconcileTraffic with GTM 3.0 (msw CloudGtm)', () => {
  const server = setupServer();
  let fake: FakeCloudGtm;
  let gtm: AlidnsCloudGtm;
  let history: TrafficHistoryStore;

  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());
  beforeEach(() => {
    fake = new FakeCloudGtm({ endpoint: ENDPOINT, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances: [INSTANCE] });
    server.resetHandlers(...fake.handlers());
    gtm = new AlidnsCloudGtm({ endpoint: ENDPOINT, instanceId: INSTANCE, credentials: KEY, sleep: async () => {} });
    history = new MemoryTrafficHistoryStore();
  });

  const run = (overrides: Partial<ReconcileTrafficInput> & { behaviour?: Record<string, string[] | 'unreachable'> } = {}) => {
    const { behaviour = {}, ...rest } = overrides;
    return reconcileTraffic({
      policy: seedPolicy(),
      registry: seedRegistry(),
      gateway: gateway(behaviour),
      gtm,
      claims: claimsHeld(seedPolicy(), INSTANCE),
      history,
      logger: memoryLogger(),
      now: T0,
      dryRun: false,
      ...rest,
    });
  };
  const poolOf = (suffix: string) => [...fake.pools.values()].find((p) => p.AddressPoolName.endsWith(suffix));
  const addressesOf = (suffix: string) => (poolOf(suffix)?.members ?? []).map((m) => fake.addresses.get(m.AddressId)?.Address).sort();

  it('builds the seed on GTM 3.0: template, addresses, pools, one config in sequence; then writes nothing', async () => {
    const first = await run();
    expect(first.gtmVersion).toBe('3.0');
    expect(first.applied).toMatchObject({ failed: 0, skipped: 0 });
    expect(fake.writes()).toEqual([
      'CreateCloudGtmMonitorTemplate',
      'CreateCloudGtmAddress',
      'CreateCloudGtmAddress',
      'CreateCloudGtmAddress',
      'CreateCloudGtmAddressPool',
      'CreateCloudGtmAddressPool',
      'ReplaceCloudGtmAddressPoolAddress',
      'ReplaceCloudGtmAddressPoolAddress',
      'CreateCloudGtmInstanceConfig',
      'ReplaceCloudGtmInstanceConfigAddressPool',
      'UpdateCloudGtmInstanceConfigLbStrategy',
    ]);
    expect(addressesOf('.pool-beijing')).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(addressesOf('.pool-hangzhou')).toEqual(['127.0.0.4']);
    const template = [...fake.templates.values()][0];
    expect(template).toMatchObject({ Name: 'tricenter.demo.web-demo.IPv4-http', Protocol: 'http', Interval: 60, Timeout: 5000 });
    for (const a of fake.addresses.values()) {
      expect(a).toMatchObject({
        AvailableMode: 'auto',
        EnableStatus: 'enable',
        HealthTasks: [{ TemplateId: template?.TemplateId, Port: 80 }],
      });
      expect(a.Remark).toMatch(/^tricenter:demo\/web-demo@cluster/);
    }
    const config = [...fake.configs.values()][0];
    expect(config).toMatchObject({
      ScheduleHostname: 'web-demo',
      ScheduleZoneName: 'example.com',
      ScheduleRrType: 'A',
      Ttl: 60,
      Remark: 'tricenter:demo/web-demo',
      AddressPoolLbStrategy: 'sequence',
      SequenceLbStrategyMode: 'preemptive',
    });
    expect(config?.pools.map((p) => [fake.pools.get(p.AddressPoolId)?.AddressPoolName, p.SerialNumber])).toEqual([
      ['tricenter.demo.web-demo.pool-beijing', 1],
      ['tricenter.demo.web-demo.pool-hangzhou', 2],
    ]);

    fake.calls.length = 0;
    const second = await run({ now: T0 + 60_000 });
    expect(second.plan.changes).toEqual([]);
    expect(fake.writes()).toEqual([]);
    expect(fake.calls.map((c) => c.action).sort()).toEqual([
      'ListCloudGtmAddressPools',
      'ListCloudGtmAddresses',
      'ListCloudGtmInstanceConfigs',
      'ListCloudGtmMonitorTemplates',
    ]);
  });

  it('removes a gone address only after three absent rounds, out of its pool first, then deletes it', async () => {
    await run();
    const gone = { 'cluster2-beijing': [] as string[] };
    for (const i of [1, 2]) {
      fake.calls.length = 0;
      await run({ now: T0 + i * 60_000, behaviour: gone });
      expect(fake.writes()).toEqual([]);
    }
    fake.calls.length = 0;
    const third = await run({ now: T0 + 3 * 60_000, behaviour: gone });
    expect(fake.writes()).toEqual(['ReplaceCloudGtmAddressPoolAddress', 'DeleteCloudGtmAddress']);
    expect(third.plan.changes[0]).toMatchObject({ kind: 'replace-pool-addresses', removed: ['127.0.0.3'], added: [] });
    expect(addressesOf('.pool-beijing')).toEqual(['127.0.0.2']);
    expect([...fake.addresses.values()].map((a) => a.Address).sort()).toEqual(['127.0.0.2', '127.0.0.4']);
  });

  it('keeps an unreachable cluster and never empties a pool', async () => {
    await run();
    for (const i of [1, 2, 3, 4]) {
      fake.calls.length = 0;
      const r = await run({ now: T0 + i * 60_000, behaviour: { 'cluster1-beijing': 'unreachable', 'cluster1-hangzhou': [] } });
      expect(fake.writes()).toEqual([]);
      if (i >= 3) expect(r.plan.warnings).toEqual([expect.objectContaining({ code: 'WOULD_EMPTY', pool: 'pool-hangzhou' })]);
    }
    expect(addressesOf('.pool-beijing')).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(addressesOf('.pool-hangzhou')).toEqual(['127.0.0.4']);
  });

  it('leaves a pool holding a stranger alone, and writes nothing that is not ours', async () => {
    await run();
    const stranger = await gtm.createAddress({
      name: 'hand-made',
      address: '10.9.9.9',
      type: 'IPv4',
      remark: 'ops',
      enableStatus: 'enable',
      availableMode: 'manual',
      healthJudgement: 'any_ok',
      healthTasks: [],
    });
    const pool = poolOf('.pool-hangzhou');
    await gtm.replacePoolAddresses(pool?.AddressPoolId as string, [
      ...(pool?.members ?? []).map((m) => ({ addressId: m.AddressId, serialNumber: 1, weight: 1 })),
      { addressId: stranger.addressId, serialNumber: 1, weight: 1 },
    ]);
    fake.calls.length = 0;
    const r = await run({ now: T0 + 60_000, behaviour: { 'cluster1-hangzhou': ['127.0.0.9'] } });
    expect(r.plan.warnings).toEqual([
      expect.objectContaining({ code: 'FOREIGN_POOL', pool: 'pool-hangzhou' }),
      expect.objectContaining({ code: 'STRATEGY_BLOCKED', message: expect.stringContaining('failover pool pool-hangzhou is not ours') }),
    ]);
    expect(fake.writes()).toEqual([]);
    expect(fake.addresses.get(stranger.addressId)).toMatchObject({ AvailableMode: 'manual', Remark: 'ops' });
  });

  it('reports a partial failure, never deletes an address its pool still holds, and converges once the absence is counted again', async () => {
    await run();
    for (const i of [1, 2]) await run({ now: T0 + i * 60_000, behaviour: { 'cluster2-beijing': [] } });
    fake.inject({ action: 'ReplaceCloudGtmAddressPoolAddress', times: 1, status: 400, code: 'InvalidParameter', message: 'injected' });
    const error = await run({ now: T0 + 3 * 60_000, behaviour: { 'cluster2-beijing': [] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GtmApplyError);
    expect((error as GtmApplyError).message).toMatch(
      /^1 of 2 GTM changes failed \(1 skipped, 0 applied\): replace-pool-addresses pool-beijing: /,
    );
    expect(fake.callsOf('DeleteCloudGtmAddress')).toBe(0);
    expect(addressesOf('.pool-beijing')).toEqual(['127.0.0.2', '127.0.0.3']);
    // The failed round forgot the address (its counter reached the end); GTM still holds it, so counting starts again.
    for (const i of [4, 5]) {
      fake.calls.length = 0;
      await run({ now: T0 + i * 60_000, behaviour: { 'cluster2-beijing': [] } });
      expect(fake.writes()).toEqual([]);
    }
    fake.calls.length = 0;
    await run({ now: T0 + 6 * 60_000, behaviour: { 'cluster2-beijing': [] } });
    expect(fake.writes()).toEqual(['ReplaceCloudGtmAddressPoolAddress', 'DeleteCloudGtmAddress']);
    expect(addressesOf('.pool-beijing')).toEqual(['127.0.0.2']);
  });

  it('plans without writing in dry-run mode', async () => {
    const r = await run({ dryRun: true });
    expect(r.applied).toBeUndefined();
    expect(r.plan.changes.length).toBeGreaterThan(0);
    expect(fake.writes()).toEqual([]);
    expect(await history.get({ namespace: 'demo', name: 'web-demo' })).toBeUndefined();
  });
});
