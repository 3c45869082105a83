import { describe, expect, it } from 'vitest';
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { tenantRules } from '#shared/tenancy/tenant.ts';
import { registryYaml } from './helpers.ts';

/** The `tenants` section of the cluster registry: its format, its defaults, and the mistakes it refuses. */
const parse = async (tenants: string) => parseClusterRegistry(await loadBundleBytes('clusters.yaml', Buffer.from(registryYaml(tenants))));

describe('the tenants section of the cluster registry', () => {
  it('fills the narrow defaults for a tenant without an entry, and for the fields an entry leaves out', async () => {
    const registry = await parse('  - {name: shop, clusters: [c1, hz1]}\n');
    expect(tenantRules(registry, 'other')).toMatchObject({ declared: false, namespaces: ['other'], clusters: undefined, gtm: [] });
    const shop = tenantRules(registry, 'shop');
    expect(shop).toMatchObject({ declared: true, namespaces: ['shop'], gtm: [] });
    expect([...(shop.clusters ?? [])]).toEqual(['bj1', 'hz1']);
    expect([...shop.clusterScopedKinds, ...shop.clusterRoles]).toEqual([]);
  });

  it('a registry without a tenants section still parses (every tenant gets the defaults)', async () => {
    expect((await parse('')).tenants).toBeUndefined();
  });

  it.each<[string, string, RegExp]>([
    [
      'a tenant declared twice',
      '  - {name: shop}\n  - {name: shop}\n',
      /field tenants\[1\]\.name: tenant "shop" is already declared by tenants\[0\]/,
    ],
    [
      'a cluster the registry does not have',
      '  - {name: shop, clusters: [bj1, sh1]}\n',
      /field tenants\[0\]\.clusters\[1\]: "sh1" is not a cluster name or alias of this registry/,
    ],
    [
      'a namespaced kind among the cluster-scoped ones',
      '  - {name: shop, clusterScopedKinds: [Namespace, ConfigMap]}\n',
      /field tenants\[0\]\.clusterScopedKinds\[1\]: "ConfigMap" is not a cluster-scoped kind/,
    ],
    [
      'a namespace pattern with upper case',
      '  - {name: shop, namespaces: [Team_A]}\n',
      /field tenants\[0\]\.namespaces\[0\]: must be a namespace name/,
    ],
    [
      'a domain without a dot',
      '  - {name: shop, gtm: [{instance: default, domains: [localhost]}]}\n',
      /field tenants\[0\]\.gtm\[0\]\.domains\[0\]: must be a lower-case domain name/,
    ],
    ['a GTM entry without domains', '  - {name: shop, gtm: [{instance: default, domains: []}]}\n', /field tenants\[0\]\.gtm\[0\]\.domains/],
    ['a misspelt field (no silent allowance)', '  - {name: shop, namespace: [shop]}\n', /field tenants\[0\]: unknown field "namespace"/],
    ['a tenant name that is not a DNS-1123 label', '  - {name: Shop}\n', /field tenants\[0\]\.name: must be a DNS-1123 label/],
  ])('refuses %s', async (_name, tenants, says) => {
    await expect(parse(tenants)).rejects.toThrow(says);
  });
});
