import { DEFAULT_GTM_INSTANCE, gtmVersionOf, type ClusterRegistry } from '../delivery/model/clusters.ts';
import { apiGroup, type KubeObject } from '../delivery/model/kube.ts';
import type { Plan } from '../delivery/model/plan.ts';
import { isClusterScoped } from '../delivery/model/scope.ts';
import { placeAt, type SourcePlace } from '../delivery/model/source.ts';
import { GTM3_PROBE_TIMEOUTS } from '../delivery/model/gtm3-limits.ts';
import type { TrafficPolicy } from '../delivery/model/traffic-policy.ts';
import { describeManifest, eachManifest, placeOf, placeOfTarget } from './manifests.ts';
import { quote, validateNames } from './names.ts';
import {
  canonicalCluster,
  clusterAllowed,
  clusterRoleBindable,
  describeList,
  gtmDecision,
  namespaceAllowed,
  RESERVED_NAMESPACES,
  tenantRules,
  type TenantRules,
} from './tenant.ts';
import { uniqueViolations, violationsError, type Violation } from './violation.ts';

/**
 * Admission of a rendered release for its tenant (the `<tenant>` of `bundles/<tenant>/<name>.<ext>`),
 * after Argo CD's AppProject: every check runs on the rendered output, so a namespace reached
 * through the object itself, a topology's `namespace` or a json-patch is caught alike, and each
 * violation names the input that caused it (render/sources.ts).
 */

export interface AdmissionInput {
  tenant: string;
  registry: ClusterRegistry;
  plan: Plan;
  traffic: ReadonlyArray<{ policy: TrafficPolicy; place: SourcePlace }>;
}

/** Names (as the API server checks them) and tenancy; throws one VALIDATION error listing every violation. */
export function admitRelease(input: AdmissionInput): void {
  const error = violationsError(uniqueViolations([...validateNames(input.plan), ...checkTenancy(input)]));
  if (error) throw error;
}

/** The names alone: what a dry run checks when it has no operator's registry to judge tenancy by. */
export function admitNames(plan: Plan): void {
  const error = violationsError(uniqueViolations(validateNames(plan)));
  if (error) throw error;
}

export function checkTenancy({ tenant, registry, plan, traffic }: AdmissionInput): Violation[] {
  const rules = tenantRules(registry, tenant);
  const out: Violation[] = [];
  for (const step of plan.steps) {
    if (step.type !== 'deploy') continue;
    for (const target of step.targets) {
      if (clusterAllowed(rules, target.cluster)) continue;
      out.push({
        rule: 'tenant.cluster',
        message: `step "${step.name}" deploys to cluster "${target.cluster}", ${clustersSentence(rules)}`,
        place: placeOfTarget(target),
      });
    }
  }
  for (const { manifest } of eachManifest(plan)) out.push(...checkManifest(rules, manifest));
  for (const { policy, place } of traffic) out.push(...checkTraffic(rules, registry, policy, place));
  return uniqueViolations(out);
}

function checkManifest(rules: TenantRules, manifest: KubeObject): Violation[] {
  const what = describeManifest(manifest);
  const out: Violation[] = [];
  if (isClusterScoped(manifest.kind)) {
    if (!rules.clusterScopedKinds.has(manifest.kind)) {
      out.push({
        rule: 'tenant.cluster-scoped',
        message: `${what} is cluster-scoped and tenant "${rules.tenant}" may create no ${manifest.kind} (its cluster-scoped kinds: ${describeList(rules.clusterScopedKinds)}); target namespaces are created by tricenter itself`,
        place: placeOf(manifest, 'kind'),
      });
    } else if (manifest.kind === 'Namespace' && !namespaceAllowed(rules, manifest.metadata.name)) {
      out.push({
        rule: 'tenant.namespace',
        message: `${what}: ${namespaceSentence(rules, manifest.metadata.name)}`,
        place: placeOf(manifest, 'metadata.name'),
      });
    }
  } else {
    const namespace = manifest.metadata.namespace ?? '';
    if (!namespaceAllowed(rules, namespace)) {
      out.push({
        rule: 'tenant.namespace',
        message: `${what}: ${namespaceSentence(rules, namespace)}`,
        place: placeOf(manifest, 'metadata.namespace'),
      });
    }
  }
  const roleRef = manifest.roleRef as { kind?: unknown; name?: unknown } | undefined;
  if (manifest.kind === 'RoleBinding' && apiGroup(manifest.apiVersion) === 'rbac.authorization.k8s.io' && roleRef?.kind === 'ClusterRole') {
    const role = String(roleRef.name);
    if (!clusterRoleBindable(rules, role)) {
      out.push({
        rule: 'tenant.cluster-role',
        message: `${what} binds ClusterRole ${quote(role)}, which would grant its rights (cluster-admin: everything) inside the namespace; tenant "${rules.tenant}" may bind ${describeList(rules.clusterRoles)}`,
        place: placeOf(manifest, 'roleRef.name'),
      });
    }
  }
  return out;
}

function checkTraffic(rules: TenantRules, registry: ClusterRegistry, policy: TrafficPolicy, place: SourcePlace): Violation[] {
  const out: Violation[] = [];
  const spec = policy.spec;
  const instance = spec.gtmInstanceId ?? DEFAULT_GTM_INSTANCE;
  const decision = gtmDecision(rules, instance, spec.domain);
  if (decision === 'instance') {
    const which =
      spec.gtmInstanceId === undefined
        ? `the default GTM instance ("${DEFAULT_GTM_INSTANCE}": no spec.gtmInstanceId)`
        : `GTM instance ${quote(instance)}`;
    out.push({
      rule: 'tenant.gtm-instance',
      message: `TrafficPolicy ${policy.metadata.name} uses ${which}; tenant "${rules.tenant}" may use ${describeList(rules.gtm.map((g) => g.instance))}`,
      place: placeAt(place, spec.gtmInstanceId === undefined ? 'spec.domain' : 'spec.gtmInstanceId'),
    });
  } else if (decision === 'domain') {
    const allowed = rules.gtm.filter((g) => g.instance === instance).flatMap((g) => g.domains);
    out.push({
      rule: 'tenant.gtm-domain',
      message: `tenant "${rules.tenant}" may not serve domain ${quote(spec.domain)} on GTM instance ${quote(instance)} (its domains there: ${describeList(allowed)})`,
      place: placeAt(place, 'spec.domain'),
    });
  }
  // The registry says which GTM the instance is; the policy may say it too, and then they must agree.
  const version = gtmVersionOf(registry, instance) ?? '3.0';
  if (spec.gtmVersion !== undefined && spec.gtmVersion !== version) {
    out.push({
      rule: 'traffic.gtm-version',
      message: `TrafficPolicy ${policy.metadata.name} is written for GTM ${spec.gtmVersion}, but GTM instance ${quote(instance)} is ${version} in the cluster registry`,
      place: placeAt(place, 'spec.gtmVersion'),
    });
  } else if (version === '3.0' && !GTM3_PROBE_TIMEOUTS.includes(spec.healthCheck.timeout)) {
    out.push({
      rule: 'traffic.gtm3-timeout',
      message: `TrafficPolicy ${policy.metadata.name}: GTM instance ${quote(instance)} is GTM 3.0, whose health checks time out after ${GTM3_PROBE_TIMEOUTS.join(', ')} ms only (got ${spec.healthCheck.timeout})`,
      place: placeAt(place, 'spec.healthCheck.timeout'),
    });
  }
  const namespaces: Array<[string, string]> = [['metadata.namespace', policy.metadata.namespace]];
  if (spec.ingress.namespace !== undefined) namespaces.push(['spec.ingress.namespace', spec.ingress.namespace]);
  for (const [field, namespace] of namespaces) {
    if (!namespaceAllowed(rules, namespace))
      out.push({
        rule: 'tenant.namespace',
        message: `TrafficPolicy ${policy.metadata.name}: ${namespaceSentence(rules, namespace)}`,
        place: placeAt(place, field),
      });
  }
  spec.pools.forEach((pool, i) => {
    const poolPlace = placeAt(place, ['spec', 'pools', i]);
    const reached: Array<[string, SourcePlace]> = pool.clusters
      ? pool.clusters.flatMap((written, j): Array<[string, SourcePlace]> => {
          const cluster = canonicalCluster(registry, written);
          return cluster === undefined ? [] : [[cluster, placeAt(poolPlace, ['clusters', j])]];
        })
      : registry.clusters
          .filter((c) => Object.entries(pool.clusterLabelSelector ?? {}).every(([k, v]) => c.labels[k] === v))
          .map((c): [string, SourcePlace] => [c.name, placeAt(poolPlace, 'clusterLabelSelector')]);
    for (const [cluster, at] of reached) {
      if (!clusterAllowed(rules, cluster))
        out.push({
          rule: 'tenant.cluster',
          message: `pool "${pool.name}" reaches cluster "${cluster}", ${clustersSentence(rules)}`,
          place: at,
        });
    }
  });
  return out;
}

function clustersSentence(rules: TenantRules): string {
  return `which tenant "${rules.tenant}" may not use (its clusters: ${describeList(rules.clusters ?? [])})`;
}

function namespaceSentence(rules: TenantRules, namespace: string): string {
  if (RESERVED_NAMESPACES.has(namespace)) {
    return `namespace ${quote(namespace)} belongs to the cluster itself; only a tenant entry that names it (not a glob) may deploy there, and tenant "${rules.tenant}" does not`;
  }
  return `tenant "${rules.tenant}" may not deploy into namespace ${quote(namespace)} (its namespaces: ${describeList(rules.namespaces)})`;
}
