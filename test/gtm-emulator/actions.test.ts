import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type RPCClient from '@alicloud/pop-core';
import type { GtmEmulator } from '#sandbox/gtm/index.ts';
import { call, callError, startTestEmulator } from './helpers.ts';

let emulator: GtmEmulator;
let client: RPCClient;
let instance: { InstanceId: string };

const ATTRIBUTE_INFO = JSON.stringify({ lineCodeRectifyType: 'AUTO', lineCode: [] });
const HTTP_CHECK = {
  MonitorStatus: 'OPEN',
  ProtocolType: 'HTTP',
  Interval: 60,
  EvaluationCount: 2,
  Timeout: 5000,
  MonitorExtendInfo: JSON.stringify({ host: 'web-demo.example.com', path: '/', port: 80, code: 500, failureRate: 50 }),
};

function poolParams(name: string, addrs: string[], extra: Record<string, unknown> = {}) {
  return {
    ...instance,
    Name: name,
    Type: 'IPV4',
    LbaStrategy: 'ALL_RR',
    Addr: addrs.map((addr) => ({ Addr: addr, Mode: 'SMART', LbaWeight: 1, AttributeInfo: ATTRIBUTE_INFO, Remark: `remark ${addr}` })),
    ...extra,
  };
}

beforeAll(async () => {
  // Addresses outside loopback are never probed here; monitors in these tests stay closed or fail harmlessly.
  ({ emulator, client } = await startTestEmulator({ instanceId: 'gtm-cn-actions', probeIntervalScale: 1 }));
  instance = { InstanceId: emulator.instanceId };
});
afterAll(async () => {
  await emulator.stop();
});

describe('instance actions', () => {
  it('UpdateDnsGtmInstanceGlobalConfig needs InstanceName on the first update, then keeps what it is not given', async () => {
    expect((await callError(client, 'UpdateDnsGtmInstanceGlobalConfig', { ...instance, Ttl: 30 })).code).toBe('MissingParameter');
    await call(client, 'UpdateDnsGtmInstanceGlobalConfig', {
      ...instance,
      InstanceName: 'web-demo',
      Ttl: 30,
      PublicUserDomainName: 'web-demo.example.com',
      PublicCnameMode: 'CUSTOM',
      PublicZoneName: 'gtm.example.com',
      PublicRr: 'web-demo',
      AlertConfig: [{ NoticeType: 'ADDR_ALERT', SmsNotice: false, EmailNotice: true, DingtalkNotice: false }],
    });
    await call(client, 'UpdateDnsGtmInstanceGlobalConfig', { ...instance, Ttl: 60 });
    const reply = await call(client, 'DescribeDnsGtmInstance', instance);
    expect(reply.Config).toMatchObject({
      Ttl: 60,
      InstanceName: 'web-demo',
      PublicUserDomainName: 'web-demo.example.com',
      PubicZoneName: 'gtm.example.com',
      PublicRr: 'web-demo',
      AlertConfig: { AlertConfig: [{ NoticeType: 'ADDR_ALERT', SmsNotice: false, EmailNotice: true, DingtalkNotice: false }] },
    });
    expect(emulator.state().domain).toBe('web-demo.example.com');
  });

  it('UpdateDnsGtmInstanceGlobalConfig validates Ttl, enums and alert notice types', async () => {
    const ttl = await callError(client, 'UpdateDnsGtmInstanceGlobalConfig', { ...instance, Ttl: 0 });
    expect([ttl.code, ttl.data.Message]).toEqual(['InvalidParameter', expect.stringContaining('"Ttl"')]);
    expect((await callError(client, 'UpdateDnsGtmInstanceGlobalConfig', { ...instance, CnameType: 'PRIVATE' })).code).toBe(
      'InvalidParameter',
    );
    const notice = await callError(client, 'UpdateDnsGtmInstanceGlobalConfig', { ...instance, AlertConfig: [{ NoticeType: 'NOPE' }] });
    expect(notice.data.Message).toContain('AlertConfig.1.NoticeType');
  });

  it('DescribeDnsGtmInstance refuses an unknown instance and a missing InstanceId', async () => {
    expect((await callError(client, 'DescribeDnsGtmInstance', { InstanceId: 'gtm-cn-other' })).data.Message).toContain('InstanceId');
    expect((await callError(client, 'DescribeDnsGtmInstance', {})).code).toBe('MissingParameter');
  });

  it('DescribeDnsGtmInstances lists the instance with string notice flags, filters by Keyword and pages', async () => {
    const reply = await call(client, 'DescribeDnsGtmInstances', { PageSize: 10 });
    expect(reply).toMatchObject({ TotalItems: 1, TotalPages: 1, PageNumber: 1, PageSize: 10 });
    expect(reply.GtmInstances[0].Config.PublicZoneName).toBe('gtm.example.com');
    expect(reply.GtmInstances[0].Config.AlertConfig[0].EmailNotice).toBe('true');
    expect((await call(client, 'DescribeDnsGtmInstances', { Keyword: 'nothing-like-it' })).GtmInstances).toEqual([]);
    expect((await callError(client, 'DescribeDnsGtmInstances', { PageSize: 101 })).code).toBe('InvalidParameter');
  });
});

describe('address pool and monitor actions', () => {
  let poolId: string;
  let monitorConfigId: string;

  it('AddDnsGtmAddressPool creates a pool with its health check; Describe returns the flattened addresses', async () => {
    const created = await call(
      client,
      'AddDnsGtmAddressPool',
      poolParams('pool-a', ['192.0.2.1', '192.0.2.2'], { ...HTTP_CHECK, MonitorStatus: 'CLOSE' }),
    );
    expect(created.AddrPoolId).toBeTypeOf('string');
    expect(created.MonitorConfigId).toBeUndefined();
    poolId = created.AddrPoolId;
    const pool = await call(client, 'DescribeDnsGtmInstanceAddressPool', { AddrPoolId: poolId });
    expect(pool).toMatchObject({
      AddrPoolId: poolId,
      Name: 'pool-a',
      Type: 'IPV4',
      LbaStrategy: 'ALL_RR',
      AddrCount: 2,
      MonitorStatus: 'UNCONFIGURED',
    });
    expect(pool.Addrs.Addr[1]).toMatchObject({
      Addr: '192.0.2.2',
      Mode: 'SMART',
      LbaWeight: 1,
      Remark: 'remark 192.0.2.2',
      AlertStatus: 'OK',
      AttributeInfo: ATTRIBUTE_INFO,
    });
    expect(pool.Addrs.Addr[1].CreateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
  });

  it('AddDnsGtmAddressPool validates required fields, enums, addresses and repeat lists', async () => {
    const { Type: _omitted, ...withoutType } = poolParams('x', ['192.0.2.9']);
    expect((await callError(client, 'AddDnsGtmAddressPool', withoutType)).code).toBe('MissingParameter');
    // pop-core sends an undefined value as the text "undefined" (facts file), which is no pool type.
    expect((await callError(client, 'AddDnsGtmAddressPool', { ...withoutType, Type: undefined })).code).toBe('InvalidParameter');
    const type = await callError(client, 'AddDnsGtmAddressPool', poolParams('x', ['192.0.2.9'], { LbaStrategy: 'RANDOM' }));
    expect(type.data.Message).toContain('LbaStrategy');
    const addr = await callError(client, 'AddDnsGtmAddressPool', poolParams('x', ['not-an-ip']));
    expect(addr.data.Message).toContain('Addr.1.Addr');
    const mode = await callError(client, 'AddDnsGtmAddressPool', {
      ...poolParams('x', ['192.0.2.9']),
      Addr: [{ Addr: '192.0.2.9', Mode: 'ON', AttributeInfo: '{}' }],
    });
    expect(mode.data.Message).toContain('Addr.1.Mode');
    const noAttribute = await callError(client, 'AddDnsGtmAddressPool', {
      ...poolParams('x', ['192.0.2.9']),
      Addr: [{ Addr: '192.0.2.9', Mode: 'SMART' }],
    });
    expect([noAttribute.code, noAttribute.data.Message]).toEqual(['MissingParameter', expect.stringContaining('Addr.1.AttributeInfo')]);
    const monitor = await callError(
      client,
      'AddDnsGtmAddressPool',
      poolParams('x', ['192.0.2.9'], { ...HTTP_CHECK, MonitorExtendInfo: '{"port":99999}' }),
    );
    expect(monitor.data.Message).toContain('MonitorExtendInfo');
    const tooMany = Array.from({ length: 51 }, (_, i) => `198.51.100.${i + 1}`);
    expect((await callError(client, 'AddDnsGtmAddressPool', poolParams('x', tooMany))).data.Message).toContain('at most 50');
  });

  it('AddDnsGtmMonitor adds the check (ranges 15..60 s, 1..3, 1000..10000 ms, IspCityNode required)', async () => {
    const base = {
      AddrPoolId: poolId,
      ProtocolType: 'HTTP',
      Interval: 60,
      EvaluationCount: 2,
      Timeout: 5000,
      MonitorExtendInfo: HTTP_CHECK.MonitorExtendInfo,
    };
    expect(
      (await callError(client, 'AddDnsGtmMonitor', { ...base, Interval: 5, IspCityNode: [{ CityCode: '503', IspCode: '465' }] })).data
        .Message,
    ).toContain('"Interval"');
    expect((await callError(client, 'AddDnsGtmMonitor', { ...base, EvaluationCount: 4, IspCityNode: [{ CityCode: '503' }] })).code).toBe(
      'InvalidParameter',
    );
    expect((await callError(client, 'AddDnsGtmMonitor', base)).code).toBe('MissingParameter');
    const added = await call(client, 'AddDnsGtmMonitor', { ...base, IspCityNode: [{ CityCode: '503', IspCode: '465' }] });
    monitorConfigId = added.MonitorConfigId;
    expect((await callError(client, 'AddDnsGtmMonitor', { ...base, IspCityNode: [{ CityCode: '503' }] })).data.Message).toContain(
      'already has',
    );
    const pool = await call(client, 'DescribeDnsGtmInstanceAddressPool', { AddrPoolId: poolId });
    expect([pool.MonitorConfigId, pool.MonitorStatus]).toEqual([monitorConfigId, 'OPEN']);
  });

  it('UpdateDnsGtmMonitor and DescribeDnsGtmMonitorConfig', async () => {
    await call(client, 'UpdateDnsGtmMonitor', {
      MonitorConfigId: monitorConfigId,
      ProtocolType: 'HTTPS',
      Interval: 15,
      MonitorExtendInfo: JSON.stringify({ host: 'a.example.com', path: '/healthz', port: 443, code: 400, sni: 'true' }),
      IspCityNode: [{ CityCode: '357', IspCode: '465' }],
    });
    const config = await call(client, 'DescribeDnsGtmMonitorConfig', { MonitorConfigId: monitorConfigId });
    expect(config).toMatchObject({
      MonitorConfigId: monitorConfigId,
      ProtocolType: 'HTTPS',
      Interval: 15,
      EvaluationCount: 2,
      Timeout: 5000,
    });
    expect(JSON.parse(config.MonitorExtendInfo)).toMatchObject({ path: '/healthz', code: 400 });
    expect(config.IspCityNodes.IspCityNode[0]).toMatchObject({ CityCode: '357', IspCode: '465' });
    expect(
      (
        await callError(client, 'UpdateDnsGtmMonitor', {
          MonitorConfigId: monitorConfigId,
          ProtocolType: 'FTP',
          MonitorExtendInfo: '{}',
          IspCityNode: [{ CityCode: '1' }],
        })
      ).code,
    ).toBe('InvalidParameter');
    expect((await callError(client, 'DescribeDnsGtmMonitorConfig', { MonitorConfigId: 'mc-none' })).data.Message).toContain(
      'MonitorConfigId',
    );
  });

  it('SetDnsGtmMonitorStatus closes and opens the check', async () => {
    await call(client, 'SetDnsGtmMonitorStatus', { MonitorConfigId: monitorConfigId, Status: 'CLOSE' });
    expect((await call(client, 'DescribeDnsGtmInstanceAddressPool', { AddrPoolId: poolId })).MonitorStatus).toBe('CLOSE');
    expect((await callError(client, 'SetDnsGtmMonitorStatus', { MonitorConfigId: monitorConfigId, Status: 'PAUSE' })).code).toBe(
      'InvalidParameter',
    );
  });

  it('UpdateDnsGtmAddressPool replaces the address list', async () => {
    await call(client, 'UpdateDnsGtmAddressPool', {
      AddrPoolId: poolId,
      Name: 'pool-a2',
      LbaStrategy: 'RATIO',
      Addr: [{ Addr: '192.0.2.3', Mode: 'ONLINE', LbaWeight: 3 }],
    });
    const pool = await call(client, 'DescribeDnsGtmInstanceAddressPool', { AddrPoolId: poolId });
    expect(pool).toMatchObject({ Name: 'pool-a2', LbaStrategy: 'RATIO', AddrCount: 1 });
    expect(pool.Addrs.Addr).toEqual([expect.objectContaining({ Addr: '192.0.2.3', Mode: 'ONLINE', LbaWeight: 3 })]);
    expect((await callError(client, 'UpdateDnsGtmAddressPool', { AddrPoolId: poolId, LbaStrategy: 'ALL_RR' })).code).toBe(
      'MissingParameter',
    );
    expect(
      (
        await callError(client, 'UpdateDnsGtmAddressPool', {
          AddrPoolId: 'pool-none',
          LbaStrategy: 'ALL_RR',
          Addr: [{ Addr: '192.0.2.3', Mode: 'ONLINE' }],
        })
      ).data.Message,
    ).toContain('AddrPoolId');
  });

  it('DescribeDnsGtmInstanceAddressPools pages with TotalItems / TotalPages', async () => {
    for (let i = 0; i < 4; i += 1) await call(client, 'AddDnsGtmAddressPool', poolParams(`page-${i}`, [`203.0.113.${i + 1}`]));
    const first = await call(client, 'DescribeDnsGtmInstanceAddressPools', { ...instance, PageSize: 2 });
    expect(first).toMatchObject({ TotalItems: 5, TotalPages: 3, PageNumber: 1, PageSize: 2 });
    expect(first.AddrPools.AddrPool.map((p: { Name: string }) => p.Name)).toEqual(['pool-a2', 'page-0']);
    const last = await call(client, 'DescribeDnsGtmInstanceAddressPools', { ...instance, PageSize: 2, PageNumber: 3 });
    expect(last.AddrPools.AddrPool.map((p: { Name: string }) => p.Name)).toEqual(['page-3']);
    const beyond = await call(client, 'DescribeDnsGtmInstanceAddressPools', { ...instance, PageSize: 2, PageNumber: 4 });
    expect(beyond.AddrPools.AddrPool).toEqual([]);
    expect((await callError(client, 'DescribeDnsGtmInstanceAddressPools', { ...instance, PageNumber: 0 })).code).toBe('InvalidParameter');
  });
});

describe('access strategy actions', () => {
  let primary: string;
  let secondary: string;
  let strategyId: string;

  beforeAll(async () => {
    primary = (await call(client, 'AddDnsGtmAddressPool', poolParams('primary', ['198.51.100.200']))).AddrPoolId;
    secondary = (await call(client, 'AddDnsGtmAddressPool', poolParams('secondary', ['198.51.100.201']))).AddrPoolId;
  });

  const strategyBody = () => ({
    StrategyName: 'web-demo',
    Lines: '["default"]',
    DefaultAddrPoolType: 'IPV4',
    DefaultLbaStrategy: 'ALL_RR',
    DefaultMinAvailableAddrNum: 1,
    DefaultAddrPool: [{ Id: primary, LbaWeight: 1 }],
    FailoverAddrPoolType: 'IPV4',
    FailoverLbaStrategy: 'ALL_RR',
    FailoverAddrPool: [{ Id: secondary, LbaWeight: 1 }],
  });

  it('AddDnsGtmAccessStrategy creates an AUTO strategy; DescribeDnsGtmAccessStrategy returns both sets', async () => {
    strategyId = (await call(client, 'AddDnsGtmAccessStrategy', { ...instance, StrategyMode: 'GEO', ...strategyBody() })).StrategyId;
    const strategy = await call(client, 'DescribeDnsGtmAccessStrategy', { StrategyId: strategyId });
    expect(strategy).toMatchObject({
      StrategyId: strategyId,
      StrategyName: 'web-demo',
      StrategyMode: 'GEO',
      AccessMode: 'AUTO',
      DefaultMinAvailableAddrNum: 1,
      EffectiveAddrPoolGroupType: 'DEFAULT',
      DefaultAddrPoolGroupStatus: 'AVAILABLE',
      DefaultAvailableAddrNum: 1,
      FailoverAddrPoolGroupStatus: 'AVAILABLE',
      DefaultAddrPools: { DefaultAddrPool: [{ Id: primary, Name: 'primary', AddrCount: 1, LbaWeight: 1 }] },
      FailoverAddrPools: { FailoverAddrPool: [{ Id: secondary, Name: 'secondary', AddrCount: 1, LbaWeight: 1 }] },
      Lines: { Line: [expect.objectContaining({ LineCode: 'default' })] },
    });
  });

  it('AddDnsGtmAccessStrategy validates pools, ranges, lines and modes', async () => {
    const body = strategyBody();
    expect((await callError(client, 'AddDnsGtmAccessStrategy', { ...instance, ...body })).code).toBe('MissingParameter');
    expect(
      (await callError(client, 'AddDnsGtmAccessStrategy', { ...instance, StrategyMode: 'GEO', ...body, DefaultMinAvailableAddrNum: 401 }))
        .code,
    ).toBe('InvalidParameter');
    const unknownPool = await callError(client, 'AddDnsGtmAccessStrategy', {
      ...instance,
      StrategyMode: 'GEO',
      ...body,
      DefaultAddrPool: [{ Id: 'pool-none' }],
    });
    expect(unknownPool.data.Message).toContain('DefaultAddrPool.1.Id');
    const typeMismatch = await callError(client, 'AddDnsGtmAccessStrategy', {
      ...instance,
      StrategyMode: 'GEO',
      ...body,
      DefaultAddrPoolType: 'IPV6',
    });
    expect(typeMismatch.data.Message).toContain('type IPV4');
    const lineTaken = await callError(client, 'AddDnsGtmAccessStrategy', {
      ...instance,
      StrategyMode: 'GEO',
      ...body,
      StrategyName: 'second',
    });
    expect(lineTaken.data.Message).toContain('line "default"');
  });

  it('UpdateDnsGtmAccessStrategy, SetDnsGtmAccessMode', async () => {
    await call(client, 'UpdateDnsGtmAccessStrategy', {
      StrategyId: strategyId,
      ...strategyBody(),
      DefaultMinAvailableAddrNum: 2,
      AccessMode: 'AUTO',
    });
    let strategy = await call(client, 'DescribeDnsGtmAccessStrategy', { StrategyId: strategyId });
    // One address is available in the primary set, two are required: the failover set serves.
    expect(strategy).toMatchObject({
      DefaultMinAvailableAddrNum: 2,
      DefaultAddrPoolGroupStatus: 'NOT_AVAILABLE',
      EffectiveAddrPoolGroupType: 'FAILOVER',
    });
    await call(client, 'SetDnsGtmAccessMode', { StrategyId: strategyId, AccessMode: 'DEFAULT' });
    strategy = await call(client, 'DescribeDnsGtmAccessStrategy', { StrategyId: strategyId });
    expect([strategy.AccessMode, strategy.EffectiveAddrPoolGroupType]).toEqual(['DEFAULT', 'DEFAULT']);
    expect((await callError(client, 'SetDnsGtmAccessMode', { StrategyId: strategyId, AccessMode: 'MANUAL' })).code).toBe(
      'InvalidParameter',
    );
    const { StrategyName: _omitted, ...withoutName } = strategyBody();
    expect((await callError(client, 'UpdateDnsGtmAccessStrategy', { StrategyId: strategyId, ...withoutName })).code).toBe(
      'MissingParameter',
    );
  });

  it('DescribeDnsGtmAccessStrategies filters by StrategyMode and pages', async () => {
    const geo = await call(client, 'DescribeDnsGtmAccessStrategies', { ...instance, StrategyMode: 'GEO', PageSize: 1 });
    expect(geo).toMatchObject({ TotalItems: 1, TotalPages: 1, PageNumber: 1, PageSize: 1 });
    expect(geo.Strategies.Strategy[0]).toMatchObject({
      StrategyId: strategyId,
      EffectiveAddrPoolGroupType: 'DEFAULT',
      EffectiveLbaStrategy: 'ALL_RR',
    });
    const latency = await call(client, 'DescribeDnsGtmAccessStrategies', { ...instance, StrategyMode: 'LATENCY' });
    expect([latency.TotalItems, latency.Strategies.Strategy]).toEqual([0, []]);
    expect((await callError(client, 'DescribeDnsGtmAccessStrategies', instance)).code).toBe('MissingParameter');
  });

  it('DescribeDnsGtmInstanceStatus counts addresses and strategies', async () => {
    const status = await call(client, 'DescribeDnsGtmInstanceStatus', instance);
    expect(status).toMatchObject({ StrategyNotAvailableNum: 0, SwitchToFailoverStrategyNum: 0 });
    expect(status.AddrAvailableNum + status.AddrNotAvailableNum).toBe(emulator.state().pools.reduce((n, p) => n + p.addresses.length, 0));
  });

  it('a pool in use cannot be deleted; DeleteDnsGtmAccessStrategy then DeleteDnsGtmAddressPool', async () => {
    expect((await callError(client, 'DeleteDnsGtmAddressPool', { AddrPoolId: primary })).data.Message).toContain('used by access strategy');
    await call(client, 'DeleteDnsGtmAccessStrategy', { StrategyId: strategyId });
    expect((await callError(client, 'DescribeDnsGtmAccessStrategy', { StrategyId: strategyId })).code).toBe('InvalidParameter');
    await call(client, 'DeleteDnsGtmAddressPool', { AddrPoolId: primary });
    expect(emulator.state().pools.some((pool) => pool.id === primary)).toBe(false);
    expect((await callError(client, 'DeleteDnsGtmAddressPool', {})).code).toBe('MissingParameter');
  });
});
