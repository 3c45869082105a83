import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { delay, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { AlidnsGtm, type AlidnsGtmOptions } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { percentEncode, rpcStringToSign, signRpc, verifyRpcSignature } from '#shared/traffic/adapters/aliyun/rpc-signature.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { GtmMonitorConfig } from '#shared/traffic/domain/gtm.ts';
import { FakeAlidns } from './alidns-msw.ts';
import { onTheWire, WIRE_ENDPOINT } from './rpc-wire.ts';

const facts = JSON.parse(readFileSync(fileURLToPath(new URL('../../docs/aliyun-api/alidns-gtm-2015-01-09.json', import.meta.url)), 'utf8'));
const KEY = { accessKeyId: 'LTAI-wire-test', accessKeySecret: 'wire-secret-do-not-log' };
const INSTANCE = 'gtm-cn-wire';
const MONITOR: GtmMonitorConfig = {
  protocol: 'HTTP',
  interval: 60,
  evaluationCount: 2,
  timeout: 5000,
  port: 80,
  host: 'web-demo.example.com',
  path: '/',
  code: 500,
};

describe('RPC signature', () => {
  it('matches the GET test vector of the facts file', () => {
    const v = facts.common.signature.testVector;
    expect(signRpc(v.httpMethod, v.params, v.accessKeySecret)).toBe(v.signature);
    expect(verifyRpcSignature(v.httpMethod, { ...v.params, Signature: v.signature }, v.accessKeySecret)).toBe(true);
    expect(verifyRpcSignature(v.httpMethod, { ...v.params, Ttl: '61', Signature: v.signature }, v.accessKeySecret)).toBe(false);
    expect(verifyRpcSignature(v.httpMethod, { ...v.params, Signature: v.signature }, `${v.accessKeySecret}&`)).toBe(false);
  });

  it('matches the POST test vector (STS token, repeat lists, special characters and CJK)', () => {
    const v = facts.common.signature.testVectorPost;
    const canonical = decodeURIComponent((v.stringToSign as string).split('&')[2] as string);
    const params = Object.fromEntries(
      canonical.split('&').map((pair) => pair.split('=').map((x) => decodeURIComponent(x)) as [string, string]),
    );
    expect(params.StrategyName).toBe("name with space+plus*star~tilde!bang'quote(paren)/slash 中文");
    expect(rpcStringToSign('POST', params)).toBe(v.stringToSign);
    expect(signRpc('POST', params, v.accessKeySecret)).toBe(v.signature);
  });

  it("percent-encodes like the API (space %20, ~ kept, * ! ' ( ) encoded)", () => {
    for (const [raw, encoded] of Object.entries(facts.common.signature.percentEncode.examples as Record<string, string>)) {
      expect(percentEncode(raw)).toBe(encoded);
    }
  });
});

describe('AlidnsGtm on the wire (msw)', () => {
  const wire = onTheWire({
    key: KEY,
    instance: INSTANCE,
    fake: (options) => new FakeAlidns(options),
    adapter: (options: AlidnsGtmOptions) => new AlidnsGtm(options),
  });
  const { adapter, sleeps } = wire;

  const addresses = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      addr: `10.0.0.${i + 1}`,
      mode: 'SMART' as const,
      weight: i + 1,
      remark: `tricenter:demo/web-demo@c${i + 1}`,
    }));

  it('sends a signed form-encoded POST with flattened Addr.N.* and health-check params', async () => {
    const gtm = adapter();
    const { poolId, monitorConfigId } = await gtm.createPool({
      name: 'tricenter.demo.web-demo.pool-beijing',
      type: 'IPV4',
      lbaStrategy: 'RATIO',
      addresses: addresses(2),
      monitor: MONITOR,
    });
    const call = wire.fake.calls.at(-1)!;
    expect(call).toMatchObject({ action: 'AddDnsGtmAddressPool', method: 'POST', query: '' });
    expect(call.params).toMatchObject({
      Version: '2015-01-09',
      Format: 'JSON',
      InstanceId: INSTANCE,
      Type: 'IPV4',
      LbaStrategy: 'RATIO',
      'Addr.1.Addr': '10.0.0.1',
      'Addr.1.Mode': 'SMART',
      'Addr.2.LbaWeight': '2',
      'Addr.2.Remark': 'tricenter:demo/web-demo@c2',
      'Addr.1.AttributeInfo': '{"lineCodeRectifyType":"AUTO","lineCode":[]}',
      MonitorStatus: 'OPEN',
      ProtocolType: 'HTTP',
      Interval: '60',
      EvaluationCount: '2',
      Timeout: '5000',
      'IspCityNode.1.IspCode': '465',
    });
    expect(JSON.parse(call.params.MonitorExtendInfo!)).toEqual({ port: 80, host: 'web-demo.example.com', path: '/', code: 500 });
    const pool = await gtm.getPool(poolId);
    expect(pool).toMatchObject({ id: poolId, type: 'IPV4', lbaStrategy: 'RATIO', monitorConfigId, monitorStatus: 'OPEN', addrCount: 2 });
    expect(pool.addresses).toEqual(addresses(2));
    expect(await gtm.getMonitor(monitorConfigId!)).toEqual(MONITOR);
  });

  it('writes strategies with DefaultAddrPool.N.* / FailoverAddrPool.N.*, and clears the failover with EMPTY', async () => {
    const gtm = adapter();
    const a = await gtm.createPool({ name: 'a', type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addresses(1) });
    const b = await gtm.createPool({ name: 'b', type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addresses(1) });
    const input = {
      name: 'tricenter.demo.web-demo',
      primaryPoolType: 'IPV4' as const,
      primary: [{ poolId: a.poolId, weight: 1 }],
      primaryLbaStrategy: 'ALL_RR' as const,
      failover: [{ poolId: b.poolId, weight: 1 }],
      failoverPoolType: 'IPV4' as const,
      failoverLbaStrategy: 'ALL_RR' as const,
      minAvailable: 1,
    };
    const { strategyId } = await gtm.createStrategy(input);
    expect(wire.fake.calls.at(-1)?.params).toMatchObject({
      'DefaultAddrPool.1.Id': a.poolId,
      'FailoverAddrPool.1.Id': b.poolId,
      StrategyMode: 'GEO',
      Lines: '["default"]',
      DefaultMinAvailableAddrNum: '1',
    });
    expect(await gtm.getStrategy(strategyId)).toEqual({ ...input, id: strategyId, accessMode: 'AUTO' });
    await gtm.updateStrategy(strategyId, { ...input, failover: [] });
    expect(wire.fake.calls.at(-1)?.params).toMatchObject({ FailoverAddrPool: 'EMPTY', AccessMode: 'AUTO' });
    expect((await gtm.getStrategy(strategyId)).failover).toEqual([]);
  });

  it('reads every page of a paged list', async () => {
    const gtm = adapter({ pageSize: 2 });
    for (let i = 0; i < 5; i++) await gtm.createPool({ name: `pool-${i}`, type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addresses(1) });
    const pools = await gtm.listPools();
    expect(pools.map((p) => p.name)).toEqual(['pool-0', 'pool-1', 'pool-2', 'pool-3', 'pool-4']);
    expect(wire.fake.calls.filter((c) => c.action === 'DescribeDnsGtmInstanceAddressPools').map((c) => c.params.PageNumber)).toEqual([
      '1',
      '2',
      '3',
    ]);
  });

  it.each([
    ['Throttling', 400],
    ['Throttling.User', 400],
    ['DnsGtmSystemBusyness', 400],
    ['ServiceUnavailable', 503],
  ])('retries %s with exponential backoff, then succeeds', async (code, status) => {
    const gtm = adapter();
    wire.fake.inject({ action: 'UpdateDnsGtmInstanceGlobalConfig', times: 2, status, code });
    await gtm.updateGlobalConfig({ ttl: 30, instanceName: 'i', userDomainName: 'web-demo.example.com' });
    expect(wire.fake.callsOf('UpdateDnsGtmInstanceGlobalConfig')).toBe(3);
    expect(sleeps).toEqual([200, 400]);
    expect(gtm.stats).toMatchObject({ writes: 3, retries: 2 });
    expect(await gtm.getGlobalConfig()).toEqual({ ttl: 30, instanceName: 'i', userDomainName: 'web-demo.example.com' });
  });

  it('retries an HTTP 5xx that pop-core would take for a success, and a non-JSON gateway page', async () => {
    const gtm = adapter();
    wire.fake.inject({ action: 'DescribeDnsGtmInstance', times: 1, status: 500 });
    wire.fake.inject({ action: 'DescribeDnsGtmInstance', times: 1, status: 502, rawBody: '<html>Bad Gateway</html>' });
    expect(await gtm.getGlobalConfig()).toEqual({ ttl: 600 });
    expect(wire.fake.callsOf('DescribeDnsGtmInstance')).toBe(3);
  });

  it('gives up after maxAttempts and reports THROTTLED with the API code and RequestId', async () => {
    const gtm = adapter({ maxAttempts: 3 });
    wire.fake.inject({ times: 10, status: 400, code: 'Throttling.User', message: 'Request was denied due to user flow control.' });
    const error = await gtm.listPools().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TricenterError);
    expect(error).toMatchObject({ code: 'THROTTLED', retryable: true });
    expect((error as Error).message).toMatch(
      /DescribeDnsGtmInstanceAddressPools failed: Throttling.User: Request was denied due to user flow control. \(RequestId [0-9A-F-]+\)/,
    );
    expect(wire.fake.calls).toHaveLength(3);
    expect(sleeps).toEqual([200, 400]);
  });

  it('does not retry a permanent error: the range check of AddDnsGtmMonitor', async () => {
    const gtm = adapter();
    const { poolId } = await gtm.createPool({ name: 'p', type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addresses(1) });
    const error = await gtm.createMonitor(poolId, { ...MONITOR, interval: 5 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION', retryable: false });
    expect((error as Error).message).toContain('InvalidParameter: The parameter Interval must be an integer in [15, 60]');
    expect(wire.fake.callsOf('AddDnsGtmMonitor')).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('maps a wrong secret to FORBIDDEN (the handler checks the signature) and never logs the secret', async () => {
    const logger = memoryLogger();
    const gtm = adapter({ credentials: { ...KEY, accessKeySecret: 'not-the-secret' }, logger });
    wire.fake.inject({ times: 1, status: 400, code: 'Throttling' });
    const error = await gtm.listPools().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'FORBIDDEN' });
    expect((error as Error).message).toContain('SignatureDoesNotMatch');
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(logger.lines)).not.toContain('not-the-secret');
    expect(JSON.stringify(logger.lines)).not.toContain(KEY.accessKeyId);
  });

  it('times out explicitly: a read is retried, a create is not (it may have happened)', async () => {
    wire.server.use(
      http.post(`${WIRE_ENDPOINT}/`, async () => {
        await delay('infinite');
        return new Response(null);
      }),
    );
    const gtm = adapter({ timeoutMs: 50, maxAttempts: 2 });
    await expect(gtm.getPool('pool-x')).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(gtm.stats.reads).toBe(2);
    await expect(gtm.createPool({ name: 'p', type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addresses(1) })).rejects.toMatchObject({
      code: 'TIMEOUT',
      retryable: false,
    });
    expect(gtm.stats.writes).toBe(1);
  });

  it('maps an unknown pool to NOT_FOUND, without retrying', async () => {
    const gtm = adapter();
    const error = await gtm.getPool('no-such-pool').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
    const lost = await gtm
      .updatePool('no-such-pool', { name: 'x', lbaStrategy: 'ALL_RR', addresses: addresses(1) })
      .catch((e: unknown) => e);
    expect(lost).toMatchObject({ code: 'NOT_FOUND', retryable: false });
  });
});
