import { promises as dns } from 'node:dns';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type RPCClient from '@alicloud/pop-core';
import type { GtmEmulator, HealthChange } from '#sandbox/gtm/index.ts';
import { call, startBackend, startTestEmulator, waitFor, type SwitchableBackend } from './helpers.ts';

/**
 * The fixture README's step 4 on the emulator: pools and checks as examples/web-demo/traffic.yaml
 * configures them (interval 60 s, evaluation count 2, TTL 60), probe intervals scaled down, real
 * HTTP backends on 127.0.0.2-4 switched between 200 and 503, answers read through DNS.
 */

const DOMAIN = 'web-demo.example.com';
const BEIJING_1 = '127.0.0.2';
const BEIJING_2 = '127.0.0.3';
const HANGZHOU = '127.0.0.4';
// 60 s x 0.005 = 300 ms between checks.
const SCALE = 0.005;

let emulator: GtmEmulator;
let client: RPCClient;
let resolver: dns.Resolver;
const backends = new Map<string, SwitchableBackend>();
const changes: HealthChange[] = [];

function addressesOf(addrs: string[]) {
  return addrs.map((addr) => ({ Addr: addr, Mode: 'SMART', LbaWeight: 1, AttributeInfo: '{"lineCodeRectifyType":"AUTO","lineCode":[]}' }));
}

const healthCheck = {
  MonitorStatus: 'OPEN',
  ProtocolType: 'HTTP',
  Interval: 60,
  EvaluationCount: 2,
  Timeout: 5000,
  MonitorExtendInfo: JSON.stringify({ host: DOMAIN, path: '/healthz', port: 80, code: 499, failureRate: 50 }),
  IspCityNode: [{ CityCode: '503', IspCode: '465' }],
};

function addressState(addr: string) {
  const found = emulator
    .state()
    .pools.flatMap((pool) => pool.addresses)
    .find((address) => address.addr === addr);
  if (!found) throw new Error(`address ${addr} is in no pool`);
  return found;
}

/** Waits until every address has been checked since `since` and has the health wanted. */
function waitForHealth(wanted: Record<string, boolean>, since: number) {
  return waitFor(`health ${JSON.stringify(wanted)}`, () =>
    Object.entries(wanted).every(([addr, healthy]) => {
      const state = addressState(addr);
      return state.healthy === healthy && (state.lastCheckedAt ?? 0) >= since;
    })
      ? true
      : undefined,
  );
}

async function resolveA(): Promise<Array<{ address: string; ttl: number }>> {
  return resolver.resolve4(DOMAIN, { ttl: true });
}

async function answeredSet(): Promise<string[]> {
  return (await resolveA()).map((record) => record.address).sort();
}

beforeAll(async () => {
  for (const [addr, name] of [
    [BEIJING_1, 'cluster1-beijing'],
    [BEIJING_2, 'cluster2-beijing'],
    [HANGZHOU, 'cluster1-hangzhou'],
  ] as const) {
    backends.set(addr, await startBackend(addr, name));
  }
  ({ emulator, client } = await startTestEmulator({
    probeIntervalScale: SCALE,
    // The checks are configured for port 80; the test backends listen on free ports.
    probePortOverride: (addr) => backends.get(addr)?.port ?? 1,
  }));
  emulator.onHealthChange((change) => changes.push(change));
  resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`${emulator.dnsAddress.host}:${emulator.dnsAddress.port}`]);

  const instance = { InstanceId: emulator.instanceId };
  await call(client, 'UpdateDnsGtmInstanceGlobalConfig', { ...instance, InstanceName: 'web-demo', Ttl: 60, PublicUserDomainName: DOMAIN });
  const beijing = await call(client, 'AddDnsGtmAddressPool', {
    ...instance,
    Name: 'pool-beijing',
    Type: 'IPV4',
    LbaStrategy: 'ALL_RR',
    Addr: addressesOf([BEIJING_1, BEIJING_2]),
    ...healthCheck,
  });
  const hangzhou = await call(client, 'AddDnsGtmAddressPool', {
    ...instance,
    Name: 'pool-hangzhou',
    Type: 'IPV4',
    LbaStrategy: 'ALL_RR',
    Addr: addressesOf([HANGZHOU]),
    ...healthCheck,
  });
  await call(client, 'AddDnsGtmAccessStrategy', {
    ...instance,
    StrategyName: 'web-demo',
    StrategyMode: 'GEO',
    Lines: '["default"]',
    DefaultAddrPoolType: 'IPV4',
    DefaultLbaStrategy: 'ALL_RR',
    DefaultMinAvailableAddrNum: 1,
    DefaultAddrPool: [{ Id: beijing.AddrPoolId, LbaWeight: 1 }],
    FailoverAddrPoolType: 'IPV4',
    FailoverLbaStrategy: 'ALL_RR',
    FailoverAddrPool: [{ Id: hangzhou.AddrPoolId, LbaWeight: 1 }],
  });
});

afterAll(async () => {
  await emulator?.stop();
  for (const backend of backends.values()) await backend.close();
});

describe('GTM emulator: health checks drive DNS failover', () => {
  it('probes each address with the configured Host header and path, on the scaled interval', async () => {
    await waitForHealth({ [BEIJING_1]: true, [BEIJING_2]: true, [HANGZHOU]: true }, 0);
    await waitFor('a second round of checks', () => ((backends.get(BEIJING_1)?.requests.length ?? 0) >= 2 ? true : undefined));
    expect(backends.get(BEIJING_1)?.requests[0]).toEqual({ host: DOMAIN, path: '/healthz' });
    expect(emulator.state().monitors.map((monitor) => monitor.probeIntervalMs)).toEqual([300, 300]);
    expect(emulator.describe()).toContain('scaled by 0.005');
  });

  it('all healthy: both Beijing addresses, with the TTL, in rotating order', async () => {
    const first = await resolveA();
    expect(first.map((r) => r.address).sort()).toEqual([BEIJING_1, BEIJING_2]);
    expect(first.every((record) => record.ttl === 60)).toBe(true);
    const second = await resolveA();
    expect(second.map((r) => r.address)).toEqual([...first.map((r) => r.address)].reverse());
  });

  it('cluster1-beijing fails: after evaluationCount failed checks only cluster2-beijing is answered', async () => {
    const since = Date.now();
    backends.get(BEIJING_1)!.status = 503;
    await waitForHealth({ [BEIJING_1]: false, [BEIJING_2]: true }, since);
    expect(addressState(BEIJING_1)).toMatchObject({ consecutiveFailures: 2, lastResult: expect.stringContaining('503') });
    expect(await answeredSet()).toEqual([BEIJING_2]);
    const pool = emulator.state().pools.find((p) => p.name === 'pool-beijing')!;
    const described = await call(client, 'DescribeDnsGtmInstanceAddressPool', { AddrPoolId: pool.id });
    expect(described.Addrs.Addr.map((a: { Addr: string; AlertStatus: string }) => [a.Addr, a.AlertStatus])).toEqual([
      [BEIJING_1, 'ALERT'],
      [BEIJING_2, 'OK'],
    ]);
    expect(changes).toContainEqual(expect.objectContaining({ addr: BEIJING_1, healthy: false }));
  });

  it('both Beijing clusters fail: the failover pool (Hangzhou) is answered', async () => {
    const since = Date.now();
    backends.get(BEIJING_2)!.status = 503;
    await waitForHealth({ [BEIJING_2]: false }, since);
    expect(await answeredSet()).toEqual([HANGZHOU]);
    const strategyId = emulator.state().strategies[0]!.id;
    const strategy = await call(client, 'DescribeDnsGtmAccessStrategy', { StrategyId: strategyId });
    expect(strategy).toMatchObject({
      EffectiveAddrPoolGroupType: 'FAILOVER',
      DefaultAddrPoolGroupStatus: 'NOT_AVAILABLE',
      DefaultAvailableAddrNum: 0,
      FailoverAddrPoolGroupStatus: 'AVAILABLE',
      FailoverAvailableAddrNum: 1,
    });
    const status = await call(client, 'DescribeDnsGtmInstanceStatus', { InstanceId: emulator.instanceId });
    expect(status).toMatchObject({
      AddrAvailableNum: 1,
      AddrNotAvailableNum: 2,
      SwitchToFailoverStrategyNum: 1,
      AddrPoolGroupNotAvailableNum: 1,
    });
  });

  it('healed: after evaluationCount good checks traffic returns to Beijing', async () => {
    const since = Date.now();
    backends.get(BEIJING_1)!.status = 200;
    backends.get(BEIJING_2)!.status = 200;
    await waitForHealth({ [BEIJING_1]: true, [BEIJING_2]: true }, since);
    expect(addressState(BEIJING_1).consecutiveSuccesses).toBeGreaterThanOrEqual(2);
    expect(await answeredSet()).toEqual([BEIJING_1, BEIJING_2]);
    expect(changes.filter((change) => change.addr === BEIJING_1).map((change) => change.healthy)).toEqual([false, true]);
  });

  it('a status not above the `code` threshold passes (404 with code 499)', async () => {
    const since = Date.now();
    backends.get(HANGZHOU)!.status = 404;
    await waitFor('checks of the 404 backend', () =>
      (addressState(HANGZHOU).lastCheckedAt ?? 0) > since && addressState(HANGZHOU).lastResult?.includes('404') ? true : undefined,
    );
    await waitFor('two checks of the 404 backend', () => (addressState(HANGZHOU).consecutiveSuccesses >= 2 ? true : undefined));
    expect(addressState(HANGZHOU).healthy).toBe(true);
    backends.get(HANGZHOU)!.status = 200;
  });

  it('dig gets the same answer, when dig is installed', async (context) => {
    const dig = await promisify(execFile)('which', ['dig']).catch(() => undefined);
    if (!dig) {
      context.skip();
      return;
    }
    const { stdout } = await promisify(execFile)('dig', [
      `@${emulator.dnsAddress.host}`,
      '-p',
      String(emulator.dnsAddress.port),
      DOMAIN,
      'A',
      '+short',
      '+time=2',
      '+tries=2',
    ]);
    expect(stdout.trim().split('\n').sort()).toEqual([BEIJING_1, BEIJING_2]);
  });
});
