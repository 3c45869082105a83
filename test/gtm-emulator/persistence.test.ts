import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GtmEmulator } from '#sandbox/gtm/index.ts';
import { GtmStateError } from '#sandbox/gtm/persistence.ts';
import { call, startTestEmulator } from './helpers.ts';

/** The emulator's instance in a JSON snapshot: what a restarted local twin's GTM still holds. */
let dir: string;
let file: string;
let emulator: GtmEmulator | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tricenter-gtm-state-'));
  file = join(dir, 'gtm-state.json');
});

afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const pool = (instanceId: string) => ({
  InstanceId: instanceId,
  Name: 'pool-a',
  Type: 'IPV4',
  LbaStrategy: 'ALL_RR',
  Addr: [{ Addr: '192.0.2.1', Mode: 'ONLINE', LbaWeight: 1, AttributeInfo: '{"lineCodeRectifyType":"AUTO","lineCode":[]}' }],
});

describe('GTM emulator state file', () => {
  it('pools and the instance configuration written before a restart are served after it; every write is saved before it is answered', async () => {
    const first = await startTestEmulator({ state: { file } });
    emulator = first.emulator;
    await call(first.client, 'UpdateDnsGtmInstanceGlobalConfig', {
      InstanceId: first.emulator.instanceId,
      InstanceName: 'web-demo',
      Ttl: 30,
      PublicUserDomainName: 'web-demo.example.com',
    });
    const created = await call(first.client, 'AddDnsGtmAddressPool', pool(first.emulator.instanceId));
    // Saved by the time the answer arrived: a SIGKILL now loses nothing.
    expect(readFileSync(file, 'utf8')).toContain(created.AddrPoolId);
    await first.emulator.stop();

    const second = await startTestEmulator({ state: { file, mustExist: true } });
    emulator = second.emulator;
    const described = await call(second.client, 'DescribeDnsGtmInstanceAddressPool', { AddrPoolId: created.AddrPoolId });
    expect(described).toMatchObject({ AddrPoolId: created.AddrPoolId, Name: 'pool-a', AddrCount: 1 });
    expect(second.emulator.state()).toMatchObject({
      domain: 'web-demo.example.com',
      ttl: 30,
      pools: [{ id: created.AddrPoolId, addresses: [{ addr: '192.0.2.1' }] }],
    });
  });

  describe('abuse', () => {
    it('a truncated file is refused with its name; the file is left as it was', async () => {
      const first = await startTestEmulator({ state: { file } });
      await call(first.client, 'AddDnsGtmAddressPool', pool(first.emulator.instanceId));
      await first.emulator.stop();
      const whole = readFileSync(file, 'utf8');
      writeFileSync(file, whole.slice(0, Math.floor(whole.length / 2)));
      const error = await startTestEmulator({ state: { file } }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(GtmStateError);
      expect(String(error)).toMatch(new RegExp(`${file} is not valid JSON.*truncated or damaged`));
      expect(readFileSync(file, 'utf8')).toBe(whole.slice(0, Math.floor(whole.length / 2)));
    });

    it('another format, a damaged record list, and a missing file on resume are refused', async () => {
      writeFileSync(file, JSON.stringify({ format: 2, instanceId: 'x' }));
      await expect(startTestEmulator({ state: { file } })).rejects.toThrow(/has format 2; this tricenter reads format 1/);
      writeFileSync(
        file,
        JSON.stringify({
          format: 1,
          instanceId: 'x',
          createdAt: 1,
          config: { ttl: 60, cnameType: 'PUBLIC', alertConfig: [] },
          pools: [{}],
          monitors: [],
          strategies: [],
          health: [],
        }),
      );
      await expect(startTestEmulator({ state: { file } })).rejects.toThrow(/is damaged: pools\.0\.id/);
      rmSync(file);
      await expect(startTestEmulator({ state: { file, mustExist: true } })).rejects.toThrow(
        /is missing, but the state folder says GTM was saved there/,
      );
    });
  });
});
