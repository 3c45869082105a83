/**
 * Which GTM an application's traffic goes through: the cluster registry says the version of each
 * instance (tenants[].gtm[].version, 3.0 by default), a TrafficPolicy may say it too
 * (spec.gtmVersion) and must then agree, and a 3.0 instance only takes the probe timeouts GTM 3.0
 * accepts. Refusals name the file, document and field.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { clusterRegistrySchema, gtmVersionOf, parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { parseTrafficPolicy } from '#shared/delivery/model/traffic-policy.ts';
import { locationOf } from '#shared/delivery/model/source.ts';
import { describeLocation } from '#shared/platform/errors.ts';
import { baseFiles } from '../render/helpers.ts';
import { registryYaml, tenancyOf, trafficPolicy } from '../tenancy/helpers.ts';

const registryWith = async (tenants: string) =>
  parseClusterRegistry(await loadBundleBytes('clusters.yaml', Buffer.from(registryYaml(tenants))));
const traffic = (edit: (yaml: string) => string) => baseFiles({ 'traffic.yaml': edit(trafficPolicy({})) });
const withVersion = (version: string) => (yaml: string) => yaml.replace('  ttl: 60\n', `  ttl: 60\n  gtmVersion: "${version}"\n`);
const withTimeout = (ms: number) => (yaml: string) => yaml.replace('timeout: 5000', `timeout: ${ms}`);

describe('GTM version selection', () => {
  it('a registry GTM entry is GTM 3.0 unless it says 2.0', async () => {
    const registry = await registryWith(
      '  - {name: prod, gtm: [{instance: default, domains: [shop.example.com]}, {instance: gtm-cn-old, domains: [old.example.com], version: "2.0"}]}\n',
    );
    expect(gtmVersionOf(registry, 'default')).toBe('3.0');
    expect(gtmVersionOf(registry, 'gtm-cn-old')).toBe('2.0');
    expect(gtmVersionOf(registry, 'gtm-cn-unlisted')).toBeUndefined();
  });

  it('refuses one instance given two versions, naming the second entry', async () => {
    const error = await registryWith(
      '  - {name: prod, gtm: [{instance: gtm-cn-x, domains: [a.example.com], version: "2.0"}]}\n' +
        '  - {name: billing, gtm: [{instance: gtm-cn-x, domains: [b.example.com]}]}\n',
    ).catch((e: unknown) => e);
    expect(String(error)).toMatch(/tenants\[1\]\.gtm\[0\]\.version/);
    expect(String(error)).toMatch(/GTM instance "gtm-cn-x" is version 2\.0 at tenants\[0\]\.gtm\[0\]/);
  });

  it('refuses a version that is not 3.0 or 2.0 (an unquoted 3.0 is the number 3)', () => {
    const doc = parse(`${registryYaml('  - {name: prod, gtm: [{instance: default, domains: [shop.example.com], version: 3.0}]}\n')}`);
    expect(clusterRegistrySchema.safeParse(doc).success).toBe(false);
  });

  it('admits a policy that names the version of its instance', async () => {
    expect(
      await tenancyOf(
        traffic(withVersion('3.0')),
        registryYaml('  - {name: prod, gtm: [{instance: default, domains: [shop.example.com]}]}\n'),
      ),
    ).toEqual([]);
    expect(
      await tenancyOf(
        traffic(withVersion('2.0')),
        registryYaml('  - {name: prod, gtm: [{instance: default, domains: [shop.example.com], version: "2.0"}]}\n'),
      ),
    ).toEqual([]);
  });

  it('refuses a policy written for 2.0 on a 3.0 instance, naming spec.gtmVersion', async () => {
    const [violation, ...rest] = await tenancyOf(
      traffic(withVersion('2.0')),
      registryYaml('  - {name: prod, gtm: [{instance: default, domains: [shop.example.com]}]}\n'),
    );
    expect(rest).toEqual([]);
    expect(violation?.rule).toBe('traffic.gtm-version');
    expect(describeLocation(violation ? locationOf(violation.place) : undefined)).toBe(
      'traffic.yaml (document 1, TrafficPolicy prod/shop) field spec.gtmVersion: ',
    );
    expect(violation?.message).toMatch(/written for GTM 2\.0, but GTM instance "default" is 3\.0 in the cluster registry/);
  });

  it('refuses a probe timeout GTM 3.0 does not take, and lets 2.0 keep it', async () => {
    const [violation] = await tenancyOf(
      traffic(withTimeout(1500)),
      registryYaml('  - {name: prod, gtm: [{instance: default, domains: [shop.example.com]}]}\n'),
    );
    expect(violation?.rule).toBe('traffic.gtm3-timeout');
    expect(describeLocation(violation ? locationOf(violation.place) : undefined)).toContain('field spec.healthCheck.timeout');
    expect(violation?.message).toMatch(/2000, 3000, 5000, 10000 ms only \(got 1500\)/);
    expect(
      await tenancyOf(
        traffic(withTimeout(1500)),
        registryYaml('  - {name: prod, gtm: [{instance: default, domains: [shop.example.com], version: "2.0"}]}\n'),
      ),
    ).toEqual([]);
  });

  it('a policy that says 3.0 is checked for 3.0 values on its own', () => {
    const doc = parse(withTimeout(4000)(withVersion('3.0')(trafficPolicy({}))));
    expect(() => parseTrafficPolicy(doc, { file: 'traffic.yaml' })).toThrow(
      /spec\.healthCheck\.timeout: GTM 3\.0 health checks time out after/,
    );
    expect(() => parseTrafficPolicy(parse(withVersion('4.0')(trafficPolicy({}))), { file: 'traffic.yaml' })).toThrow(/spec\.gtmVersion/);
  });
});
