import { describe, expect, it } from 'vitest';
import { pickWeighted, resolveDomain, rotate } from '#sandbox/gtm/resolve.ts';
import { GtmStore, healthKey, type GtmAddress, type GtmPool, type GtmStrategy, type PoolType } from '#sandbox/gtm/state.ts';

/** The pure answer selection, on a store built directly (no RPC). */

function pool(
  store: GtmStore,
  id: string,
  type: PoolType,
  lbaStrategy: GtmPool['lbaStrategy'],
  addrs: Array<[string, GtmAddress['mode'], number?]>,
): GtmPool {
  const created: GtmPool = {
    id,
    name: id,
    type,
    lbaStrategy,
    addresses: addrs.map(([addr, mode, lbaWeight]) => ({
      addr,
      mode,
      createdAt: 0,
      updatedAt: 0,
      ...(lbaWeight === undefined ? {} : { lbaWeight }),
    })),
    createdAt: 0,
    updatedAt: 0,
  };
  store.pools.set(id, created);
  return created;
}

function strategy(store: GtmStore, overrides: Partial<GtmStrategy>): GtmStrategy {
  const created: GtmStrategy = {
    id: 'st-1',
    name: 's',
    mode: 'GEO',
    lines: ['default'],
    defaultAddrPoolType: 'IPV4',
    defaultMinAvailableAddrNum: 1,
    defaultPools: [],
    failoverPools: [],
    accessMode: 'AUTO',
    createdAt: 0,
    ...overrides,
  };
  store.strategies.set(created.id, created);
  return created;
}

const query = (rotation = 0, random = () => 0) => ({ queryType: 'A' as const, rotation, random });

describe('resolveDomain', () => {
  it('an ALL_RR set of two pools answers every address of both, capped by DefaultMaxReturnAddrNum', () => {
    const store = new GtmStore('gtm', 0);
    pool(store, 'a', 'IPV4', 'ALL_RR', [
      ['10.0.0.1', 'ONLINE'],
      ['10.0.0.2', 'ONLINE'],
    ]);
    pool(store, 'b', 'IPV4', 'ALL_RR', [['10.0.0.3', 'ONLINE']]);
    strategy(store, { defaultPools: [{ id: 'a' }, { id: 'b' }] });
    expect(
      resolveDomain(store, query())
        .records.map((r) => r.data)
        .sort(),
    ).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    store.strategies.get('st-1')!.defaultMaxReturnAddrNum = 2;
    expect(resolveDomain(store, query()).records).toHaveLength(2);
  });

  it('a RATIO set sends the query to one pool chosen by pool weight', () => {
    const store = new GtmStore('gtm', 0);
    pool(store, 'a', 'IPV4', 'ALL_RR', [['10.0.0.1', 'ONLINE']]);
    pool(store, 'b', 'IPV4', 'ALL_RR', [['10.0.0.2', 'ONLINE']]);
    strategy(store, {
      defaultLbaStrategy: 'RATIO',
      defaultPools: [
        { id: 'a', lbaWeight: 1 },
        { id: 'b', lbaWeight: 9 },
      ],
    });
    expect(
      resolveDomain(
        store,
        query(0, () => 0.05),
      ).records.map((r) => r.data),
    ).toEqual(['10.0.0.1']);
    expect(
      resolveDomain(
        store,
        query(0, () => 0.5),
      ).records.map((r) => r.data),
    ).toEqual(['10.0.0.2']);
  });

  it('an address that failed its check is left out; the failover set serves below the minimum', () => {
    const store = new GtmStore('gtm', 0);
    const primary = pool(store, 'a', 'IPV4', 'ALL_RR', [
      ['10.0.0.1', 'SMART'],
      ['10.0.0.2', 'SMART'],
    ]);
    pool(store, 'b', 'IPV4', 'ALL_RR', [['10.0.1.1', 'SMART']]);
    store.monitors.set('m', {
      id: 'm',
      poolId: 'a',
      protocolType: 'HTTP',
      interval: 60,
      evaluationCount: 1,
      timeout: 1000,
      extendInfo: '{}',
      settings: {},
      ispCityNodes: [],
      status: 'OPEN',
      createdAt: 0,
      updatedAt: 0,
    });
    primary.monitorConfigId = 'm';
    strategy(store, { defaultMinAvailableAddrNum: 2, defaultPools: [{ id: 'a' }], failoverPools: [{ id: 'b' }] });
    expect(resolveDomain(store, query()).group).toBe('DEFAULT');
    store.health.set(healthKey('a', '10.0.0.1'), { healthy: false, consecutiveFailures: 1, consecutiveSuccesses: 0 });
    expect(resolveDomain(store, query())).toMatchObject({ group: 'FAILOVER', records: [{ type: 'A', data: '10.0.1.1' }] });
  });

  it('a DOMAIN set answers one CNAME; AAAA takes IPV6 pools only; no strategy answers nothing', () => {
    const store = new GtmStore('gtm', 0);
    expect(resolveDomain(store, query())).toMatchObject({ group: 'NONE', records: [] });
    pool(store, 'd', 'DOMAIN', 'ALL_RR', [['origin.example.net', 'ONLINE']]);
    strategy(store, { defaultAddrPoolType: 'DOMAIN', defaultPools: [{ id: 'd' }] });
    expect(resolveDomain(store, query()).records).toEqual([{ type: 'CNAME', data: 'origin.example.net' }]);
    const v6 = new GtmStore('gtm', 0);
    pool(v6, 'six', 'IPV6', 'ALL_RR', [['::2', 'ONLINE']]);
    strategy(v6, { defaultAddrPoolType: 'IPV6', defaultPools: [{ id: 'six' }] });
    expect(resolveDomain(v6, { ...query(), queryType: 'AAAA' }).records).toEqual([{ type: 'AAAA', data: '::2' }]);
    expect(resolveDomain(v6, query()).records).toEqual([]);
  });
});

describe('rotate and pickWeighted', () => {
  it('rotate shifts by the counter, also past the length', () => {
    expect(rotate([1, 2, 3], 1)).toEqual([2, 3, 1]);
    expect(rotate([1, 2, 3], 4)).toEqual([2, 3, 1]);
    expect(rotate([], 3)).toEqual([]);
  });

  it('pickWeighted follows the weights and skips weight 0', () => {
    const items = [{ w: 0 }, { w: 1 }, { w: 3 }];
    expect(
      pickWeighted(
        items,
        (i) => i.w,
        () => 0,
      ),
    ).toEqual([{ w: 1 }]);
    expect(
      pickWeighted(
        items,
        (i) => i.w,
        () => 0.24,
      ),
    ).toEqual([{ w: 1 }]);
    expect(
      pickWeighted(
        items,
        (i) => i.w,
        () => 0.26,
      ),
    ).toEqual([{ w: 3 }]);
    expect(
      pickWeighted(
        [],
        (i: { w: number }) => i.w,
        () => 0,
      ),
    ).toEqual([]);
  });
});
