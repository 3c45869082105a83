import { describe, expect, it } from 'vitest';
import { describeLocation } from '#shared/platform/errors.ts';
import { locationOf } from '#shared/delivery/model/source.ts';
import { APP_YAML, baseFiles, baseWith, OBJECTS_YAML } from '../render/helpers.ts';
import { admissionError, inline, policy, registryYaml, tenancyOf, trafficPolicy, workflow } from './helpers.ts';

/**
 * Tenancy admission on the rendered release: what the tenant of `bundles/<tenant>/...` may use.
 * Each refused case names the rule and the place of the input that causes it (file, document,
 * field); each allowed case is the same input with the allowance the registry has to give.
 */
interface Case {
  name: string;
  files: Record<string, string>;
  /** The `tenants:` entries of the registry (YAML, indented by 2), none by default. */
  tenants?: string;
  tenant?: string;
  /** Omitted: admitted. */
  refused?: { rule: string; place: string; says: RegExp };
}

const relocate = (namespace: string) =>
  baseFiles({
    'app.yaml': baseWith(policy('moved', 'topology', `{clusters: [bj1], namespace: ${namespace}}`) + workflow(['moved']))['app.yaml'] ?? '',
  });
const jsonPatch = (operations: string) =>
  baseWith(
    policy('patch', 'override', `{components: [{name: web, traits: [{type: json-patch, properties: {operations: ${operations}}}]}]}`) +
      workflow(['everywhere', 'patch']),
  );
const topologyTo = (clusters: string) => baseWith(policy('some', 'topology', clusters) + workflow(['some']));
/** The ConfigMap written into `namespace`, and referenced there. */
const objectsIn = (namespace: string) =>
  baseFiles({
    'objects.yaml': OBJECTS_YAML.replace(
      '  name: web\n  labels: {app: web}\ndata',
      `  name: web\n  namespace: ${namespace}\n  labels: {app: web}\ndata`,
    ),
    'app.yaml': APP_YAML.replace(
      '{apiVersion: v1, kind: ConfigMap, name: web}',
      `{apiVersion: v1, kind: ConfigMap, name: web, namespace: ${namespace}}`,
    ),
  });
const withTraffic = (spec: Parameters<typeof trafficPolicy>[0]) => baseFiles({ 'traffic.yaml': trafficPolicy(spec) });
const clusterAdminBinding =
  '{apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: root}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}, subjects: [{kind: ServiceAccount, name: default, namespace: prod}]}';
const roleBinding = (roleKind: string, role: string) =>
  `{apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: grant}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ${roleKind}, name: ${role}}, subjects: [{kind: ServiceAccount, name: default}]}`;
const kubeSystemLabels = '{apiVersion: v1, kind: Namespace, metadata: {name: kube-system, labels: {pwned: "yes"}}}';
const TRAIT = 'app.yaml (document 3, Policy patch) field properties.components[0].traits[0]';

const cases: Case[] = [
  { name: 'the defaults: own namespace, every cluster, no cluster-scoped kind', files: baseFiles() },
  {
    name: "kube-system by the object's own namespace",
    files: objectsIn('kube-system'),
    refused: {
      rule: 'tenant.namespace',
      place: 'objects.yaml (document 2, ConfigMap kube-system/web) field metadata.namespace',
      says: /namespace "kube-system" belongs to the cluster itself/,
    },
  },
  {
    name: "another namespace by the object's own namespace",
    files: objectsIn('billing'),
    refused: {
      rule: 'tenant.namespace',
      place: 'objects.yaml (document 2, ConfigMap billing/web) field metadata.namespace',
      says: /tenant "prod" may not deploy into namespace "billing" \(its namespaces: prod\)/,
    },
  },
  {
    name: "kube-system by the topology's namespace",
    files: relocate('kube-system'),
    refused: {
      rule: 'tenant.namespace',
      place: 'app.yaml (document 3, Policy moved) field properties.namespace',
      says: /"kube-system" belongs to the cluster itself/,
    },
  },
  {
    name: 'a topology namespace the tenant is given',
    files: relocate('prod-canary'),
    tenants: '  - {name: prod, namespaces: [prod, prod-canary]}\n',
  },
  {
    name: 'kube-system by a json-patch on metadata.namespace (the rendered output counts, not the input)',
    files: jsonPatch('[{op: add, path: /metadata/namespace, value: kube-system}]'),
    refused: { rule: 'tenant.namespace', place: TRAIT, says: /Deployment kube-system\/web: namespace "kube-system"/ },
  },
  {
    name: 'a Namespace object (cluster-scoped)',
    files: baseFiles({ 'app.yaml': inline('ns', '{apiVersion: v1, kind: Namespace, metadata: {name: prod}}') }),
    refused: {
      rule: 'tenant.cluster-scoped',
      place: 'app.yaml (document 1, Application prod/shop) field spec.components[0].properties.objects[0].kind',
      says: /Namespace prod is cluster-scoped and tenant "prod" may create no Namespace/,
    },
  },
  {
    name: 'a Namespace object when Namespace is allowed, for an allowed namespace',
    files: baseFiles({ 'app.yaml': inline('ns', '{apiVersion: v1, kind: Namespace, metadata: {name: prod}}') }),
    tenants: '  - {name: prod, clusterScopedKinds: [Namespace]}\n',
  },
  {
    name: 'labels on the kube-system Namespace, Namespace allowed',
    files: baseFiles({ 'app.yaml': inline('ns', kubeSystemLabels) }),
    tenants: '  - {name: prod, clusterScopedKinds: [Namespace], namespaces: ["*"]}\n',
    refused: {
      rule: 'tenant.namespace',
      place: 'field spec.components[0].properties.objects[0].metadata.name',
      says: /Namespace kube-system: namespace "kube-system" belongs to the cluster itself/,
    },
  },
  {
    name: 'a ClusterRoleBinding to cluster-admin',
    files: baseFiles({ 'app.yaml': inline('rbac', clusterAdminBinding) }),
    refused: {
      rule: 'tenant.cluster-scoped',
      place: 'field spec.components[0].properties.objects[0].kind',
      says: /ClusterRoleBinding root is cluster-scoped and tenant "prod" may create no ClusterRoleBinding \(its cluster-scoped kinds: none\)/,
    },
  },
  {
    name: 'a ClusterRoleBinding when the tenant is given ClusterRoleBinding',
    files: baseFiles({ 'app.yaml': inline('rbac', clusterAdminBinding) }),
    tenants: '  - {name: prod, clusterScopedKinds: [ClusterRoleBinding]}\n',
  },
  {
    name: 'a RoleBinding in the own namespace to ClusterRole cluster-admin (escalation)',
    files: baseFiles({ 'app.yaml': inline('rbac', roleBinding('ClusterRole', 'cluster-admin')) }),
    refused: {
      rule: 'tenant.cluster-role',
      place: 'field spec.components[0].properties.objects[0].roleRef.name',
      says: /RoleBinding prod\/grant binds ClusterRole "cluster-admin".*may bind none/,
    },
  },
  {
    name: 'a RoleBinding to ClusterRole admin when only view is allowed',
    files: baseFiles({ 'app.yaml': inline('rbac', roleBinding('ClusterRole', 'admin')) }),
    tenants: '  - {name: prod, clusterRoles: [view]}\n',
    refused: { rule: 'tenant.cluster-role', place: 'roleRef.name', says: /binds ClusterRole "admin".*may bind view/ },
  },
  {
    name: 'a RoleBinding to an allowed ClusterRole',
    files: baseFiles({ 'app.yaml': inline('rbac', roleBinding('ClusterRole', 'view')) }),
    tenants: '  - {name: prod, clusterRoles: [view]}\n',
  },
  { name: 'a RoleBinding to a Role of the namespace', files: baseFiles({ 'app.yaml': inline('rbac', roleBinding('Role', 'reader')) }) },
  {
    name: 'a cluster the tenant may not use, by name',
    files: topologyTo('{clusters: [bj1, bj2]}'),
    tenants: '  - {name: prod, clusters: [bj1]}\n',
    refused: {
      rule: 'tenant.cluster',
      place: 'app.yaml (document 3, Policy some) field properties.clusters[1]',
      says: /step "go" deploys to cluster "bj2", which tenant "prod" may not use \(its clusters: bj1\)/,
    },
  },
  {
    name: 'a cluster the tenant may not use, by its alias',
    files: topologyTo('{clusters: [c2]}'),
    tenants: '  - {name: prod, clusters: [bj1]}\n',
    refused: { rule: 'tenant.cluster', place: 'field properties.clusters[0]', says: /deploys to cluster "bj2"/ },
  },
  {
    name: 'a cluster the registry allows by alias, named by its name',
    files: topologyTo('{clusters: [bj1]}'),
    tenants: '  - {name: prod, clusters: [c1]}\n',
  },
  {
    name: 'a cluster the tenant may not use, by label selector',
    files: topologyTo('{clusterLabelSelector: {city: beijing}}'),
    tenants: '  - {name: prod, clusters: [bj1, hz1]}\n',
    refused: { rule: 'tenant.cluster', place: 'field properties.clusterLabelSelector', says: /cluster "bj2"/ },
  },
  {
    name: 'a TrafficPolicy when the tenant has no GTM entry (the default)',
    files: withTraffic({}),
    refused: {
      rule: 'tenant.gtm-instance',
      place: 'traffic.yaml (document 1, TrafficPolicy prod/shop) field spec.domain',
      says: /uses the default GTM instance \("default": no spec.gtmInstanceId\); tenant "prod" may use none/,
    },
  },
  {
    name: 'a GTM domain not allowed',
    files: withTraffic({ domain: 'bank.example.org' }),
    tenants: '  - {name: prod, gtm: [{instance: default, domains: ["*.example.com"]}]}\n',
    refused: {
      rule: 'tenant.gtm-domain',
      place: 'field spec.domain',
      says: /may not serve domain "bank.example.org" on GTM instance "default" \(its domains there: \*\.example\.com\)/,
    },
  },
  {
    name: 'a GTM domain allowed by a glob',
    files: withTraffic({}),
    tenants: '  - {name: prod, gtm: [{instance: default, domains: ["*.example.com"]}]}\n',
  },
  {
    name: 'a GTM domain glob spans one label only',
    files: withTraffic({ domain: 'a.shop.example.com' }),
    tenants: '  - {name: prod, gtm: [{instance: default, domains: ["*.example.com"]}]}\n',
    refused: { rule: 'tenant.gtm-domain', place: 'spec.domain', says: /"a.shop.example.com"/ },
  },
  {
    name: 'a named GTM instance is not the default one',
    files: withTraffic({ gtmInstanceId: 'gtm-cn-victim' }),
    tenants: '  - {name: prod, gtm: [{instance: default, domains: [shop.example.com]}]}\n',
    refused: {
      rule: 'tenant.gtm-instance',
      place: 'field spec.gtmInstanceId',
      says: /uses GTM instance "gtm-cn-victim"; tenant "prod" may use default/,
    },
  },
  {
    name: 'a named GTM instance that is allowed',
    files: withTraffic({ gtmInstanceId: 'gtm-cn-prod' }),
    tenants: '  - {name: prod, gtm: [{instance: gtm-cn-prod, domains: [shop.example.com]}]}\n',
  },
  {
    name: "a TrafficPolicy reading another namespace's Ingress",
    files: withTraffic({ ingressNamespace: 'billing' }),
    tenants: '  - {name: prod, gtm: [{instance: default, domains: [shop.example.com]}]}\n',
    refused: { rule: 'tenant.namespace', place: 'field spec.ingress.namespace', says: /may not deploy into namespace "billing"/ },
  },
  {
    name: 'a traffic pool on a cluster the tenant may not use',
    files: { ...topologyTo('{clusters: [bj1]}'), 'traffic.yaml': trafficPolicy({ pool: '{name: main, clusters: [c3]}' }) },
    tenants: '  - {name: prod, clusters: [bj1, bj2], gtm: [{instance: default, domains: [shop.example.com]}]}\n',
    refused: { rule: 'tenant.cluster', place: 'field spec.pools[0].clusters[0]', says: /pool "main" reaches cluster "hz1"/ },
  },
  { name: 'a namespace glob', files: relocate('team-a-web'), tenants: '  - {name: prod, namespaces: [prod, "team-a-*"]}\n' },
  {
    name: 'a namespace glob is anchored',
    files: relocate('x-team-a-web'),
    tenants: '  - {name: prod, namespaces: [prod, "team-a-*"]}\n',
    refused: {
      rule: 'tenant.namespace',
      place: 'field properties.namespace',
      says: /namespace "x-team-a-web" \(its namespaces: prod, team-a-\*\)/,
    },
  },
  {
    name: 'a glob never reaches kube-system',
    files: relocate('kube-system'),
    tenants: '  - {name: prod, namespaces: ["*", "kube-*"]}\n',
    refused: { rule: 'tenant.namespace', place: 'field properties.namespace', says: /belongs to the cluster itself/ },
  },
  {
    name: 'kube-system named explicitly by the tenant entry',
    files: relocate('kube-system'),
    tenants: '  - {name: prod, namespaces: [prod, kube-system]}\n',
  },
  {
    name: 'a tenant named kube-system without an entry does not get its own namespace',
    files: relocate('kube-system'),
    tenant: 'kube-system',
    refused: { rule: 'tenant.namespace', place: 'field properties.namespace', says: /tenant "kube-system" does not/ },
  },
  {
    name: "another tenant's application (the key says tenant billing)",
    files: baseFiles(),
    tenant: 'billing',
    refused: {
      rule: 'tenant.namespace',
      place: 'app.yaml (document 1, Application prod/shop) field metadata.namespace',
      says: /tenant "billing" may not deploy into namespace "prod"/,
    },
  },
  {
    name: 'an entry for another tenant gives nothing to this one',
    files: relocate('kube-system'),
    tenants: '  - {name: billing, namespaces: [kube-system]}\n',
    refused: { rule: 'tenant.namespace', place: 'field properties.namespace', says: /kube-system/ },
  },
];

describe('tenancy admission', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const violations = await tenancyOf(c.files, registryYaml(c.tenants), c.tenant);
    if (!c.refused) {
      expect(violations).toEqual([]);
      return;
    }
    const [first] = violations;
    expect(first, 'a violation').toBeDefined();
    expect(first?.rule).toBe(c.refused.rule);
    expect(`${describeLocation(first ? locationOf(first.place) : undefined)}${first?.message}`).toContain(c.refused.place);
    expect(first?.message).toMatch(c.refused.says);
  });

  it('refuses with one VALIDATION error naming file, document and field, listing every violation once', async () => {
    const message = await admissionError(objectsIn('kube-system'), registryYaml(), 'billing');
    expect(message).toMatch(
      /^app\.yaml \(document 1, Application prod\/shop\) field metadata\.namespace: Deployment prod\/web: tenant "billing" may not deploy into namespace "prod"/,
    );
    expect(message).toContain('(and 1 more problem: objects.yaml (document 2, ConfigMap kube-system/web) field metadata.namespace: ');
    expect(message?.split('\n')).toHaveLength(1);
  });

  it('reports a violation once however many clusters and steps reach it', async () => {
    const violations = await tenancyOf(objectsIn('kube-system'), registryYaml());
    expect(violations).toHaveLength(1);
  });

  it('the registry inside the bundle grants nothing: only the registry admission is given counts', async () => {
    const files = {
      ...relocate('kube-system'),
      'clusters.yaml': registryYaml('  - {name: prod, namespaces: [prod, kube-system], clusterScopedKinds: [ClusterRoleBinding]}\n'),
    };
    expect(await admissionError(files, registryYaml())).toMatch(
      /field properties\.namespace: .*"kube-system" belongs to the cluster itself/,
    );
  });
});
