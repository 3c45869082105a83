/**
 * The contract of the Gtm port (shared/traffic/ports/gtm.port.ts), run against every GTM a Gtm adapter can
 * talk to: the in-memory Alidns behind msw (test/traffic/gtm-contract.test.ts) and the local GTM
 * emulator (sandbox/gtm). Each test uses names of its own, so a shared instance is fine; the global
 * config test changes the instance's TTL and domain.
 *
 *   describeGtmContract('emulator', async () => {
 *     const emulator = await startEmulator(...);
 *     return {
 *       makeGtm: ({ pageSize, wrongSecret }) => new AlidnsGtm({ endpoint: emulator.url, instanceId, pageSize,
 *         credentials: { accessKeyId, accessKeySecret: wrongSecret ? 'wrong' : secret } }),
 *       teardown: () => emulator.close(),
 *     };
 *   });
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TricenterError } from '#shared/platform/errors.ts';
import type { Gtm } from '#shared/traffic/ports/gtm.port.ts';
import type { GtmAddress, GtmMonitorConfig, GtmStrategyInput } from '#shared/traffic/domain/gtm.ts';

export interface GtmContractSubject {
  /** A Gtm for the subject's instance; `pageSize` is the list PageSize, `wrongSecret` signs with a wrong key. */
  makeGtm(options: { pageSize?: number; wrongSecret?: boolean }): Gtm;
  teardown?(): Promise<void>;
}

const MONITOR: GtmMonitorConfig = {
  protocol: 'HTTP',
  interval: 15,
  evaluationCount: 2,
  timeout: 2000,
  port: 80,
  host: 'contract.example.com',
  path: '/healthz',
  code: 500,
};

const byAddr = (list: GtmAddress[]) => [...list].sort((a, b) => (a.addr < b.addr ? -1 : 1));

export function describeGtmContract(label: string, setup: () => Promise<GtmContractSubject>): void {
  describe(`Gtm contract: ${label}`, () => {
    let subject: GtmContractSubject;
    let gtm: Gtm;
    const unique = () => `ct-${randomBytes(4).toString('hex')}`;
    const addrs = (prefix: string, n: number, mode: GtmAddress['mode'] = 'SMART'): GtmAddress[] =>
      Array.from({ length: n }, (_, i) => ({
        addr: `127.0.${prefix}.${i + 1}`,
        mode,
        weight: i + 1,
        remark: `tricenter:contract/app@c${i + 1}`,
      }));

    beforeAll(async () => {
      subject = await setup();
      gtm = subject.makeGtm({});
    });
    afterAll(async () => {
      await subject?.teardown?.();
    });

    it('creates a pool with its health check open, lists it and reads it back', async () => {
      const name = unique();
      const addresses = addrs('10', 2);
      const { poolId, monitorConfigId } = await gtm.createPool({ name, type: 'IPV4', lbaStrategy: 'ALL_RR', addresses, monitor: MONITOR });
      expect(monitorConfigId).toBeTruthy();
      const listed = (await gtm.listPools()).filter((p) => p.name === name);
      expect(listed).toEqual([
        expect.objectContaining({
          id: poolId,
          name,
          type: 'IPV4',
          lbaStrategy: 'ALL_RR',
          addrCount: 2,
          monitorConfigId,
          monitorStatus: 'OPEN',
        }),
      ]);
      const pool = await gtm.getPool(poolId);
      expect(byAddr(pool.addresses)).toEqual(addresses);
      expect(await gtm.getMonitor(monitorConfigId!)).toEqual(MONITOR);
    });

    it('replaces the whole address list and the balancing policy on update', async () => {
      const name = unique();
      const { poolId } = await gtm.createPool({ name, type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addrs('11', 3), monitor: MONITOR });
      const next: GtmAddress[] = [
        { addr: '127.0.11.2', mode: 'OFFLINE', weight: 5, remark: 'tricenter:contract/app@c2' },
        { addr: '127.0.11.9', mode: 'SMART', weight: 1, remark: 'tricenter:contract/app@c9' },
      ];
      await gtm.updatePool(poolId, { name, lbaStrategy: 'RATIO', addresses: next });
      const pool = await gtm.getPool(poolId);
      expect(pool).toMatchObject({ name, lbaStrategy: 'RATIO', addrCount: 2 });
      expect(byAddr(pool.addresses)).toEqual(next);
    });

    it('adds, opens and updates a health check on a pool created without one', async () => {
      const name = unique();
      const { poolId } = await gtm.createPool({ name, type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addrs('12', 1) });
      const { monitorConfigId } = await gtm.createMonitor(poolId, MONITOR);
      await gtm.setMonitorStatus(monitorConfigId, 'OPEN');
      expect(await gtm.getPool(poolId)).toMatchObject({ monitorConfigId, monitorStatus: 'OPEN' });
      const changed = { ...MONITOR, interval: 30, evaluationCount: 3, timeout: 3000, path: '/ready', code: 400 };
      await gtm.updateMonitor(monitorConfigId, changed);
      expect(await gtm.getMonitor(monitorConfigId)).toEqual(changed);
      await gtm.setMonitorStatus(monitorConfigId, 'CLOSE');
      expect(await gtm.getPool(poolId)).toMatchObject({ monitorStatus: 'CLOSE' });
    });

    it('lists every pool across pages', async () => {
      const prefix = unique();
      const paged = subject.makeGtm({ pageSize: 2 });
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push(
          (await paged.createPool({ name: `${prefix}-${i}`, type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addrs('13', 1) })).poolId,
        );
      const listed = (await paged.listPools()).filter((p) => p.name.startsWith(prefix));
      expect(listed.map((p) => p.id).sort()).toEqual([...ids].sort());
    });

    it('creates, lists, reads and updates an access strategy', async () => {
      const name = unique();
      const primary = await gtm.createPool({
        name: `${name}-primary`,
        type: 'IPV4',
        lbaStrategy: 'ALL_RR',
        addresses: addrs('14', 2),
        monitor: MONITOR,
      });
      const failover = await gtm.createPool({
        name: `${name}-failover`,
        type: 'IPV4',
        lbaStrategy: 'ALL_RR',
        addresses: addrs('15', 1),
        monitor: MONITOR,
      });
      const input: GtmStrategyInput = {
        name,
        primaryPoolType: 'IPV4',
        primary: [{ poolId: primary.poolId, weight: 1 }],
        primaryLbaStrategy: 'ALL_RR',
        failover: [{ poolId: failover.poolId, weight: 1 }],
        failoverPoolType: 'IPV4',
        failoverLbaStrategy: 'ALL_RR',
        minAvailable: 1,
      };
      const { strategyId } = await gtm.createStrategy(input);
      expect((await gtm.listStrategies()).filter((s) => s.name === name)).toEqual([{ id: strategyId, name }]);
      expect(await gtm.getStrategy(strategyId)).toEqual({ ...input, id: strategyId, accessMode: 'AUTO' });
      const changed = {
        ...input,
        minAvailable: 2,
        primary: [{ poolId: failover.poolId, weight: 1 }],
        failover: [{ poolId: primary.poolId, weight: 1 }],
      };
      await gtm.updateStrategy(strategyId, changed);
      expect(await gtm.getStrategy(strategyId)).toEqual({ ...changed, id: strategyId, accessMode: 'AUTO' });
      await gtm.updateStrategy(strategyId, { ...changed, failover: [] });
      expect((await gtm.getStrategy(strategyId)).failover).toEqual([]);
    });

    it('updates and reads the instance TTL and domain', async () => {
      const domain = `${unique()}.example.com`;
      await gtm.updateGlobalConfig({ ttl: 37, instanceName: 'contract', userDomainName: domain });
      expect(await gtm.getGlobalConfig()).toEqual({ ttl: 37, instanceName: 'contract', userDomainName: domain });
    });

    it('fails with a permanent TricenterError on an unknown pool or an out-of-range health check', async () => {
      const missing = await gtm.getPool('no-such-pool-id').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(TricenterError);
      expect(missing).toMatchObject({ retryable: false });
      const { poolId } = await gtm.createPool({ name: unique(), type: 'IPV4', lbaStrategy: 'ALL_RR', addresses: addrs('16', 1) });
      await expect(gtm.createMonitor(poolId, { ...MONITOR, interval: 5 })).rejects.toMatchObject({ code: 'VALIDATION', retryable: false });
      await expect(gtm.createMonitor(poolId, { ...MONITOR, evaluationCount: 4 })).rejects.toMatchObject({ code: 'VALIDATION' });
    });

    it('refuses a request signed with the wrong secret', async () => {
      await expect(subject.makeGtm({ wrongSecret: true }).listPools()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });
  });
}
