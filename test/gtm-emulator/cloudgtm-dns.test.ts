import { promises as dns } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type RPCClient from '@alicloud/pop-core';
import type { GtmEmulator } from '#sandbox/gtm/index.ts';
import { udpQuery } from './dns-queries.ts';
import { call, startTestEmulator } from './helpers.ts';

/**
 * DNS answers of a GTM 3.0 instance configuration, read through the emulator's DNS server, per the
 * configuration's pool strategy and each pool's address strategy. Availability is switched by hand
 * here (manual mode, enable status), so no answer depends on timing; cloudgtm-failover.test.ts
 * drives the same answers by real health checks.
 */

let emulator: GtmEmulator;
let client: RPCClient;
let instance: { InstanceId: string };
let randomValues: number[] = [];

async function query(name: string, type: 'A' | 'AAAA' = 'A'): Promise<Array<{ address: string; ttl: number }>> {
  // A resolver per query: nothing may be cached between two answers.
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`${emulator.dnsAddress.host}:${emulator.dnsAddress.port}`]);
  return type === 'A' ? resolver.resolve4(name, { ttl: true }) : resolver.resolve6(name, { ttl: true });
}

async function answer(name: string): Promise<string[]> {
  return (await query(name)).map((r) => r.address);
}

async function address(addr: string, type = 'IPv4'): Promise<string> {
  const created = await call(client, 'CreateCloudGtmAddress', {
    Name: addr,
    Address: addr,
    Type: type,
    AvailableMode: 'auto',
    EnableStatus: 'enable',
    HealthJudgement: 'any_ok',
  });
  return created.AddressId as string;
}

async function pool(
  name: string,
  members: Array<{ id: string; serial?: number; weight?: number }>,
  options: { type?: string; strategy?: string; mode?: string; judgement?: string } = {},
): Promise<string> {
  const id = (
    await call(client, 'CreateCloudGtmAddressPool', {
      AddressPoolName: name,
      AddressPoolType: options.type ?? 'IPv4',
      HealthJudgement: options.judgement ?? 'any_ok',
    })
  ).AddressPoolId as string;
  await call(client, 'ReplaceCloudGtmAddressPoolAddress', {
    AddressPoolId: id,
    Addresses: JSON.stringify(
      members.map((m, i) => ({ AddressId: m.id, SerialNumber: m.serial ?? i + 1, WeightValue: m.weight ?? 1, RequestSource: ['default'] })),
    ),
  });
  if (options.strategy)
    await call(client, 'UpdateCloudGtmAddressPoolLbStrategy', {
      AddressPoolId: id,
      AddressLbStrategy: options.strategy,
      ...(options.mode ? { SequenceLbStrategyMode: options.mode } : {}),
    });
  return id;
}

async function config(
  hostname: string,
  pools: Array<{ id: string; serial?: number; weight?: number }>,
  strategy: { lb: string; mode?: string },
  rrType = 'A',
): Promise<{ InstanceId: string; ConfigId: string }> {
  const created = await call(client, 'CreateCloudGtmInstanceConfig', {
    ...instance,
    ScheduleHostname: hostname,
    ScheduleZoneName: 'example.com',
    ScheduleRrType: rrType,
    Ttl: 30,
  });
  const ref = { ...instance, ConfigId: created.ConfigId as string };
  await call(client, 'ReplaceCloudGtmInstanceConfigAddressPool', {
    ...ref,
    AddressPools: JSON.stringify(
      pools.map((p, i) => ({ AddressPoolId: p.id, SerialNumber: p.serial ?? i + 1, WeightValue: p.weight ?? 1 })),
    ),
  });
  await call(client, 'UpdateCloudGtmInstanceConfigLbStrategy', {
    ...ref,
    AddressPoolLbStrategy: strategy.lb,
    ...(strategy.mode ? { SequenceLbStrategyMode: strategy.mode } : {}),
  });
  return ref;
}

const setManual = (id: string, status: 'available' | 'unavailable') =>
  call(client, 'UpdateCloudGtmAddressManualAvailableStatus', { AddressId: id, AvailableMode: 'manual', ManualAvailableStatus: status });

beforeAll(async () => {
  ({ emulator, client } = await startTestEmulator({
    gtmVersion: '3.0',
    instanceId: 'gtm-cn-dns3',
    random: () => randomValues.shift() ?? 0,
  }));
  instance = { InstanceId: emulator.instanceId };
});
afterAll(async () => {
  await emulator.stop();
});

describe('GTM 3.0 DNS: pool strategies of the instance configuration', () => {
  it('sequence, preemptive: the first available pool; back to it as soon as it recovers', async () => {
    const [b1, b2, h1] = [await address('10.1.0.1'), await address('10.1.0.2'), await address('10.1.0.3')];
    const beijing = await pool('seq-beijing', [{ id: b1 }, { id: b2 }]);
    const hangzhou = await pool('seq-hangzhou', [{ id: h1 }]);
    await config('seq', [{ id: beijing }, { id: hangzhou }], { lb: 'sequence', mode: 'preemptive' });
    const first = await query('seq.example.com');
    expect(first.map((r) => r.address).sort()).toEqual(['10.1.0.1', '10.1.0.2']);
    expect(first.every((r) => r.ttl === 30)).toBe(true);
    // Round robin inside the pool: the order rotates per query.
    const second = await answer('seq.example.com');
    expect(second).toEqual([...first.map((r) => r.address)].reverse());

    await setManual(b1, 'unavailable');
    expect(await answer('seq.example.com')).toEqual(['10.1.0.2']);
    await setManual(b2, 'unavailable');
    expect(await answer('seq.example.com')).toEqual(['10.1.0.3']);
    await setManual(b1, 'available');
    expect(await answer('seq.example.com')).toEqual(['10.1.0.1']);
    const state = emulator.cloudState().configs.find((c) => c.domain === 'seq.example.com');
    expect(state).toMatchObject({ answer: ['10.1.0.1'], answerPools: [beijing], healthStatus: 'ok', failedOpen: false });
  });

  it('sequence, non-preemptive: stays on the pool it failed over to until that one fails', async () => {
    const [p, f] = [await address('10.2.0.1'), await address('10.2.0.2')];
    const primary = await pool('np-primary', [{ id: p }]);
    const failover = await pool('np-failover', [{ id: f }]);
    await config('np', [{ id: primary }, { id: failover }], { lb: 'sequence', mode: 'non_preemptive' });
    expect(await answer('np.example.com')).toEqual(['10.2.0.1']);
    await setManual(p, 'unavailable');
    expect(await answer('np.example.com')).toEqual(['10.2.0.2']);
    await setManual(p, 'available');
    expect(await answer('np.example.com')).toEqual(['10.2.0.2']);
    await setManual(f, 'unavailable');
    expect(await answer('np.example.com')).toEqual(['10.2.0.1']);
  });

  it('weight: one pool per query, drawn by WeightValue', async () => {
    const [a, b] = [await address('10.3.0.1'), await address('10.3.0.2')];
    const light = await pool('w-light', [{ id: a }]);
    const heavy = await pool('w-heavy', [{ id: b }]);
    await config(
      'weighted',
      [
        { id: light, weight: 1 },
        { id: heavy, weight: 3 },
      ],
      { lb: 'weight' },
    );
    // Total weight 4: a draw below 1/4 lands on the light pool, above it on the heavy one.
    randomValues = [0.1, 0.3, 0.9];
    expect(await answer('weighted.example.com')).toEqual(['10.3.0.1']);
    expect(await answer('weighted.example.com')).toEqual(['10.3.0.2']);
    expect(await answer('weighted.example.com')).toEqual(['10.3.0.2']);
    // An unavailable pool is never drawn.
    await setManual(b, 'unavailable');
    randomValues = [0.9];
    expect(await answer('weighted.example.com')).toEqual(['10.3.0.1']);
  });

  it('round robin: every available pool, every available address', async () => {
    const [a, b, c] = [await address('10.4.0.1'), await address('10.4.0.2'), await address('10.4.0.3')];
    const one = await pool('rr-1', [{ id: a }, { id: b }]);
    const two = await pool('rr-2', [{ id: c }]);
    await config('rr', [{ id: one }, { id: two }], { lb: 'round_robin' });
    expect((await answer('rr.example.com')).sort()).toEqual(['10.4.0.1', '10.4.0.2', '10.4.0.3']);
    await call(client, 'UpdateCloudGtmAddressEnableStatus', { AddressId: b, EnableStatus: 'disable' });
    expect((await answer('rr.example.com')).sort()).toEqual(['10.4.0.1', '10.4.0.3']);
    await call(client, 'UpdateCloudGtmAddressPoolEnableStatus', { AddressPoolId: two, EnableStatus: 'disable' });
    expect(await answer('rr.example.com')).toEqual(['10.4.0.1']);
  });
});

describe('GTM 3.0 DNS: address strategies inside a pool, and pool health', () => {
  it('a sequence pool answers its smallest available serial number; a weight pool one address by weight', async () => {
    const [a, b, c] = [await address('10.5.0.1'), await address('10.5.0.2'), await address('10.5.0.3')];
    const seq = await pool(
      'in-seq',
      [
        { id: a, serial: 2 },
        { id: b, serial: 1 },
      ],
      { strategy: 'sequence', mode: 'preemptive' },
    );
    await config('inseq', [{ id: seq }], { lb: 'sequence', mode: 'preemptive' });
    expect(await answer('inseq.example.com')).toEqual(['10.5.0.2']);
    await setManual(b, 'unavailable');
    expect(await answer('inseq.example.com')).toEqual(['10.5.0.1']);

    const weighted = await pool(
      'in-weight',
      [
        { id: c, weight: 9 },
        { id: a, weight: 1 },
      ],
      { strategy: 'weight' },
    );
    await config('inweight', [{ id: weighted }], { lb: 'sequence', mode: 'preemptive' });
    randomValues = [0.5, 0.95];
    expect(await answer('inweight.example.com')).toEqual(['10.5.0.3']);
    expect(await answer('inweight.example.com')).toEqual(['10.5.0.1']);
  });

  it('a pool whose HealthJudgement fails is skipped; with every pool down the first non-empty one answers (fail open)', async () => {
    const ids = [await address('10.6.0.1'), await address('10.6.0.2'), await address('10.6.0.3')];
    const [x, y, z] = ids as [string, string, string];
    const half = await pool('judged', [{ id: x }, { id: y }], { judgement: 'p70_ok' });
    const backup = await pool('backup', [{ id: z }]);
    await config('judged', [{ id: half }, { id: backup }], { lb: 'sequence', mode: 'preemptive' });
    expect((await answer('judged.example.com')).sort()).toEqual(['10.6.0.1', '10.6.0.2']);
    // One of two available is 50 %: below p70_ok, the pool is unavailable.
    await setManual(x, 'unavailable');
    expect(await answer('judged.example.com')).toEqual(['10.6.0.3']);
    expect(emulator.cloudState().pools.find((p) => p.id === half)).toMatchObject({ healthStatus: 'exceptional', available: false });
    await setManual(z, 'unavailable');
    expect((await answer('judged.example.com')).sort()).toEqual(['10.6.0.1', '10.6.0.2']);
    expect(emulator.cloudState().configs.find((c) => c.domain === 'judged.example.com')).toMatchObject({
      healthStatus: 'exceptional',
      failedOpen: true,
    });
    // Disabled addresses are not handed out even then.
    await call(client, 'UpdateCloudGtmAddressEnableStatus', { AddressId: x, EnableStatus: 'disable' });
    expect(await answer('judged.example.com')).toEqual(['10.6.0.2']);
  });
});

describe('GTM 3.0 DNS: names and record types', () => {
  it('AAAA configurations answer AAAA, a CNAME configuration answers a CNAME, other names NXDOMAIN, a disabled configuration nothing', async () => {
    const v6 = await address('2001:db8::10', 'IPv6');
    const v6pool = await pool('v6', [{ id: v6 }], { type: 'IPv6' });
    await config('dual', [{ id: v6pool }], { lb: 'round_robin' }, 'AAAA');
    const v4 = await address('10.7.0.1');
    const v4pool = await pool('dual-v4', [{ id: v4 }]);
    const dualA = await config('dual', [{ id: v4pool }], { lb: 'round_robin' }, 'A');
    expect((await query('dual.example.com', 'AAAA')).map((r) => r.address)).toEqual(['2001:db8::10']);
    expect(await answer('dual.example.com')).toEqual(['10.7.0.1']);

    const origin = await address('origin.example.net', 'domain');
    const cnamePool = await pool('cname', [{ id: origin }], { type: 'domain' });
    await config('alias', [{ id: cnamePool }], { lb: 'round_robin' }, 'CNAME');
    const reply = await udpQuery(emulator.dnsAddress, {
      type: 'query',
      id: 7,
      questions: [{ type: 'A', name: 'alias.example.com', class: 'IN' }],
    });
    expect(reply.answers).toEqual([
      expect.objectContaining({ type: 'CNAME', name: 'alias.example.com', data: 'origin.example.net', ttl: 30 }),
    ]);

    await expect(answer('nobody.example.com')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await call(client, 'UpdateCloudGtmInstanceConfigEnableStatus', { ...dualA, EnableStatus: 'disable' });
    await expect(answer('dual.example.com')).rejects.toMatchObject({ code: 'ENODATA' });
  });
});
