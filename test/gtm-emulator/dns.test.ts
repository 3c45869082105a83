import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { promises as dns } from 'node:dns';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type RPCClient from '@alicloud/pop-core';
import type { GtmEmulator } from '#sandbox/gtm/index.ts';
import { GtmDnsServer } from '#sandbox/gtm/dns-server.ts';
import { GtmStore } from '#sandbox/gtm/state.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { tcpQuery, udpQuery } from './dns-queries.ts';
import { call, startTestEmulator } from './helpers.ts';

const DOMAIN = 'app.example.com';
let emulator: GtmEmulator;
let client: RPCClient;
let resolver: dns.Resolver;
let randomValues: number[] = [];

function addrs(list: Array<[string, string, number?]>) {
  return list.map(([addr, mode, weight]) => ({ Addr: addr, Mode: mode, LbaWeight: weight ?? 1, AttributeInfo: '{}' }));
}

beforeAll(async () => {
  ({ emulator, client } = await startTestEmulator({ random: () => randomValues.shift() ?? 0 }));
  resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`${emulator.dnsAddress.host}:${emulator.dnsAddress.port}`]);
  const instance = { InstanceId: emulator.instanceId };
  await call(client, 'UpdateDnsGtmInstanceGlobalConfig', {
    ...instance,
    InstanceName: 'app',
    Ttl: 30,
    PublicUserDomainName: DOMAIN,
    PublicCnameMode: 'CUSTOM',
    PublicZoneName: 'gtm-zone.example.net',
    PublicRr: 'app',
  });
  // No health checks here: ONLINE / SMART addresses are available, OFFLINE ones never are.
  const ratio = await call(client, 'AddDnsGtmAddressPool', {
    ...instance,
    Name: 'ratio',
    Type: 'IPV4',
    LbaStrategy: 'RATIO',
    Addr: addrs([
      ['192.0.2.10', 'ONLINE', 1],
      ['192.0.2.11', 'SMART', 3],
      ['192.0.2.12', 'OFFLINE', 100],
    ]),
  });
  const spare = await call(client, 'AddDnsGtmAddressPool', {
    ...instance,
    Name: 'spare',
    Type: 'IPV4',
    LbaStrategy: 'ALL_RR',
    Addr: addrs([['192.0.2.20', 'ONLINE']]),
  });
  await call(client, 'AddDnsGtmAccessStrategy', {
    ...instance,
    StrategyName: 'app',
    StrategyMode: 'GEO',
    DefaultAddrPoolType: 'IPV4',
    DefaultMinAvailableAddrNum: 2,
    DefaultAddrPool: [{ Id: ratio.AddrPoolId }],
    FailoverAddrPoolType: 'IPV4',
    FailoverAddrPool: [{ Id: spare.AddrPoolId }],
  });
});

afterAll(async () => {
  await emulator.stop();
});

describe('GTM emulator DNS server', () => {
  it('RATIO pools answer one address chosen by weight, never an OFFLINE one', async () => {
    // Weights 1 and 3 (OFFLINE excluded): a draw below 1/4 picks .10, above picks .11.
    randomValues = [0.1, 0.9];
    expect(await resolver.resolve4(DOMAIN)).toEqual(['192.0.2.10']);
    expect(await resolver.resolve4(DOMAIN)).toEqual(['192.0.2.11']);
  });

  it('answers for the CNAME access domain too, case-insensitively', async () => {
    expect((await resolver.resolve4('APP.gtm-zone.example.net')).length).toBe(1);
  });

  it('other names get NXDOMAIN; AAAA for the domain gets NOERROR without an answer', async () => {
    await expect(resolver.resolve4('other.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve6(DOMAIN)).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it('echoes the id and the question, sets QR and AA, copies RD, and uses the TTL', async () => {
    const reply = await udpQuery(emulator.dnsAddress, {
      type: 'query',
      id: 4242,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: DOMAIN, class: 'IN' }],
    });
    expect(reply).toMatchObject({ id: 4242, type: 'response', flag_qr: true, flag_aa: true, flag_rd: true, rcode: 'NOERROR' });
    expect(reply.questions).toEqual([{ type: 'A', name: DOMAIN, class: 'IN' }]);
    expect(reply.answers?.[0]).toMatchObject({ type: 'A', name: DOMAIN, ttl: 30, class: 'IN' });
    const nx = await udpQuery(emulator.dnsAddress, {
      type: 'query',
      id: 7,
      questions: [{ type: 'A', name: 'nope.example.com', class: 'IN' }],
    });
    expect(nx).toMatchObject({ id: 7, rcode: 'NXDOMAIN', flag_rd: false, answers: [] });
    const mx = await udpQuery(emulator.dnsAddress, { type: 'query', id: 8, questions: [{ type: 'MX', name: DOMAIN, class: 'IN' }] });
    expect(mx).toMatchObject({ id: 8, rcode: 'NOERROR', answers: [] });
  });

  it('answers over TCP on the same port', async () => {
    const reply = await tcpQuery(emulator.dnsAddress, { type: 'query', id: 99, questions: [{ type: 'A', name: DOMAIN, class: 'IN' }] });
    expect(reply).toMatchObject({ id: 99, rcode: 'NOERROR' });
    expect(reply.answers).toHaveLength(1);
  });

  it('refuses other opcodes with NOTIMP', async () => {
    const reply = await udpQuery(emulator.dnsAddress, {
      type: 'query',
      id: 5,
      flags: 2 << 11,
      questions: [{ type: 'A', name: DOMAIN, class: 'IN' }],
    });
    expect(reply).toMatchObject({ id: 5, rcode: 'NOTIMP' });
  });

  it('switches to the failover set when fewer than DefaultMinAvailableAddrNum addresses are available', async () => {
    const strategyId = emulator.state().strategies[0]!.id;
    const ratioPool = emulator.state().pools.find((pool) => pool.name === 'ratio')!;
    await call(client, 'UpdateDnsGtmAddressPool', {
      AddrPoolId: ratioPool.id,
      LbaStrategy: 'RATIO',
      Addr: addrs([
        ['192.0.2.10', 'ONLINE'],
        ['192.0.2.11', 'OFFLINE'],
      ]),
    });
    expect(await resolver.resolve4(DOMAIN)).toEqual(['192.0.2.20']);
    expect(emulator.state().strategies[0]).toMatchObject({
      id: strategyId,
      effective: 'FAILOVER',
      defaultAvailable: 1,
      failoverAvailable: 1,
    });
    // Forced back to the primary set by AccessMode DEFAULT.
    await call(client, 'SetDnsGtmAccessMode', { StrategyId: strategyId, AccessMode: 'DEFAULT' });
    expect(await resolver.resolve4(DOMAIN)).toEqual(['192.0.2.10']);
  });
});

describe('GTM emulator DNS server ports', () => {
  const silent = silentLogger;

  it('refuses a port asked for explicitly whose TCP side is taken, leaving no UDP socket behind', async () => {
    const blocker = net.createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(
        GtmDnsServer.start({ store: new GtmStore('gtm-test', 0), host: '127.0.0.1', port, logger: silent }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      // The UDP socket of the failed attempt was closed: the same UDP port can be bound again.
      const udp = dgram.createSocket('udp4');
      udp.bind(port, '127.0.0.1');
      await once(udp, 'listening');
      udp.close();
    } finally {
      blocker.close();
    }
  });

  it('with any port, ends with UDP and TCP on one port number', async () => {
    const server = await GtmDnsServer.start({ store: new GtmStore('gtm-test', 0), host: '127.0.0.1', port: 0, logger: silent });
    try {
      const { port } = server.address();
      const socket = net.connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.destroy();
    } finally {
      await server.stop();
    }
  });
});
