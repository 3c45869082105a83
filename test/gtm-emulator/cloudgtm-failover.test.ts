import { promises as dns } from 'node:dns';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type RPCClient from '@alicloud/pop-core';
import type { CloudHealthChange, GtmEmulator } from '#sandbox/gtm/index.ts';
import { call, callError, startBackend, startTestEmulator, waitFor, type SwitchableBackend } from './helpers.ts';

/**
 * The seed's failover on a GTM 3.0 instance: addresses checked by an HTTP template (interval 60 s
 * scaled to 300 ms, evaluation count 2), a Beijing pool (any_ok) before a Hangzhou pool in a
 * sequence configuration, real HTTP backends on 127.0.0.2-4 switched between 200 and 503, answers
 * read through DNS. Then the instance survives a restart from its state file.
 */

const DOMAIN = 'web-demo.example.com';
const BEIJING_1 = '127.0.0.2';
const BEIJING_2 = '127.0.0.3';
const HANGZHOU = '127.0.0.4';
const SCALE = 0.005;

const dir = mkdtempSync(join(tmpdir(), 'cloudgtm-failover-'));
const stateFile = join(dir, 'gtm-state.json');
let emulator: GtmEmulator;
let client: RPCClient;
const backends = new Map<string, SwitchableBackend>();
const changes: CloudHealthChange[] = [];
const ids: Record<string, string> = {};

async function answered(): Promise<string[]> {
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([`${emulator.dnsAddress.host}:${emulator.dnsAddress.port}`]);
  return (await resolver.resolve4(DOMAIN)).sort();
}

/** Polls DNS until it answers exactly `want`: the switch happens after the checks, whatever they take. */
function waitForAnswer(want: string[]): Promise<true> {
  let last: string[] = [];
  return waitFor(`DNS answering ${want.join(', ')}`, () => {
    void answered().then(
      (a) => (last = a),
      () => (last = []),
    );
    return JSON.stringify(last) === JSON.stringify([...want].sort()) ? true : undefined;
  });
}

async function startEmulator(mustExist: boolean) {
  ({ emulator, client } = await startTestEmulator({
    gtmVersion: '3.0',
    probeIntervalScale: SCALE,
    probePortOverride: (addr) => backends.get(addr)?.port ?? 1,
    state: { file: stateFile, mustExist },
  }));
  emulator.onCloudHealthChange((change) => changes.push(change));
}

beforeAll(async () => {
  for (const [addr, name] of [
    [BEIJING_1, 'cluster1-beijing'],
    [BEIJING_2, 'cluster2-beijing'],
    [HANGZHOU, 'cluster1-hangzhou'],
  ] as const)
    backends.set(addr, await startBackend(addr, name));
  await startEmulator(false);
  const template = await call(client, 'CreateCloudGtmMonitorTemplate', {
    Name: 'web-demo-http',
    Protocol: 'http',
    IpVersion: 'IPv4',
    Interval: 60,
    EvaluationCount: 2,
    Timeout: 2000,
    FailureRate: 50,
    ExtendInfo: JSON.stringify({ host: DOMAIN, path: '/healthz', code: 499 }),
    IspCityNodes: JSON.stringify([{ CityCode: '503', IspCode: '465' }]),
  });
  for (const addr of [BEIJING_1, BEIJING_2, HANGZHOU]) {
    const created = await call(client, 'CreateCloudGtmAddress', {
      Name: addr,
      Address: addr,
      Type: 'IPv4',
      AvailableMode: 'auto',
      EnableStatus: 'enable',
      HealthJudgement: 'any_ok',
      HealthTasks: JSON.stringify([{ TemplateId: template.TemplateId, Port: 80 }]),
    });
    ids[addr] = created.AddressId as string;
  }
  const pool = async (name: string, addrs: string[]) => {
    const id = (
      await call(client, 'CreateCloudGtmAddressPool', { AddressPoolName: name, AddressPoolType: 'IPv4', HealthJudgement: 'any_ok' })
    ).AddressPoolId as string;
    await call(client, 'ReplaceCloudGtmAddressPoolAddress', {
      AddressPoolId: id,
      Addresses: JSON.stringify(addrs.map((addr) => ({ AddressId: ids[addr] }))),
    });
    return id;
  };
  const beijing = await pool('beijing', [BEIJING_1, BEIJING_2]);
  const hangzhou = await pool('hangzhou', [HANGZHOU]);
  const config = await call(client, 'CreateCloudGtmInstanceConfig', {
    InstanceId: emulator.instanceId,
    ScheduleHostname: 'web-demo',
    ScheduleZoneName: 'example.com',
    ScheduleRrType: 'A',
    Ttl: 60,
  });
  const ref = { InstanceId: emulator.instanceId, ConfigId: config.ConfigId };
  await call(client, 'ReplaceCloudGtmInstanceConfigAddressPool', {
    ...ref,
    AddressPools: JSON.stringify([
      { AddressPoolId: beijing, SerialNumber: 1 },
      { AddressPoolId: hangzhou, SerialNumber: 2 },
    ]),
  });
  await call(client, 'UpdateCloudGtmInstanceConfigLbStrategy', {
    ...ref,
    AddressPoolLbStrategy: 'sequence',
    SequenceLbStrategyMode: 'preemptive',
  });
});

afterAll(async () => {
  await emulator?.stop();
  for (const backend of backends.values()) await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GTM 3.0 emulator: health checks drive DNS failover', () => {
  it('probes each address with the template Host header and path, on the scaled interval', async () => {
    await waitFor('two checks of every address', () => ([...backends.values()].every((b) => b.requests.length >= 2) ? true : undefined));
    expect(backends.get(BEIJING_1)?.requests[0]).toEqual({ host: DOMAIN, path: '/healthz' });
    expect(emulator.cloudState().templates.map((t) => t.probeIntervalMs)).toEqual([300]);
    expect(await answered()).toEqual([BEIJING_1, BEIJING_2]);
  });

  it('one Beijing address failing leaves the other; both failing moves DNS to Hangzhou; healing brings Beijing back', async () => {
    (backends.get(BEIJING_1) as SwitchableBackend).status = 503;
    await waitForAnswer([BEIJING_2]);
    expect(emulator.cloudState().addresses.find((a) => a.address === BEIJING_1)).toMatchObject({
      healthStatus: 'exceptional',
      available: false,
    });
    expect(await call(client, 'DescribeCloudGtmAddress', { AddressId: ids[BEIJING_1] })).toMatchObject({
      HealthStatus: 'exceptional',
      AvailableStatus: 'unavailable',
      HealthTasks: { HealthTask: [expect.objectContaining({ MonitorStatus: 'alert' })] },
    });
    (backends.get(BEIJING_2) as SwitchableBackend).status = 503;
    await waitForAnswer([HANGZHOU]);
    expect(
      changes
        .filter((c) => !c.healthy)
        .map((c) => c.addr)
        .sort(),
    ).toEqual([BEIJING_1, BEIJING_2]);
    (backends.get(BEIJING_1) as SwitchableBackend).status = 200;
    (backends.get(BEIJING_2) as SwitchableBackend).status = 200;
    await waitForAnswer([BEIJING_1, BEIJING_2]);
    expect(
      changes
        .filter((c) => c.healthy)
        .map((c) => c.addr)
        .sort(),
    ).toEqual([BEIJING_1, BEIJING_2]);
  });

  it('a restart from the state file serves the same objects and answers, and keeps the verdicts', async () => {
    const before = emulator.cloudState();
    (backends.get(HANGZHOU) as SwitchableBackend).status = 503;
    await waitFor('Hangzhou unhealthy', () =>
      emulator.cloudState().addresses.find((a) => a.address === HANGZHOU)?.available === false ? true : undefined,
    );
    await emulator.stop();
    // Hangzhou stays failing across the restart: its verdict comes back from the file, not from fresh checks.
    await startEmulator(true);
    const after = emulator.cloudState();
    expect(after.instanceId).toBe(before.instanceId);
    expect(after.configs.map(({ id, domain, poolIds }) => ({ id, domain, poolIds }))).toEqual(
      before.configs.map(({ id, domain, poolIds }) => ({ id, domain, poolIds })),
    );
    expect(after.addresses.find((a) => a.address === HANGZHOU)).toMatchObject({ available: false });
    expect(await answered()).toEqual([BEIJING_1, BEIJING_2]);
    expect((await call(client, 'ListCloudGtmAddresses', { PageNumber: 1, PageSize: 10 })).TotalItems).toBe(3);
    // A write after the restart is kept too.
    await call(client, 'UpdateCloudGtmAddressEnableStatus', { AddressId: ids[BEIJING_1], EnableStatus: 'disable' });
    await waitForAnswer([BEIJING_2]);
  });
});

describe('GTM 3.0 emulator state file: abuse', () => {
  it('refuses a GTM 2.0 file, a damaged file and a missing file it must resume, each naming the file', async () => {
    const other = join(dir, 'other.json');
    writeFileSync(
      other,
      JSON.stringify({ format: 1, instanceId: 'gtm-cn-x', createdAt: 0, config: {}, pools: [], monitors: [], strategies: [], health: [] }),
    );
    await expect(startTestEmulator({ gtmVersion: '3.0', state: { file: other } })).rejects.toThrow(
      new RegExp(`${other}.*GTM 2.0 instance.*--gtm-version 2.0`),
    );
    writeFileSync(other, '{"format":"cloudgtm/1","instanceId":"x"');
    await expect(startTestEmulator({ gtmVersion: '3.0', state: { file: other } })).rejects.toThrow(/not valid JSON/);
    writeFileSync(other, JSON.stringify({ format: 'cloudgtm/1', instanceId: 'x', createdAt: 0, templates: [], addresses: [{}] }));
    await expect(startTestEmulator({ gtmVersion: '3.0', state: { file: other } })).rejects.toThrow(/is damaged: addresses\.0/);
    await expect(startTestEmulator({ gtmVersion: '3.0', state: { file: join(dir, 'none.json'), mustExist: true } })).rejects.toThrow(
      /is missing/,
    );
    // And a 2.0 emulator refuses the 3.0 file the failover test wrote.
    await expect(startTestEmulator({ state: { file: stateFile } })).rejects.toThrow(/GTM 3.0 instance.*--gtm-version 3.0/);
    expect((await callError(client, 'DescribeCloudGtmAddress', { AddressId: 'addr-none' })).code).toBe('InvalidAddressId.NotFound');
  });
});
