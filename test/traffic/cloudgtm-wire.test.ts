/**
 * AlidnsCloudGtm on the wire (msw): what each action sends (a signed form-encoded POST, list
 * parameters as one JSON string each, as the SDK's models say), how answers are read, paging,
 * and the shared retry / error rules (alidns-rpc.ts) applied to the 3.0 actions.
 */
import { describe, expect, it } from 'vitest';
import { AlidnsCloudGtm, type AlidnsCloudGtmOptions } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import type { Gtm3MonitorTemplateInput } from '#shared/traffic/domain/gtm3.ts';
import { FakeCloudGtm } from './cloudgtm-msw.ts';
import { onTheWire } from './rpc-wire.ts';

const KEY = { accessKeyId: 'LTAI-wire3', accessKeySecret: 'wire3-secret-do-not-log' };
const INSTANCE = 'gtm-cn-wire3';
const TEMPLATE: Gtm3MonitorTemplateInput = {
  name: 'tricenter.demo.web-demo.IPv4-http',
  protocol: 'http',
  ipVersion: 'IPv4',
  interval: 60,
  timeout: 5000,
  evaluationCount: 2,
  failureRate: 50,
  host: 'web-demo.example.com',
  path: '/',
  code: 500,
  nodes: [{ cityCode: '503', ispCode: '465' }],
};

describe('AlidnsCloudGtm on the wire (msw)', () => {
  const wire = onTheWire({
    key: KEY,
    instance: INSTANCE,
    fake: (options) => new FakeCloudGtm(options),
    adapter: (options: AlidnsCloudGtmOptions) => new AlidnsCloudGtm(options),
  });
  const { adapter, sleeps } = wire;

  it('sends templates with ExtendInfo and IspCityNodes as JSON strings, in a signed POST body', async () => {
    const gtm = adapter();
    await gtm.createMonitorTemplate(TEMPLATE);
    const call = wire.fake.calls.at(-1)!;
    expect(call).toMatchObject({ action: 'CreateCloudGtmMonitorTemplate', method: 'POST', query: '' });
    expect(call.params).toMatchObject({
      Version: '2015-01-09',
      SignatureMethod: 'HMAC-SHA1',
      Name: TEMPLATE.name,
      Protocol: 'http',
      IpVersion: 'IPv4',
      Interval: '60',
      Timeout: '5000',
      EvaluationCount: '2',
      FailureRate: '50',
    });
    expect(JSON.parse(call.params.ExtendInfo!)).toEqual({ host: 'web-demo.example.com', path: '/', code: 500 });
    expect(JSON.parse(call.params.IspCityNodes!)).toEqual([{ CityCode: '503', IspCode: '465' }]);
    expect(call.params.AccessKeySecret).toBeUndefined();
    expect(JSON.stringify(call.params)).not.toContain(KEY.accessKeySecret);
  });

  it('sends HealthTasks, Addresses and AddressPools as JSON strings with the models’ field names', async () => {
    const gtm = adapter();
    const { templateId } = await gtm.createMonitorTemplate(TEMPLATE);
    const { addressId } = await gtm.createAddress({
      name: 'tricenter.demo.web-demo.pool-beijing.127.0.0.2',
      address: '127.0.0.2',
      type: 'IPv4',
      remark: 'tricenter:demo/web-demo@cluster1-beijing',
      enableStatus: 'enable',
      availableMode: 'auto',
      healthJudgement: 'any_ok',
      healthTasks: [{ templateId, port: 80 }],
    });
    expect(wire.fake.calls.at(-1)?.params).toMatchObject({
      Action: 'CreateCloudGtmAddress',
      Type: 'IPv4',
      AvailableMode: 'auto',
      EnableStatus: 'enable',
      HealthJudgement: 'any_ok',
      HealthTasks: JSON.stringify([{ TemplateId: templateId, Port: 80 }]),
    });
    const { poolId } = await gtm.createPool({ name: 'p', type: 'IPv4', remark: 'tricenter:demo/web-demo', healthJudgement: 'any_ok' });
    await gtm.replacePoolAddresses(poolId, [{ addressId, serialNumber: 1, weight: 7 }]);
    expect(JSON.parse(wire.fake.calls.at(-1)!.params.Addresses!)).toEqual([
      { AddressId: addressId, SerialNumber: 1, WeightValue: 7, RequestSource: ['default'] },
    ]);
    const { configId } = await gtm.createInstanceConfig({ hostname: 'web-demo', zone: 'example.com', rrType: 'A', ttl: 60, remark: 'r' });
    expect(wire.fake.calls.at(-1)?.params).toMatchObject({
      ScheduleZoneMode: 'custom',
      ScheduleRrType: 'A',
      Ttl: '60',
      InstanceId: INSTANCE,
    });
    await gtm.replaceInstanceConfigPools(configId, [{ poolId, serialNumber: 1, weight: 1 }]);
    expect(JSON.parse(wire.fake.calls.at(-1)!.params.AddressPools!)).toEqual([
      { AddressPoolId: poolId, SerialNumber: 1, WeightValue: 1, RequestSource: ['default'] },
    ]);
    await gtm.setInstanceConfigLbStrategy(configId, 'sequence', 'preemptive');
    expect(wire.fake.calls.at(-1)?.params).toMatchObject({ AddressPoolLbStrategy: 'sequence', SequenceLbStrategyMode: 'preemptive' });
    await gtm.setPoolLbStrategy(poolId, 'round_robin');
    expect(wire.fake.calls.at(-1)?.params.SequenceLbStrategyMode).toBeUndefined();
  });

  it('pages with PageNumber / PageSize until TotalPages', async () => {
    const gtm = adapter({ pageSize: 2 });
    for (let i = 0; i < 5; i++) await gtm.createPool({ name: `p${i}`, type: 'IPv4', remark: '', healthJudgement: 'any_ok' });
    wire.fake.calls.length = 0;
    expect((await gtm.listPools()).map((p) => p.name)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    expect(wire.fake.calls.map((c) => `${c.params.PageNumber}/${c.params.PageSize}`)).toEqual(['1/2', '2/2', '3/2']);
  });

  it('retries throttling on writes with backoff, and never retries a write that timed out', async () => {
    const gtm = adapter({ maxAttempts: 3 });
    wire.fake.inject({ action: 'CreateCloudGtmAddressPool', times: 2, status: 400, code: 'Throttling.User' });
    await gtm.createPool({ name: 'p', type: 'IPv4', remark: '', healthJudgement: 'any_ok' });
    expect(wire.fake.callsOf('CreateCloudGtmAddressPool')).toBe(3);
    expect(sleeps).toEqual([200, 400]);
    expect(gtm.stats).toMatchObject({ writes: 3, retries: 2 });

    wire.fake.inject({ action: 'CreateCloudGtmAddressPool', times: 3, status: 400, code: 'Throttling' });
    await expect(gtm.createPool({ name: 'q', type: 'IPv4', remark: '', healthJudgement: 'any_ok' })).rejects.toMatchObject({
      code: 'THROTTLED',
      retryable: true,
    });
  });

  it('maps the API’s refusals: unknown id NOT_FOUND, a referenced address CONFLICT, a bad value VALIDATION', async () => {
    const gtm = adapter({ maxAttempts: 1 });
    await expect(gtm.deleteAddress('addr-none')).rejects.toMatchObject({ code: 'NOT_FOUND', retryable: false });
    const { addressId } = await gtm.createAddress({
      name: 'a',
      address: '127.0.0.2',
      type: 'IPv4',
      remark: '',
      enableStatus: 'enable',
      availableMode: 'auto',
      healthJudgement: 'any_ok',
      healthTasks: [],
    });
    const { poolId } = await gtm.createPool({ name: 'p', type: 'IPv4', remark: '', healthJudgement: 'any_ok' });
    await gtm.replacePoolAddresses(poolId, [{ addressId, serialNumber: 1, weight: 1 }]);
    await expect(gtm.deleteAddress(addressId)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(gtm.createMonitorTemplate({ ...TEMPLATE, failureRate: 30 })).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(gtm.replacePoolAddresses(poolId, [{ addressId, serialNumber: 1, weight: 101 }])).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('reads the 3.0 objects back as records: health, availability and the config’s domain', async () => {
    const gtm = adapter();
    const { addressId } = await gtm.createAddress({
      name: 'a',
      address: '127.0.0.2',
      type: 'IPv4',
      remark: 'x',
      enableStatus: 'enable',
      availableMode: 'auto',
      healthJudgement: 'any_ok',
      healthTasks: [{ templateId: (await gtm.createMonitorTemplate(TEMPLATE)).templateId, port: 80 }],
    });
    wire.fake.health.set(addressId, 'exceptional');
    expect((await gtm.listAddresses())[0]).toMatchObject({ id: addressId, healthStatus: 'exceptional', availableStatus: 'unavailable' });
    await gtm.createInstanceConfig({ hostname: '@', zone: 'example.com', rrType: 'A', ttl: 30, remark: '' });
    expect((await gtm.listInstanceConfigs())[0]).toMatchObject({
      domain: 'example.com',
      hostname: '@',
      ttl: 30,
      lbStrategy: 'round_robin',
    });
  });
});
