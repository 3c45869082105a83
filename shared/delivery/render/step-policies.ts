import type { Component } from '../model/application.ts';
import type { AppBundle } from '../model/bundle.ts';
import type { ClusterRegistry } from '../model/clusters.ts';
import type { KubeObject } from '../model/kube.ts';
import { ANNOTATION_GC_PROPAGATION, ANNOTATION_GC_STRATEGY, ANNOTATION_READ_ONLY, LABEL_PLACEMENT_CLUSTER } from '../model/ownership.ts';
import type { ClusterTarget, PlanStep } from '../model/plan.ts';
import { matchesResourceSelector, type OverridePolicy, type Policy, type TopologyPolicy } from '../model/policy.ts';
import { bundleError, placeAt, type SourcePlace } from '../model/source.ts';
import type { ApplyComponentStepSpec, StepSpec } from '../model/workflow.ts';
import { attachTargetPlacement, manifestSource, placeOfField, targetPlacement } from './sources.ts';

/**
 * What KubeVela's policies and workflow steps add to rendering, beside the render hot path:
 * override `selector`, `apply-component` steps, the `app.oam.dev/cluster` placement label, and the
 * annotations that carry `read-only` and `garbage-collect` rules to the gateway.
 */

/**
 * The components a deploy step deploys: all of them, unless override policies of the step carry a
 * `selector` (each one narrows the previous, as KubeVela applies them in turn). A name no component
 * has is refused, as for override entries.
 */
export function selectedComponents(overrides: OverridePolicy[], components: Component[]): Set<string> | undefined {
  let selected: Set<string> | undefined;
  for (const policy of overrides) {
    if (!policy.selector) continue;
    const { names, place } = policy.selector;
    names.forEach((name, i) => {
      if (components.some((c) => c.name === name)) return;
      throw bundleError(
        `no component named "${name}" (components: ${components.map((c) => c.name).join(', ')})`,
        placeAt(place, [i]),
        'RENDER',
      );
    });
    const previous = selected;
    selected = new Set(names.filter((name) => previous === undefined || previous.has(name)));
  }
  return selected;
}

/**
 * The topology an `apply-component` step deploys with: its `cluster` (a registry name or alias),
 * else every topology policy of the application (there is no hub cluster to fall back to, unlike
 * KubeVela's default), with its `namespace` as the topology's.
 */
export function applyComponentTopologies(spec: ApplyComponentStepSpec, bundle: AppBundle, registry: ClusterRegistry): TopologyPolicy[] {
  const propsPlace = placeAt(spec.place, 'properties');
  const components = bundle.application.components;
  if (!components.some((c) => c.name === spec.component)) {
    throw bundleError(
      `no component named "${spec.component}" (components: ${components.map((c) => c.name).join(', ')})`,
      placeAt(propsPlace, 'component'),
      'RENDER',
    );
  }
  if (spec.cluster !== undefined) {
    if (!registry.clusters.some((c) => c.name === spec.cluster || c.aliases.includes(spec.cluster as string))) {
      throw bundleError(
        `unknown cluster "${spec.cluster}"; the registry has ${registry.clusters.map((c) => c.name).join(', ')} (there is no hub cluster "local")`,
        placeAt(propsPlace, 'cluster'),
        'RENDER',
      );
    }
    const properties = { clusters: [spec.cluster], allowEmpty: false, ...(spec.namespace ? { namespace: spec.namespace } : {}) };
    return [{ name: spec.name, type: 'topology', place: spec.place, properties }];
  }
  const topologies = bundle.policies.filter((p): p is TopologyPolicy => p.type === 'topology');
  if (topologies.length === 0) {
    throw bundleError(
      'an apply-component step without a cluster deploys where the topology policies say, and there is none (no hub cluster to fall back to); set properties.cluster or add a topology policy',
      propsPlace,
      'RENDER',
    );
  }
  if (spec.namespace === undefined) return topologies;
  const namespace = spec.namespace;
  return topologies.map((t) => ({ ...t, place: spec.place, properties: { ...t.properties, namespace } }));
}

/** The plan step's place in the run order, as the workflow gave it. */
export function withStepOrder<S extends PlanStep>(step: S, spec: StepSpec): S {
  if (spec.group !== undefined) step.group = spec.group;
  if (spec.dependsOn !== undefined) step.dependsOn = [...spec.dependsOn];
  return step;
}

/** `{keepLegacyResources: true}` when a garbage-collect policy says so. */
export function legacyResources(policies: readonly Policy[]): { keepLegacyResources?: true } {
  return policies.some((p) => p.type === 'garbage-collect' && p.keepLegacyResource) ? { keepLegacyResources: true } : {};
}

/**
 * The annotations that tell the gateway what read-only and garbage-collect policies say of one
 * object: `tricenter.io/read-only` (the policy's name: only read and health-checked, never written)
 * and `tricenter.io/gc-strategy` / `tricenter.io/gc-propagation` (the first matching rule).
 */
export function lifecycleAnnotations(
  policies: readonly Policy[],
  object: { component: string; componentType: string; kind: string; name: string },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const policy of policies) {
    if (policy.type === 'read-only' && out[ANNOTATION_READ_ONLY] === undefined) {
      if (policy.selectors.some((s) => matchesResourceSelector(s, object))) out[ANNOTATION_READ_ONLY] = policy.name;
    }
    if (policy.type === 'garbage-collect' && out[ANNOTATION_GC_STRATEGY] === undefined) {
      const rule = policy.rules.find((r) => matchesResourceSelector(r.selector, object));
      if (rule) {
        out[ANNOTATION_GC_STRATEGY] = rule.strategy;
        if (rule.propagation === 'orphan') out[ANNOTATION_GC_PROPAGATION] = 'orphan';
      }
    }
  }
  return out;
}

/**
 * KubeVela's fixed placement: an object labelled `app.oam.dev/cluster: <cluster>` goes to that
 * cluster only, whatever the step's topology (a step that deploys its component sends it there,
 * adding the cluster to the step if the topology did not select it). `local` (KubeVela's hub) and
 * names the registry does not know are refused at the label.
 */
export function placeByClusterLabel(targets: ClusterTarget[], registry: ClusterRegistry): ClusterTarget[] {
  const first = targets[0];
  if (!first?.manifests.some((m) => m.metadata.labels?.[LABEL_PLACEMENT_CLUSTER] !== undefined)) return targets;
  const canonical = new Map<string, string>();
  for (const cluster of registry.clusters) {
    canonical.set(cluster.name, cluster.name);
    for (const alias of cluster.aliases) canonical.set(alias, cluster.name);
  }
  const placed = new Map<KubeObject, string>();
  for (const target of targets) {
    for (const manifest of target.manifests) {
      const written = manifest.metadata.labels?.[LABEL_PLACEMENT_CLUSTER];
      if (written === undefined || placed.has(manifest)) continue;
      const cluster = canonical.get(written);
      if (cluster === undefined) {
        const source = manifestSource(manifest);
        const field = `metadata.labels["${LABEL_PLACEMENT_CLUSTER}"]`;
        const place: SourcePlace = source ? placeOfField(source, field) : { file: '', document: 0, line: 0, path: field };
        throw bundleError(
          `places the object on cluster "${written}", which the registry does not have (${registry.clusters.map((c) => c.name).join(', ')}; there is no hub cluster "local")`,
          place,
          'RENDER',
        );
      }
      placed.set(manifest, cluster);
    }
  }
  const out: ClusterTarget[] = targets.map((target) => {
    const kept: ClusterTarget = {
      cluster: target.cluster,
      manifests: target.manifests.filter((m) => (placed.get(m) ?? target.cluster) === target.cluster),
    };
    const place = targetPlacement(target);
    if (place) attachTargetPlacement(kept, place);
    return kept;
  });
  // Objects placed on a cluster the topology did not select: that cluster joins the step for them alone.
  // Every target of a step holds the same objects (only a topology's namespace may differ): take them from the first.
  const extra = new Map<string, KubeObject[]>();
  for (const manifest of first.manifests) {
    const cluster = placed.get(manifest);
    if (cluster === undefined || targets.some((t) => t.cluster === cluster)) continue;
    extra.set(cluster, [...(extra.get(cluster) ?? []), manifest]);
  }
  for (const [cluster, manifests] of extra) {
    const target: ClusterTarget = { cluster, manifests };
    const source = manifests[0] ? manifestSource(manifests[0]) : undefined;
    if (source) attachTargetPlacement(target, placeOfField(source, `metadata.labels["${LABEL_PLACEMENT_CLUSTER}"]`));
    out.push(target);
  }
  return out;
}
