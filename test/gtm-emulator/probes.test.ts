import http from 'node:http';
import { once } from 'node:events';
import { promises as dns } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type RPCClient from '@alicloud/pop-core';
import type { GtmEmulator } from '#sandbox/gtm/index.ts';
import { call, startTestEmulator, waitFor } from './helpers.ts';

/** Failure kinds other than a bad status: no answer in time, nobody listening, a TCP check, closing a check. */

const DOMAIN = 'probe.example.com';
let emulator: GtmEmulator;
let client: RPCClient;
let hanging: http.Server;
let hangingPort = 0;
let resolver: dns.Resolver;

function address(addr: string) {
  const found = emulator
    .state()
    .pools.flatMap((pool) => pool.addresses)
    .find((a) => a.addr === addr);
  if (!found) throw new Error(`no address ${addr}`);
  return found;
}

beforeAll(async () => {
  // Accepts the connection and never answers.
  hanging = http.createServer(() => {});
  hanging.listen(0, '127.0.0.5');
  await once(hanging, 'listening');
  hangingPort = (hanging.address() as { port: number }).port;
  ({ emulator, client } = await startTestEmulator({
    probeIntervalScale: 0.02,
    // 127.0.0.6 has nobody listening on the hanging server's port.
    probePortOverride: () => hangingPort,
  }));
  resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`${emulator.dnsAddress.host}:${emulator.dnsAddress.port}`]);
  const instance = { InstanceId: emulator.instanceId };
  await call(client, 'UpdateDnsGtmInstanceGlobalConfig', { ...instance, InstanceName: 'probe', PublicUserDomainName: DOMAIN });
  const pool = await call(client, 'AddDnsGtmAddressPool', {
    ...instance,
    Name: 'probed',
    Type: 'IPV4',
    LbaStrategy: 'ALL_RR',
    Addr: ['127.0.0.5', '127.0.0.6', '192.0.2.1'].map((addr) => ({ Addr: addr, Mode: 'SMART', AttributeInfo: '{}' })),
    MonitorStatus: 'OPEN',
    ProtocolType: 'HTTP',
    Interval: 15,
    EvaluationCount: 1,
    Timeout: 1000,
    MonitorExtendInfo: '{"port":80,"path":"/"}',
  });
  await call(client, 'AddDnsGtmAccessStrategy', {
    ...instance,
    StrategyName: 'probe',
    StrategyMode: 'GEO',
    DefaultAddrPoolType: 'IPV4',
    DefaultMinAvailableAddrNum: 1,
    DefaultAddrPool: [{ Id: pool.AddrPoolId }],
  });
});

afterAll(async () => {
  await emulator.stop();
  hanging.closeAllConnections();
  await new Promise<void>((resolve) => hanging.close(() => resolve()));
});

describe('GTM emulator health checks: failures', () => {
  it('a backend that does not answer within Timeout, a refused connection and a non-loopback address all fail', async () => {
    await waitFor('three failed addresses', () =>
      ['127.0.0.5', '127.0.0.6', '192.0.2.1'].every((addr) => address(addr).healthy === false) ? true : undefined,
    );
    expect(address('127.0.0.5').lastResult).toContain('no answer within 1000 ms');
    expect(address('127.0.0.6').lastResult).toMatch(/ECONNREFUSED/);
    expect(address('192.0.2.1').lastResult).toContain('loopback');
  });

  it('with every address of the only set down, DNS fails open and returns them all', async () => {
    expect((await resolver.resolve4(DOMAIN)).sort()).toEqual(['127.0.0.5', '127.0.0.6', '192.0.2.1']);
    expect(emulator.state().strategies[0]).toMatchObject({ effective: 'DEFAULT', defaultAvailable: 0 });
  });

  it('a TCP check passes on a listening port; closing the check makes every address healthy', async () => {
    const pool = emulator.state().pools[0]!;
    await call(client, 'UpdateDnsGtmMonitor', {
      MonitorConfigId: pool.monitorConfigId,
      ProtocolType: 'TCP',
      MonitorExtendInfo: '{"port":80}',
      IspCityNode: [{ CityCode: '503', IspCode: '465' }],
    });
    await waitFor('the TCP check to pass on 127.0.0.5', () => (address('127.0.0.5').healthy ? true : undefined));
    expect(address('127.0.0.5').lastResult).toContain('connected');
    expect(address('127.0.0.6').healthy).toBe(false);
    await call(client, 'SetDnsGtmMonitorStatus', { MonitorConfigId: pool.monitorConfigId, Status: 'CLOSE' });
    expect(emulator.state().pools[0]!.addresses.every((a) => a.healthy && a.available)).toBe(true);
  });
});
