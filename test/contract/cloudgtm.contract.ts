/**
 * The contract of the GTM 3.0 port (shared/traffic/ports/gtm3.port.ts), run against every GTM 3.0
 * a Gtm3 adapter can talk to: the in-memory CloudGtm behind msw (test/traffic/cloudgtm-contract.test.ts)
 * and the local GTM emulator. Each test uses names and domains of its own, so a shared instance
 * (and a shared account: addresses, pools and templates are per account) is fine.
 *
 *   describeCloudGtmContract('emulator', async () => {
 *     const emulator = await startEmulator(...);
 *     return {
 *       makeGtm3: ({ pageSize, wrongSecret }) => new AlidnsCloudGtm({ endpoint: emulator.endpoint, instanceId, pageSize,
 *         credentials: { accessKeyId, accessKeySecret: wrongSecret ? 'wrong' : secret }, maxAttempts: 1 }),
 *       teardown: () => emulator.stop(),
 *     };
 *   });
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TricenterError } from '#shared/platform/errors.ts';
import type { Gtm3 } from '#shared/traffic/ports/gtm3.port.ts';
import type { Gtm3AddressInput, Gtm3MonitorTemplateInput } from '#shared/traffic/domain/gtm3.ts';

export interface CloudGtmContractSubject {
  /** A Gtm3 for the subject's instance; `pageSize` is the list PageSize, `wrongSecret` signs with a wrong key. */
  makeGtm3(options: { pageSize?: number; wrongSecret?: boolean }): Gtm3;
  teardown?(): Promise<void>;
}

const TEMPLATE: Omit<Gtm3MonitorTemplateInput, 'name'> = {
  protocol: 'http',
  ipVersion: 'IPv4',
  interval: 15,
  timeout: 2000,
  evaluationCount: 2,
  failureRate: 50,
  host: 'contract.example.com',
  path: '/healthz',
  code: 500,
  nodes: [
    { cityCode: '503', ispCode: '465' },
    { cityCode: '357', ispCode: '465' },
  ],
};

export function describeCloudGtmContract(label: string, setup: () => Promise<CloudGtmContractSubject>): void {
  describe(`Gtm3 contract: ${label}`, () => {
    let subject: CloudGtmContractSubject;
    let gtm: Gtm3;
    const unique = () => `ct-${randomBytes(4).toString('hex')}`;
    const octet = () => 1 + ((randomBytes(1)[0] as number) % 250);
    const address = (name: string, templateId?: string, overrides: Partial<Gtm3AddressInput> = {}): Gtm3AddressInput => ({
      name,
      address: `127.0.${octet()}.${octet()}`,
      type: 'IPv4',
      remark: `tricenter:contract/app@${name}`,
      enableStatus: 'enable',
      availableMode: 'auto',
      healthJudgement: 'any_ok',
      healthTasks: templateId ? [{ templateId, port: 80 }] : [],
      ...overrides,
    });

    beforeAll(async () => {
      subject = await setup();
      gtm = subject.makeGtm3({});
    });
    afterAll(async () => {
      await subject?.teardown?.();
    });

    it('is a 3.0 port bound to its instance', () => {
      expect(gtm.gtmVersion).toBe('3.0');
      expect(gtm.instanceId).toMatch(/\S/);
    });

    it('creates a health-check template, lists it as written, and updates it', async () => {
      const name = unique();
      const { templateId } = await gtm.createMonitorTemplate({ ...TEMPLATE, name });
      expect(templateId).toBeTruthy();
      const listed = (await gtm.listMonitorTemplates()).filter((t) => t.name === name);
      expect(listed).toEqual([{ ...TEMPLATE, name, id: templateId }]);
      const changed = { ...TEMPLATE, name, interval: 30, timeout: 5000, evaluationCount: 3, failureRate: 80, path: '/ready', code: 400 };
      await gtm.updateMonitorTemplate(templateId, changed);
      expect((await gtm.listMonitorTemplates()).find((t) => t.id === templateId)).toEqual({ ...changed, id: templateId });
    });

    it('creates an address with a health task, lists it, updates, disables and deletes it', async () => {
      const { templateId } = await gtm.createMonitorTemplate({ ...TEMPLATE, name: unique() });
      const input = address(unique(), templateId);
      const { addressId } = await gtm.createAddress(input);
      const listed = (await gtm.listAddresses()).find((a) => a.id === addressId);
      expect(listed).toMatchObject({ ...input, id: addressId });
      expect(listed?.healthStatus).toMatch(/\S/);
      expect(listed?.availableStatus).toMatch(/^(available|unavailable)$/);

      const next = { name: `${input.name}-2`, address: '127.0.99.1', healthJudgement: 'all_ok' as const, healthTasks: [] };
      await gtm.updateAddress(addressId, next);
      expect((await gtm.listAddresses()).find((a) => a.id === addressId)).toMatchObject(next);
      await gtm.setAddressEnableStatus(addressId, 'disable');
      expect((await gtm.listAddresses()).find((a) => a.id === addressId)).toMatchObject({ enableStatus: 'disable' });
      await gtm.setAddressAutoMode(addressId);
      expect((await gtm.listAddresses()).find((a) => a.id === addressId)).toMatchObject({ availableMode: 'auto' });
      await gtm.deleteAddress(addressId);
      expect((await gtm.listAddresses()).find((a) => a.id === addressId)).toBeUndefined();
    });

    it('creates a pool, sets its strategy, replaces its addresses and lists them in the pool', async () => {
      const name = unique();
      const { poolId } = await gtm.createPool({ name, type: 'IPv4', remark: 'tricenter:contract/app', healthJudgement: 'any_ok' });
      const empty = (await gtm.listPools()).find((p) => p.id === poolId);
      expect(empty).toMatchObject({
        name,
        type: 'IPv4',
        remark: 'tricenter:contract/app',
        healthJudgement: 'any_ok',
        enableStatus: 'enable',
      });
      expect(empty?.members).toEqual([]);

      const a = await gtm.createAddress(address(unique()));
      const b = await gtm.createAddress(address(unique()));
      await gtm.setPoolLbStrategy(poolId, 'weight');
      await gtm.replacePoolAddresses(poolId, [
        { addressId: a.addressId, serialNumber: 1, weight: 3 },
        { addressId: b.addressId, serialNumber: 2, weight: 1 },
      ]);
      const pool = (await gtm.listPools()).find((p) => p.id === poolId);
      expect(pool?.lbStrategy).toBe('weight');
      expect(
        pool?.members
          .map((m) => ({ addressId: m.addressId, serialNumber: m.serialNumber, weight: m.weight }))
          .sort((x, y) => x.serialNumber - y.serialNumber),
      ).toEqual([
        { addressId: a.addressId, serialNumber: 1, weight: 3 },
        { addressId: b.addressId, serialNumber: 2, weight: 1 },
      ]);

      await gtm.setPoolLbStrategy(poolId, 'sequence', 'preemptive');
      await gtm.updatePoolBasic(poolId, { name, healthJudgement: 'p50_ok' });
      await gtm.replacePoolAddresses(poolId, [{ addressId: b.addressId, serialNumber: 1, weight: 1 }]);
      const after = (await gtm.listPools()).find((p) => p.id === poolId);
      expect(after).toMatchObject({ lbStrategy: 'sequence', sequenceMode: 'preemptive', healthJudgement: 'p50_ok' });
      expect(after?.members.map((m) => m.addressId)).toEqual([b.addressId]);
    });

    it('lists every address and pool across pages', async () => {
      const prefix = unique();
      const paged = subject.makeGtm3({ pageSize: 2 });
      const addressIds: string[] = [];
      const poolIds: string[] = [];
      for (let i = 0; i < 5; i++) {
        addressIds.push((await paged.createAddress(address(`${prefix}-${i}`))).addressId);
        poolIds.push((await paged.createPool({ name: `${prefix}-${i}`, type: 'IPv4', remark: '', healthJudgement: 'any_ok' })).poolId);
      }
      const listedAddresses = (await paged.listAddresses()).filter((a) => a.name.startsWith(prefix));
      expect(listedAddresses.map((a) => a.id).sort()).toEqual([...addressIds].sort());
      const listedPools = (await paged.listPools()).filter((p) => p.name.startsWith(prefix));
      expect(listedPools.map((p) => p.id).sort()).toEqual([...poolIds].sort());
    });

    it('creates an instance config for a domain, references pools in sequence and updates its TTL', async () => {
      const hostname = unique();
      const domain = `${hostname}.contract.example.com`;
      const { configId } = await gtm.createInstanceConfig({
        hostname,
        zone: 'contract.example.com',
        rrType: 'A',
        ttl: 60,
        remark: 'tricenter:contract/app',
      });
      const created = (await gtm.listInstanceConfigs()).find((c) => c.id === configId);
      expect(created).toMatchObject({
        domain,
        hostname,
        zone: 'contract.example.com',
        rrType: 'A',
        ttl: 60,
        remark: 'tricenter:contract/app',
      });
      expect(created?.pools).toEqual([]);

      const primary = await gtm.createPool({ name: `${hostname}-p`, type: 'IPv4', remark: '', healthJudgement: 'any_ok' });
      const failover = await gtm.createPool({ name: `${hostname}-f`, type: 'IPv4', remark: '', healthJudgement: 'any_ok' });
      await gtm.replaceInstanceConfigPools(configId, [
        { poolId: primary.poolId, serialNumber: 1, weight: 1 },
        { poolId: failover.poolId, serialNumber: 2, weight: 1 },
      ]);
      await gtm.setInstanceConfigLbStrategy(configId, 'sequence', 'preemptive');
      await gtm.updateInstanceConfigBasic(configId, { hostname, zone: 'contract.example.com', ttl: 30 });
      const config = (await gtm.listInstanceConfigs()).find((c) => c.id === configId);
      expect(config).toMatchObject({ lbStrategy: 'sequence', sequenceMode: 'preemptive', ttl: 30, domain });
      expect([...(config?.pools ?? [])].sort((x, y) => x.serialNumber - y.serialNumber)).toEqual([
        { poolId: primary.poolId, serialNumber: 1, weight: 1 },
        { poolId: failover.poolId, serialNumber: 2, weight: 1 },
      ]);
      await gtm.replaceInstanceConfigPools(configId, [{ poolId: failover.poolId, serialNumber: 1, weight: 1 }]);
      expect((await gtm.listInstanceConfigs()).find((c) => c.id === configId)?.pools).toEqual([
        { poolId: failover.poolId, serialNumber: 1, weight: 1 },
      ]);
    });

    it('fails with a permanent TricenterError on unknown ids and out-of-range values', async () => {
      const missing = await gtm.deleteAddress('addr-no-such-address').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(TricenterError);
      expect(missing).toMatchObject({ code: 'NOT_FOUND', retryable: false });
      await expect(gtm.replacePoolAddresses('pool-no-such-pool', [])).rejects.toMatchObject({ code: 'NOT_FOUND', retryable: false });
      await expect(gtm.createMonitorTemplate({ ...TEMPLATE, name: unique(), timeout: 4000 })).rejects.toMatchObject({
        code: 'VALIDATION',
        retryable: false,
      });
      await expect(gtm.createMonitorTemplate({ ...TEMPLATE, name: unique(), evaluationCount: 4 })).rejects.toMatchObject({
        code: 'VALIDATION',
      });
      const { poolId } = await gtm.createPool({ name: unique(), type: 'IPv4', remark: '', healthJudgement: 'any_ok' });
      await expect(
        gtm.replacePoolAddresses(poolId, [{ addressId: 'addr-no-such-address', serialNumber: 1, weight: 1 }]),
      ).rejects.toMatchObject({
        retryable: false,
      });
    });

    it('refuses a request signed with the wrong secret', async () => {
      await expect(subject.makeGtm3({ wrongSecret: true }).listAddresses()).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });
  });
}
