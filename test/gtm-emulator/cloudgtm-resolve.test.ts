import { describe, expect, it } from 'vitest';
import {
  CloudGtmStore,
  taskKey,
  type CloudAddress,
  type CloudPool,
  type InstanceConfig,
  type MemberRef,
} from '#sandbox/gtm/cloudgtm/model.ts';
import { resolveCloudGtm } from '#sandbox/gtm/cloudgtm/resolve.ts';

/**
 * The GTM 3.0 health and answer rules on a store built by hand: no I/O, rotation and draws given.
 */

function member(id: string, serialNumber: number, weightValue = 1): MemberRef {
  return { id, serialNumber, weightValue, requestSource: ['default'] };
}

function addAddress(store: CloudGtmStore, id: string, address: string, extra: Partial<CloudAddress> = {}): CloudAddress {
  const record: CloudAddress = {
    id,
    name: id,
    address,
    type: 'IPv4',
    enableStatus: 'enable',
    availableMode: 'auto',
    healthJudgement: 'any_ok',
    healthTasks: [],
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  };
  store.addresses.set(id, record);
  return record;
}

function addPool(store: CloudGtmStore, id: string, members: MemberRef[], extra: Partial<CloudPool> = {}): CloudPool {
  const pool: CloudPool = {
    id,
    name: id,
    type: 'IPv4',
    enableStatus: 'enable',
    healthJudgement: 'any_ok',
    lbStrategy: 'round_robin',
    sequenceMode: 'preemptive',
    addresses: members,
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  };
  store.pools.set(id, pool);
  return pool;
}

function addConfig(store: CloudGtmStore, pools: MemberRef[], extra: Partial<InstanceConfig> = {}): InstanceConfig {
  const config: InstanceConfig = {
    id: `config-${store.configs.size + 1}`,
    hostname: 'www',
    zoneName: 'example.com',
    zoneMode: 'custom',
    rrType: 'A',
    ttl: 30,
    enableStatus: 'enable',
    lbStrategy: 'sequence',
    sequenceMode: 'preemptive',
    pools,
    createdAt: 0,
    updatedAt: 0,
    ...extra,
  };
  store.configs.set(config.id, config);
  return config;
}

const query = (rotation = 0, draw = 0) => ({ queryType: 'A' as const, rotation, random: () => draw });

describe('GTM 3.0 health: an address judged over its tasks', () => {
  it.each([
    ['any_ok', 1, 'ok_alert'],
    ['p30_ok', 1, 'ok_alert'],
    ['p50_ok', 1, 'exceptional'],
    ['p50_ok', 2, 'ok_alert'],
    ['p70_ok', 2, 'exceptional'],
    ['all_ok', 2, 'exceptional'],
    ['all_ok', 3, 'ok'],
    ['any_ok', 0, 'exceptional'],
  ] as const)('%s with %i of 3 tasks passing: %s', (judgement, passing, status) => {
    const store = new CloudGtmStore('gtm-test', 0);
    const tasks = [1, 2, 3].map((n) => ({ templateId: `mtp-${n}`, port: 80 }));
    const address = addAddress(store, 'a', '10.0.0.1', { healthJudgement: judgement, healthTasks: tasks });
    for (const [index, task] of tasks.entries())
      store.health.set(taskKey('a', task), { healthy: index < passing, consecutiveFailures: 0, consecutiveSuccesses: 0 });
    expect(store.addressHealth(address)).toBe(status);
    expect(store.addressAvailable(address)).toBe(status !== 'exceptional');
  });

  it('manual mode follows ManualAvailableStatus whatever the checks say; a disabled address is never available', () => {
    const store = new CloudGtmStore('gtm-test', 0);
    const task = { templateId: 'mtp-1', port: 80 };
    const manual = addAddress(store, 'm', '10.0.0.2', { availableMode: 'manual', manualAvailableStatus: 'available', healthTasks: [task] });
    store.health.set(taskKey('m', task), { healthy: false, consecutiveFailures: 3, consecutiveSuccesses: 0 });
    expect([store.addressHealth(manual), store.addressAvailable(manual)]).toEqual(['exceptional', true]);
    manual.manualAvailableStatus = 'unavailable';
    expect(store.addressAvailable(manual)).toBe(false);
    const off = addAddress(store, 'd', '10.0.0.3', { enableStatus: 'disable' });
    expect([store.addressHealth(off), store.addressAvailable(off)]).toEqual(['ok_no_monitor', false]);
  });
});

describe('GTM 3.0 answers', () => {
  it('a non-preemptive sequence pool stays on the address it moved to', () => {
    const store = new CloudGtmStore('gtm-test', 0);
    const first = addAddress(store, 'a1', '10.1.0.1');
    addAddress(store, 'a2', '10.1.0.2');
    addPool(store, 'p', [member('a1', 1), member('a2', 2)], { lbStrategy: 'sequence', sequenceMode: 'non_preemptive' });
    addConfig(store, [member('p', 1)]);
    expect(resolveCloudGtm(store, 'www.example.com', query()).records).toEqual([{ type: 'A', data: '10.1.0.1' }]);
    first.enableStatus = 'disable';
    expect(resolveCloudGtm(store, 'www.example.com', query()).records).toEqual([{ type: 'A', data: '10.1.0.2' }]);
    first.enableStatus = 'enable';
    expect(resolveCloudGtm(store, 'www.example.com', query()).records).toEqual([{ type: 'A', data: '10.1.0.2' }]);
  });

  it('fails open to the first non-empty enabled pool, skipping empty and disabled ones; nothing when no pool has an address', () => {
    const store = new CloudGtmStore('gtm-test', 0);
    const down = (id: string, address: string) =>
      addAddress(store, id, address, { availableMode: 'manual', manualAvailableStatus: 'unavailable' });
    down('x', '10.2.0.1');
    down('y', '10.2.0.2');
    addPool(store, 'empty', []);
    addPool(store, 'disabled', [member('x', 1)], { enableStatus: 'disable' });
    addPool(store, 'last', [member('y', 1)]);
    const config = addConfig(store, [member('empty', 1), member('disabled', 2), member('last', 3)]);
    expect(resolveCloudGtm(store, 'www.example.com', query())).toMatchObject({
      failedOpen: true,
      pools: ['last'],
      records: [{ type: 'A', data: '10.2.0.2' }],
      ttl: 30,
    });
    expect(store.configHealth(config)).toBe('exceptional');
    config.pools = [member('empty', 1)];
    expect(resolveCloudGtm(store, 'www.example.com', query())).toMatchObject({ failedOpen: true, records: [] });
  });

  it('a CNAME configuration answers A and AAAA queries with its domain address; a name without configuration gets nothing', () => {
    const store = new CloudGtmStore('gtm-test', 0);
    addAddress(store, 'o', 'origin.example.net.', { type: 'domain' });
    addPool(store, 'd', [member('o', 1)], { type: 'domain' });
    addConfig(store, [member('d', 1)], { rrType: 'CNAME', hostname: 'alias' });
    expect(resolveCloudGtm(store, 'alias.example.com', query()).records).toEqual([{ type: 'CNAME', data: 'origin.example.net' }]);
    expect(resolveCloudGtm(store, 'alias.example.com', { ...query(), queryType: 'AAAA' }).records).toEqual([
      { type: 'CNAME', data: 'origin.example.net' },
    ]);
    expect(resolveCloudGtm(store, 'other.example.com', query())).toMatchObject({ records: [], pools: [] });
    expect(store.servedNames()).toEqual(['alias.example.com']);
  });

  it('round robin rotates the answer per query; the zone apex is served as the zone name', () => {
    const store = new CloudGtmStore('gtm-test', 0);
    addAddress(store, 'a', '10.3.0.1');
    addAddress(store, 'b', '10.3.0.2');
    addPool(store, 'p', [member('a', 1), member('b', 2)]);
    addConfig(store, [member('p', 1)], { hostname: '@' });
    expect(resolveCloudGtm(store, 'example.com', query(0)).records.map((r) => r.data)).toEqual(['10.3.0.1', '10.3.0.2']);
    expect(resolveCloudGtm(store, 'example.com', query(1)).records.map((r) => r.data)).toEqual(['10.3.0.2', '10.3.0.1']);
  });
});
