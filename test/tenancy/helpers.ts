/**
 * Bundles for the admission tables: the render helpers' base bundle (Application prod/shop,
 * clusters bj1/c1, bj2/c2, hz1/c3), changed one piece at a time, rendered against a registry
 * that the case writes (its `tenants` section is the point of most cases).
 */
import { loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { isTricenterError } from '#shared/platform/errors.ts';
import { parseClusterRegistry } from '#shared/delivery/model/clusters.ts';
import { render } from '#shared/delivery/render/render.ts';
import { admitRelease, checkTenancy } from '#shared/tenancy/admission.ts';
import type { Violation } from '#shared/tenancy/violation.ts';
import { APP_YAML, bundleOf, CLUSTERS_YAML } from '../render/helpers.ts';

/** Appended to app.yaml, whose documents are 1: Application, 2: Policy everywhere; these are 3, 4... */
const doc = (text: string) => `${text}---\n`;
export const policy = (name: string, type: string, properties: string) =>
  doc(`apiVersion: core.oam.dev/v1alpha1\nkind: Policy\nmetadata: {name: ${name}}\ntype: ${type}\nproperties: ${properties}\n`);
export const workflow = (policies: string[]) =>
  doc(
    `apiVersion: core.oam.dev/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\nsteps:\n  - {name: go, type: deploy, properties: {policies: ${JSON.stringify(policies)}}}\n`,
  );

/** The base Application with one more component (YAML list entry indented by 4). */
const withComponent = (component: string) => APP_YAML.replace('  components:\n', `  components:\n${component}`);

/** A k8s-objects component carrying one inline object (flow YAML). */
export const inline = (name: string, object: string) =>
  withComponent(`    - name: ${name}\n      type: k8s-objects\n      properties:\n        objects:\n          - ${object}\n`);

export const trafficPolicy = (
  spec: { domain?: string; gtmInstanceId?: string; ingressNamespace?: string; pool?: string; namespace?: string } = {},
) =>
  `apiVersion: tricenter.io/v1alpha1
kind: TrafficPolicy
metadata: {name: shop, namespace: ${spec.namespace ?? 'prod'}}
spec:
  domain: ${spec.domain ?? 'shop.example.com'}
${spec.gtmInstanceId ? `  gtmInstanceId: ${spec.gtmInstanceId}\n` : ''}  ingress: {name: web${spec.ingressNamespace ? `, namespace: ${spec.ingressNamespace}` : ''}}
  ttl: 60
  pools:
    - ${spec.pool ?? '{name: main, clusters: [bj1]}'}
  healthCheck: {port: 80, interval: 60, evaluationCount: 2, timeout: 5000}
  access: {primary: main}
`;

export const registryYaml = (tenants = '') => `${CLUSTERS_YAML}${tenants ? `tenants:\n${tenants}` : ''}`;

/** Renders `files` against `registry` and returns the tenancy violations of `tenant`. */
export async function tenancyOf(files: Record<string, string>, registry: string, tenant = 'prod'): Promise<Violation[]> {
  const bundle = await bundleOf(files);
  const parsed = parseClusterRegistry(await loadBundleBytes('clusters.yaml', Buffer.from(registry)));
  return checkTenancy({ tenant, registry: parsed, plan: render(bundle, parsed), traffic: bundle.trafficPolicies });
}

/** The error admission throws (or undefined when the bundle is admitted). */
export async function admissionError(files: Record<string, string>, registry: string, tenant = 'prod'): Promise<string | undefined> {
  const bundle = await bundleOf(files);
  const parsed = parseClusterRegistry(await loadBundleBytes('clusters.yaml', Buffer.from(registry)));
  try {
    admitRelease({ tenant, registry: parsed, plan: render(bundle, parsed), traffic: bundle.trafficPolicies });
    return undefined;
  } catch (err) {
    if (isTricenterError(err) && err.code === 'VALIDATION') return err.message;
    throw err;
  }
}
