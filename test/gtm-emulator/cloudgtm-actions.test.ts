import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type RPCClient from '@alicloud/pop-core';
import type { GtmEmulator } from '#sandbox/gtm/index.ts';
import { call, callError, rawRequest, startTestEmulator } from './helpers.ts';

/**
 * The GTM 3.0 actions over signed requests (pop-core as the client, as the SDK's wire format:
 * JSON-string parameters for HealthTasks, Addresses, AddressPools, IspCityNodes), with the
 * validation, errors and paging a reconciler meets. No health check here reaches a backend:
 * the addresses are outside loopback or their templates are ping.
 */

let emulator: GtmEmulator;
let client: RPCClient;
let instance: { InstanceId: string };

const NODES = JSON.stringify([{ CityCode: '503', IspCode: '465' }]);

/** Without the keys set to undefined: a case leaves a parameter out that way. */
function defined(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
}

function templateParams(extra: Record<string, unknown> = {}) {
  return defined({
    Name: 'http-ipv4',
    Protocol: 'http',
    IpVersion: 'IPv4',
    Interval: 60,
    EvaluationCount: 2,
    Timeout: 5000,
    FailureRate: 50,
    ExtendInfo: JSON.stringify({ host: 'web-demo.example.com', path: '/healthz', code: 499 }),
    IspCityNodes: NODES,
    ...extra,
  });
}

function addressParams(address: string, extra: Record<string, unknown> = {}) {
  return defined({
    Name: `addr ${address}`,
    Address: address,
    Type: 'IPv4',
    AvailableMode: 'auto',
    EnableStatus: 'enable',
    HealthJudgement: 'any_ok',
    ...extra,
  });
}

async function createTemplate(extra: Record<string, unknown> = {}): Promise<string> {
  return (await call(client, 'CreateCloudGtmMonitorTemplate', templateParams(extra))).TemplateId as string;
}

async function createAddress(address: string, extra: Record<string, unknown> = {}): Promise<string> {
  return (await call(client, 'CreateCloudGtmAddress', addressParams(address, extra))).AddressId as string;
}

async function createPool(name: string, type = 'IPv4'): Promise<string> {
  return (await call(client, 'CreateCloudGtmAddressPool', { AddressPoolName: name, AddressPoolType: type, HealthJudgement: 'any_ok' }))
    .AddressPoolId as string;
}

beforeAll(async () => {
  ({ emulator, client } = await startTestEmulator({ gtmVersion: '3.0', instanceId: 'gtm-cn-actions3', probeIntervalScale: 1 }));
  instance = { InstanceId: emulator.instanceId };
});
afterAll(async () => {
  await emulator.stop();
});

describe('GTM 3.0 monitor templates', () => {
  it('creates, describes, lists, updates and deletes a template, with the models response shapes', async () => {
    const created = await call(client, 'CreateCloudGtmMonitorTemplate', templateParams());
    expect(created).toMatchObject({ Success: true, TemplateId: expect.stringMatching(/^mtp-/), RequestId: expect.any(String) });
    const id = created.TemplateId as string;
    expect(await call(client, 'DescribeCloudGtmMonitorTemplate', { TemplateId: id })).toMatchObject({
      TemplateId: id,
      Name: 'http-ipv4',
      Protocol: 'http',
      IpVersion: 'IPv4',
      Interval: 60,
      EvaluationCount: 2,
      Timeout: 5000,
      FailureRate: 50,
      ExtendInfo: templateParams().ExtendInfo,
      IspCityNodes: { IspCityNode: [{ CityCode: '503', IspCode: '465' }] },
      CreateTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/),
      CreateTimestamp: expect.any(Number),
    });
    await call(client, 'UpdateCloudGtmMonitorTemplate', { TemplateId: id, Interval: 15, EvaluationCount: 3, Name: 'renamed' });
    expect(await call(client, 'DescribeCloudGtmMonitorTemplate', { TemplateId: id })).toMatchObject({
      Interval: 15,
      EvaluationCount: 3,
      Timeout: 5000,
      Name: 'renamed',
    });
    const listed = await call(client, 'ListCloudGtmMonitorTemplates', { PageNumber: 1, PageSize: 20, Protocol: 'http' });
    expect(listed.Templates.Template.map((t: { TemplateId: string }) => t.TemplateId)).toContain(id);
    expect(await call(client, 'DeleteCloudGtmMonitorTemplate', { TemplateId: id })).toMatchObject({ Success: true });
    expect((await callError(client, 'DescribeCloudGtmMonitorTemplate', { TemplateId: id })).code).toBe('InvalidTemplateId.NotFound');
  });

  it('refuses what the models forbid: enums of EvaluationCount, Timeout, FailureRate, Protocol; bad JSON; no detection point', async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ EvaluationCount: 4 }, 'InvalidParameter', 'EvaluationCount'],
      [{ Timeout: 4000 }, 'InvalidParameter', 'Timeout'],
      [{ FailureRate: 30 }, 'InvalidParameter', 'FailureRate'],
      [{ Protocol: 'HTTP' }, 'InvalidParameter', 'Protocol'],
      [{ Interval: 5 }, 'InvalidParameter', 'Interval'],
      [{ ExtendInfo: '{"path":' }, 'InvalidParameter', 'ExtendInfo'],
      [{ ExtendInfo: JSON.stringify({ path: 'healthz' }) }, 'InvalidParameter', 'ExtendInfo'],
      [{ IspCityNodes: '[]' }, 'InvalidParameter', 'IspCityNodes'],
      [{ IspCityNodes: JSON.stringify([{ CityCode: '503' }]) }, 'MissingParameter', 'IspCityNodes[0].IspCode'],
      [{ Name: undefined }, 'MissingParameter', '"Name"'],
    ];
    for (const [extra, code, field] of cases) {
      const params = templateParams(extra);
      const error = await callError(client, 'CreateCloudGtmMonitorTemplate', params);
      expect([error.code, error.data.Message], JSON.stringify(extra)).toEqual([code, expect.stringContaining(field)]);
    }
  });

  it('a template an address uses cannot be deleted', async () => {
    const templateId = await createTemplate();
    const addressId = await createAddress('192.0.2.10', { HealthTasks: JSON.stringify([{ TemplateId: templateId, Port: 80 }]) });
    const refused = await callError(client, 'DeleteCloudGtmMonitorTemplate', { TemplateId: templateId });
    expect([refused.code, refused.data.Message]).toEqual(['OperationDenied.MonitorTemplateInUse', expect.stringContaining(addressId)]);
    await call(client, 'DeleteCloudGtmAddress', { AddressId: addressId });
    await call(client, 'DeleteCloudGtmMonitorTemplate', { TemplateId: templateId });
  });
});

describe('GTM 3.0 addresses', () => {
  it('creates an address with health tasks and describes it as the models shape it', async () => {
    const templateId = await createTemplate();
    const id = await createAddress('192.0.2.1', { HealthTasks: JSON.stringify([{ TemplateId: templateId, Port: 8080 }]), Remark: 'c1' });
    const described = await call(client, 'DescribeCloudGtmAddress', { AddressId: id });
    expect(described).toMatchObject({
      AddressId: id,
      Address: '192.0.2.1',
      Type: 'IPv4',
      EnableStatus: 'enable',
      AvailableMode: 'auto',
      HealthJudgement: 'any_ok',
      // Not probed yet: healthy, so available.
      HealthStatus: 'ok',
      AvailableStatus: 'available',
      Remark: 'c1',
      HealthTasks: { HealthTask: [{ TemplateId: templateId, TemplateName: 'http-ipv4', Port: 8080 }] },
    });
    const bare = await createAddress('192.0.2.2');
    expect(await call(client, 'DescribeCloudGtmAddress', { AddressId: bare })).toMatchObject({
      HealthStatus: 'ok_no_monitor',
      AvailableStatus: 'available',
      HealthTasks: { HealthTask: [] },
    });
  });

  it('validates type, address format, enums and health tasks, naming the field', async () => {
    const ping = await createTemplate({
      Name: 'ping',
      Protocol: 'ping',
      ExtendInfo: JSON.stringify({ packetNum: 20, packetLossRate: 10 }),
    });
    const tcp = await createTemplate({ Name: 'tcp', Protocol: 'tcp', ExtendInfo: undefined });
    const v6 = await createTemplate({ Name: 'v6', IpVersion: 'IPv6' });
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ Address: '300.1.1.1' }, 'InvalidParameter', '"Address"'],
      [{ Type: 'ipv4' }, 'InvalidParameter', '"Type"'],
      [{ AvailableMode: 'smart' }, 'InvalidParameter', 'AvailableMode'],
      [{ AvailableMode: 'manual' }, 'MissingParameter', 'ManualAvailableStatus'],
      [{ EnableStatus: undefined }, 'MissingParameter', 'EnableStatus'],
      [{ HealthJudgement: 'p40_ok' }, 'InvalidParameter', 'HealthJudgement'],
      [{ HealthTasks: '{"TemplateId":"x"}' }, 'InvalidParameter', 'HealthTasks'],
      [{ HealthTasks: JSON.stringify([{ TemplateId: 'mtp-nope' }]) }, 'InvalidTemplateId.NotFound', 'mtp-nope'],
      [{ HealthTasks: JSON.stringify([{ TemplateId: ping, Port: 80 }]) }, 'InvalidParameter', 'HealthTasks[0].Port'],
      [{ HealthTasks: JSON.stringify([{ TemplateId: tcp }]) }, 'MissingParameter', 'HealthTasks[0].Port'],
      [{ HealthTasks: JSON.stringify([{ TemplateId: v6, Port: 80 }]) }, 'InvalidParameter', 'HealthTasks[0].TemplateId'],
      [{ HealthTasks: JSON.stringify([{ TemplateId: tcp, Port: 70000 }]) }, 'InvalidParameter', 'HealthTasks[0].Port'],
      [
        {
          HealthTasks: JSON.stringify([
            { TemplateId: tcp, Port: 80 },
            { TemplateId: tcp, Port: 80 },
          ]),
        },
        'InvalidParameter',
        'HealthTasks[1]',
      ],
    ];
    const before = (await call(client, 'ListCloudGtmAddresses', { PageNumber: 1, PageSize: 100 })).TotalItems;
    for (const [extra, code, field] of cases) {
      const error = await callError(client, 'CreateCloudGtmAddress', addressParams('192.0.2.50', extra));
      expect([error.code, error.data.Message], JSON.stringify(extra)).toEqual([code, expect.stringContaining(field)]);
    }
    // Nothing refused was half created.
    expect((await call(client, 'ListCloudGtmAddresses', { PageNumber: 1, PageSize: 100 })).TotalItems).toBe(before);
  });

  it('updates fields, enable status and manual availability; a refused update changes nothing', async () => {
    const id = await createAddress('192.0.2.3');
    await call(client, 'UpdateCloudGtmAddress', { AddressId: id, Name: 'renamed', Address: '192.0.2.4', HealthJudgement: 'all_ok' });
    expect((await callError(client, 'UpdateCloudGtmAddress', { AddressId: id, Name: 'other', Address: 'not-an-ip' })).code).toBe(
      'InvalidParameter',
    );
    expect(await call(client, 'DescribeCloudGtmAddress', { AddressId: id })).toMatchObject({
      Name: 'renamed',
      Address: '192.0.2.4',
      HealthJudgement: 'all_ok',
    });
    await call(client, 'UpdateCloudGtmAddressEnableStatus', { AddressId: id, EnableStatus: 'disable' });
    expect(await call(client, 'DescribeCloudGtmAddress', { AddressId: id })).toMatchObject({
      EnableStatus: 'disable',
      AvailableStatus: 'unavailable',
    });
    await call(client, 'UpdateCloudGtmAddressEnableStatus', { AddressId: id, EnableStatus: 'enable' });
    await call(client, 'UpdateCloudGtmAddressManualAvailableStatus', {
      AddressId: id,
      AvailableMode: 'manual',
      ManualAvailableStatus: 'unavailable',
    });
    expect(await call(client, 'DescribeCloudGtmAddress', { AddressId: id })).toMatchObject({
      AvailableMode: 'manual',
      ManualAvailableStatus: 'unavailable',
      AvailableStatus: 'unavailable',
    });
    await call(client, 'UpdateCloudGtmAddressManualAvailableStatus', { AddressId: id, AvailableMode: 'auto' });
    expect(await call(client, 'DescribeCloudGtmAddress', { AddressId: id })).toMatchObject({
      AvailableMode: 'auto',
      AvailableStatus: 'available',
    });
    expect((await callError(client, 'UpdateCloudGtmAddressManualAvailableStatus', { AddressId: id })).code).toBe('MissingParameter');
    expect((await callError(client, 'UpdateCloudGtmAddressEnableStatus', { AddressId: id, EnableStatus: 'on' })).code).toBe(
      'InvalidParameter',
    );
    expect((await callError(client, 'UpdateCloudGtmAddressEnableStatus', { AddressId: 'addr-nope', EnableStatus: 'enable' })).code).toBe(
      'InvalidAddressId.NotFound',
    );
  });

  it('a create sent again with its ClientToken creates one address; the token with other parameters is refused', async () => {
    const count = async () => (await call(client, 'ListCloudGtmAddresses', { PageNumber: 1, PageSize: 100 })).TotalItems as number;
    const before = await count();
    const params = addressParams('192.0.2.77', { ClientToken: 'retry-1ae05db4-10e7-11ef' });
    const first = await call(client, 'CreateCloudGtmAddress', params);
    const again = await call(client, 'CreateCloudGtmAddress', params);
    expect(again.AddressId).toBe(first.AddressId);
    expect(again.RequestId).not.toBe(first.RequestId);
    expect(await count()).toBe(before + 1);
    const mismatch = await callError(client, 'CreateCloudGtmAddress', { ...params, Name: 'another' });
    expect([mismatch.code, mismatch.data.Message]).toEqual(['IdempotentParameterMismatch', expect.stringContaining('retry-1ae05db4')]);
    const long = await callError(client, 'CreateCloudGtmAddress', addressParams('192.0.2.78', { ClientToken: 'x'.repeat(65) }));
    expect([long.code, long.data.Message]).toEqual(['InvalidParameter', expect.stringContaining('ClientToken')]);
    expect(await count()).toBe(before + 1);
  });

  it('lists with filters and pages: PageNumber / PageSize / TotalItems / TotalPages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await createAddress(`198.51.100.${i + 1}`, { Name: `paged-${i}` }));
    const page1 = await call(client, 'ListCloudGtmAddresses', { PageNumber: 1, PageSize: 2, Name: 'paged-' });
    const page3 = await call(client, 'ListCloudGtmAddresses', { PageNumber: 3, PageSize: 2, Name: 'paged-' });
    expect(page1).toMatchObject({ PageNumber: 1, PageSize: 2, TotalItems: 5, TotalPages: 3 });
    expect(page1.Addresses.Address.map((a: { AddressId: string }) => a.AddressId)).toEqual(ids.slice(0, 2));
    expect(page3.Addresses.Address.map((a: { AddressId: string }) => a.AddressId)).toEqual(ids.slice(4));
    expect((await call(client, 'ListCloudGtmAddresses', { PageNumber: 9, PageSize: 2, Name: 'paged-' })).Addresses.Address).toEqual([]);
    expect((await call(client, 'ListCloudGtmAddresses', { AddressId: ids[2] })).Addresses.Address).toHaveLength(1);
    const tooBig = await callError(client, 'ListCloudGtmAddresses', { PageNumber: 1, PageSize: 101 });
    expect([tooBig.code, tooBig.data.Message]).toEqual(['InvalidParameter', expect.stringContaining('PageSize')]);
    expect((await callError(client, 'ListCloudGtmAddresses', { PageNumber: 0, PageSize: 10 })).code).toBe('InvalidParameter');
    expect((await callError(client, 'ListCloudGtmAddresses', { PageNumber: 1, PageSize: 10, Type: 'A' })).code).toBe('InvalidParameter');
  });
});

describe('GTM 3.0 address pools', () => {
  it('replaces a pool addresses with serial numbers and weights, and describes them', async () => {
    const a = await createAddress('203.0.113.1');
    const b = await createAddress('203.0.113.2');
    const poolId = await createPool('beijing');
    await call(client, 'ReplaceCloudGtmAddressPoolAddress', {
      AddressPoolId: poolId,
      Addresses: JSON.stringify([
        { AddressId: a, SerialNumber: 1, WeightValue: 30, RequestSource: ['default'] },
        { AddressId: b, SerialNumber: 2, WeightValue: 70 },
      ]),
    });
    await call(client, 'UpdateCloudGtmAddressPoolLbStrategy', {
      AddressPoolId: poolId,
      AddressLbStrategy: 'sequence',
      SequenceLbStrategyMode: 'non_preemptive',
    });
    const described = await call(client, 'DescribeCloudGtmAddressPool', { AddressPoolId: poolId });
    expect(described).toMatchObject({
      AddressPoolId: poolId,
      AddressPoolName: 'beijing',
      AddressPoolType: 'IPv4',
      AddressLbStrategy: 'sequence',
      SequenceLbStrategyMode: 'non_preemptive',
      EnableStatus: 'enable',
      HealthJudgement: 'any_ok',
      HealthStatus: 'ok',
      AvailableStatus: 'available',
      Addresses: {
        Address: [
          { AddressId: a, Address: '203.0.113.1', SerialNumber: 1, WeightValue: 30, RequestSource: { RequestSource: ['default'] } },
          { AddressId: b, Address: '203.0.113.2', SerialNumber: 2, WeightValue: 70 },
        ],
      },
    });
    const listed = await call(client, 'ListCloudGtmAddressPools', { PageNumber: 1, PageSize: 20, AddressPoolName: 'beijing' });
    expect(listed).toMatchObject({ TotalItems: 1, AddressPools: { AddressPool: [{ AddressPoolId: poolId }] } });
    expect(listed.AddressPools.AddressPool[0].Addresses.Address).toHaveLength(2);
    const reference = await call(client, 'DescribeCloudGtmAddressReference', { AddressId: a });
    expect(reference.AddressPools.AddressPool).toEqual([expect.objectContaining({ AddressPoolId: poolId })]);
  });

  it('refuses unknown, duplicate and wrongly typed addresses, bad weights, and a sequence without its mode', async () => {
    const v4 = await createAddress('203.0.113.10');
    const v6 = await createAddress('2001:db8::1', { Type: 'IPv6' });
    const poolId = await createPool('checked');
    const replace = (addresses: unknown[]) =>
      callError(client, 'ReplaceCloudGtmAddressPoolAddress', { AddressPoolId: poolId, Addresses: JSON.stringify(addresses) });
    expect((await replace([{ AddressId: 'addr-nope' }])).code).toBe('InvalidAddressId.NotFound');
    expect((await replace([{ AddressId: v6 }])).data.Message).toContain('Addresses[0].AddressId');
    expect((await replace([{ AddressId: v4 }, { AddressId: v4 }])).data.Message).toContain('Addresses[1]');
    expect((await replace([{ AddressId: v4, WeightValue: 0 }])).data.Message).toContain('Addresses[0].WeightValue');
    expect((await replace([{ AddressId: v4, WeightValue: 101 }])).code).toBe('InvalidParameter');
    expect((await replace([{ WeightValue: 1 }])).code).toBe('MissingParameter');
    const tooMany = await replace(Array.from({ length: 101 }, () => ({ AddressId: v4 })));
    expect([tooMany.code, tooMany.data.Message]).toEqual(['InvalidParameter', expect.stringContaining('at most 100')]);
    expect((await replace([{ AddressId: v4, SerialNumber: 'first' }])).data.Message).toContain('Addresses[0].SerialNumber');
    expect((await replace([{ AddressId: v4, RequestSource: 'default' }])).data.Message).toContain('Addresses[0].RequestSource');
    expect((await replace(['addr-x'] as unknown[])).data.Message).toContain('Addresses[0]');
    expect((await callError(client, 'ReplaceCloudGtmAddressPoolAddress', { AddressPoolId: poolId })).code).toBe('MissingParameter');
    expect((await callError(client, 'ReplaceCloudGtmAddressPoolAddress', { AddressPoolId: poolId, Addresses: 'nope' })).code).toBe(
      'InvalidParameter',
    );
    // Every refusal left the pool as it was.
    expect((await call(client, 'DescribeCloudGtmAddressPool', { AddressPoolId: poolId })).Addresses.Address).toEqual([]);
    expect(
      (await callError(client, 'UpdateCloudGtmAddressPoolLbStrategy', { AddressPoolId: poolId, AddressLbStrategy: 'sequence' })).data
        .Message,
    ).toContain('SequenceLbStrategyMode');
    expect(
      (await callError(client, 'UpdateCloudGtmAddressPoolLbStrategy', { AddressPoolId: poolId, AddressLbStrategy: 'ratio' })).code,
    ).toBe('InvalidParameter');
    expect((await callError(client, 'CreateCloudGtmAddressPool', { AddressPoolName: 'x', AddressPoolType: 'IPV4' })).code).toBe(
      'InvalidParameter',
    );
    expect((await callError(client, 'CreateCloudGtmAddressPool', { AddressPoolType: 'IPv4' })).code).toBe('MissingParameter');
  });

  it('an address a pool references cannot be deleted; once released it can', async () => {
    const id = await createAddress('203.0.113.20');
    const poolId = await createPool('holder');
    await call(client, 'ReplaceCloudGtmAddressPoolAddress', { AddressPoolId: poolId, Addresses: JSON.stringify([{ AddressId: id }]) });
    const refused = await callError(client, 'DeleteCloudGtmAddress', { AddressId: id });
    expect([refused.code, refused.data.Message]).toEqual(['OperationDenied.AddressInUse', expect.stringContaining(poolId)]);
    await call(client, 'ReplaceCloudGtmAddressPoolAddress', { AddressPoolId: poolId, Addresses: '[]' });
    await call(client, 'DeleteCloudGtmAddress', { AddressId: id });
    expect((await callError(client, 'DescribeCloudGtmAddress', { AddressId: id })).code).toBe('InvalidAddressId.NotFound');
  });
});

describe('GTM 3.0 instance configurations', () => {
  it('creates a configuration, gives it pools and a strategy, and describes its full info', async () => {
    const a = await createAddress('192.0.2.101');
    const b = await createAddress('192.0.2.102');
    const primary = await createPool('primary');
    const failover = await createPool('failover');
    await call(client, 'ReplaceCloudGtmAddressPoolAddress', { AddressPoolId: primary, Addresses: JSON.stringify([{ AddressId: a }]) });
    await call(client, 'ReplaceCloudGtmAddressPoolAddress', { AddressPoolId: failover, Addresses: JSON.stringify([{ AddressId: b }]) });
    const created = await call(client, 'CreateCloudGtmInstanceConfig', {
      ...instance,
      ScheduleHostname: 'web',
      ScheduleZoneName: 'example.com',
      ScheduleRrType: 'A',
      ScheduleZoneMode: 'custom',
      Ttl: 30,
    });
    expect(created).toMatchObject({ Success: true, InstanceId: instance.InstanceId, ConfigId: expect.stringMatching(/^config-/) });
    const config = { ...instance, ConfigId: created.ConfigId as string };
    await call(client, 'ReplaceCloudGtmInstanceConfigAddressPool', {
      ...config,
      AddressPools: JSON.stringify([
        { AddressPoolId: primary, SerialNumber: 1, WeightValue: 1 },
        { AddressPoolId: failover, SerialNumber: 2, WeightValue: 1 },
      ]),
    });
    await call(client, 'UpdateCloudGtmInstanceConfigLbStrategy', {
      ...config,
      AddressPoolLbStrategy: 'sequence',
      SequenceLbStrategyMode: 'preemptive',
    });
    await call(client, 'UpdateCloudGtmInstanceConfigBasic', { ...config, Ttl: 60 });
    const full = await call(client, 'DescribeCloudGtmInstanceConfigFullInfo', config);
    expect(full).toMatchObject({
      ConfigId: config.ConfigId,
      InstanceId: instance.InstanceId,
      ScheduleHostname: 'web',
      ScheduleZoneName: 'example.com',
      ScheduleDomainName: 'web.example.com',
      ScheduleRrType: 'A',
      Ttl: 60,
      AddressPoolLbStrategy: 'sequence',
      SequenceLbStrategyMode: 'preemptive',
      EnableStatus: 'enable',
      HealthStatus: 'ok',
      AvailableStatus: 'available',
      AddressPools: {
        AddressPool: [
          { AddressPoolId: primary, SerialNumber: 1, Addresses: { Address: [{ AddressId: a, Address: '192.0.2.101' }] } },
          { AddressPoolId: failover, SerialNumber: 2, Addresses: { Address: [{ AddressId: b }] } },
        ],
      },
    });
    const listed = await call(client, 'ListCloudGtmInstanceConfigs', { ...instance, PageNumber: 1, PageSize: 20 });
    expect(listed).toMatchObject({
      TotalItems: 1,
      TotalPages: 1,
      InstanceConfigs: { InstanceConfig: [{ ConfigId: config.ConfigId, Ttl: 60 }] },
    });
    expect(
      (await call(client, 'ListCloudGtmInstanceConfigs', { ...instance, ScheduleDomainName: 'other.example.com' })).InstanceConfigs
        .InstanceConfig,
    ).toEqual([]);
    expect(emulator.describe()).toContain('web.example.com');

    // A pool a configuration references cannot be deleted; nor can a second A configuration for the name be made.
    const refused = await callError(client, 'DeleteCloudGtmAddressPool', { AddressPoolId: primary });
    expect([refused.code, refused.data.Message]).toEqual(['OperationDenied.AddressPoolInUse', expect.stringContaining(config.ConfigId)]);
    const twice = await callError(client, 'CreateCloudGtmInstanceConfig', {
      ...instance,
      ScheduleHostname: 'web',
      ScheduleZoneName: 'example.com',
      ScheduleRrType: 'CNAME',
    });
    expect(twice.code).toBe('OperationDenied.ConfigExists');
    const reference = await call(client, 'DescribeCloudGtmAddressPoolReference', { AddressPoolId: primary });
    expect(reference.InstanceConfigs.InstanceConfig).toEqual([expect.objectContaining({ ConfigId: config.ConfigId })]);

    await call(client, 'DeleteCloudGtmInstanceConfig', config);
    await call(client, 'DeleteCloudGtmAddressPool', { AddressPoolId: primary });
    expect((await callError(client, 'DescribeCloudGtmInstanceConfigFullInfo', config)).code).toBe('InvalidConfigId.NotFound');
  });

  it('validates the instance, the names, the record type, the TTL and the pools type', async () => {
    const v6pool = await createPool('v6', 'IPv6');
    const base = { ...instance, ScheduleHostname: 'api', ScheduleZoneName: 'example.com', ScheduleRrType: 'A' };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ InstanceId: 'gtm-cn-other' }, 'InvalidInstanceId.NotFound', 'gtm-cn-other'],
      [{ InstanceId: undefined }, 'MissingParameter', 'InstanceId'],
      [{ ScheduleRrType: 'MX' }, 'InvalidParameter', 'ScheduleRrType'],
      [{ ScheduleHostname: 'bad host' }, 'InvalidParameter', 'ScheduleHostname'],
      [{ ScheduleZoneName: 'nodot' }, 'InvalidParameter', 'ScheduleZoneName'],
      [{ ScheduleZoneName: undefined }, 'MissingParameter', 'ScheduleZoneName'],
      [{ Ttl: 0 }, 'InvalidParameter', 'Ttl'],
      [{ Ttl: 'ten' }, 'InvalidParameter', 'Ttl'],
    ];
    for (const [extra, code, field] of cases) {
      const error = await callError(client, 'CreateCloudGtmInstanceConfig', defined({ ...base, ...extra }));
      expect([error.code, error.data.Message], JSON.stringify(extra)).toEqual([code, expect.stringContaining(field)]);
    }
    const configId = (await call(client, 'CreateCloudGtmInstanceConfig', base)).ConfigId as string;
    const wrongType = await callError(client, 'ReplaceCloudGtmInstanceConfigAddressPool', {
      ...instance,
      ConfigId: configId,
      AddressPools: JSON.stringify([{ AddressPoolId: v6pool }]),
    });
    expect([wrongType.code, wrongType.data.Message]).toEqual([
      'InvalidParameter',
      expect.stringContaining('AddressPools[0].AddressPoolId'),
    ]);
    expect(
      (
        await callError(client, 'UpdateCloudGtmInstanceConfigLbStrategy', {
          ...instance,
          ConfigId: configId,
          AddressPoolLbStrategy: 'sequence',
        })
      ).code,
    ).toBe('MissingParameter');
    expect((await callError(client, 'UpdateCloudGtmInstanceConfigBasic', { ...instance, ConfigId: configId, Ttl: 100000 })).code).toBe(
      'InvalidParameter',
    );
    expect((await callError(client, 'DeleteCloudGtmInstanceConfig', { ...instance, ConfigId: 'config-nope' })).code).toBe(
      'InvalidConfigId.NotFound',
    );
    await call(client, 'DeleteCloudGtmInstanceConfig', { ...instance, ConfigId: configId });
  });
});

describe('GTM 3.0 over the RPC front door', () => {
  it('checks signatures, versions and nonces as for 2.0, and AcceptLanguage', async () => {
    const forged = await rawRequest(emulator.endpoint, 'ListCloudGtmAddresses', { PageNumber: '1', PageSize: '10' }, { secret: 'wrong' });
    expect([forged.status, forged.body.Code]).toEqual([403, 'SignatureDoesNotMatch']);
    const version = await rawRequest(emulator.endpoint, 'ListCloudGtmAddresses', {}, { version: '2018-01-01' });
    expect(version.body.Code).toBe('NoSuchVersion');
    const nonce = 'cloudgtm-nonce-1';
    expect((await rawRequest(emulator.endpoint, 'ListCloudGtmAddresses', {}, { nonce })).status).toBe(200);
    expect((await rawRequest(emulator.endpoint, 'ListCloudGtmAddresses', {}, { nonce })).body.Code).toBe('SignatureNonceUsed');
    expect((await callError(client, 'ListCloudGtmAddresses', { AcceptLanguage: 'fr-FR' })).code).toBe('InvalidParameter');
    expect((await call(client, 'ListCloudGtmAddresses', { AcceptLanguage: 'en-US' })).PageSize).toBe(20);
  });

  it('a 3.0 instance refuses the 2.0 actions, naming its generation', async () => {
    const refused = await callError(client, 'DescribeDnsGtmInstance', instance);
    expect([refused.code, refused.data.Message]).toEqual(['UnsupportedOperation', expect.stringContaining('GTM 3.0 instance')]);
    expect((await callError(client, 'NoSuchCloudGtmThing', {})).code).toBe('UnsupportedOperation');
    expect(() => emulator.state()).toThrow(/GTM 3.0 instance/);
    expect(emulator.gtmVersion).toBe('3.0');
  });

  it('ListCloudGtmInstances lists the one instance', async () => {
    const listed = await call(client, 'ListCloudGtmInstances', { PageNumber: 1, PageSize: 20 });
    expect(listed).toMatchObject({
      TotalItems: 1,
      Instances: { Instance: [{ InstanceId: instance.InstanceId, VersionCode: 'ultimate' }] },
    });
    expect((await call(client, 'ListCloudGtmInstances', { InstanceId: 'gtm-cn-other' })).TotalItems).toBe(0);
  });
});

describe('a GTM 2.0 emulator', () => {
  it('refuses the 3.0 actions, naming its generation', async () => {
    const { emulator: v2, client: v2client } = await startTestEmulator({ instanceId: 'gtm-cn-v2' });
    try {
      const refused = await callError(v2client, 'ListCloudGtmAddresses', { PageNumber: 1, PageSize: 10 });
      expect([refused.code, refused.data.Message]).toEqual(['UnsupportedOperation', expect.stringContaining('GTM 2.0 instance')]);
      expect(() => v2.cloudState()).toThrow(/GTM 2.0 instance/);
    } finally {
      await v2.stop();
    }
  });
});
