import type { ClusterRegistry } from '../model/clusters.ts';
import type { ClusterLabelSelector, LabelSelectorRequirement, TopologyPolicy } from '../model/policy.ts';
import { bundleError, placeAt, type SourcePlace } from '../model/source.ts';

/** A cluster a topology selects, with the field that selected it. */
export interface SelectedCluster {
  cluster: string;
  place: SourcePlace;
}

/**
 * Which registry clusters a topology policy selects: `clusters` (names or aliases) wins over
 * `clusterLabelSelector`; the result is in the order written (names) or the registry's order
 * (selector), without duplicates. Matching nothing is an error unless `allowEmpty`.
 */
export function selectClusters(policy: TopologyPolicy, registry: ClusterRegistry): SelectedCluster[] {
  const props = policy.properties;
  const propsPlace = placeAt(policy.place, 'properties');
  let selected: SelectedCluster[];
  let field: string;
  if (props.clusters !== undefined) {
    field = 'clusters';
    const byName = new Map<string, string>();
    for (const cluster of registry.clusters) {
      byName.set(cluster.name, cluster.name);
      for (const alias of cluster.aliases) byName.set(alias, cluster.name);
    }
    selected = props.clusters.map((written, i) => {
      const name = byName.get(written);
      const place = placeAt(propsPlace, ['clusters', i]);
      if (name === undefined) {
        throw bundleError(
          `unknown cluster "${written}"; the registry has ${registry.clusters.map((c) => c.name).join(', ')}`,
          place,
          'RENDER',
        );
      }
      return { cluster: name, place };
    });
  } else if (props.clusterLabelSelector !== undefined) {
    field = 'clusterLabelSelector';
    const selector = props.clusterLabelSelector;
    const place = placeAt(propsPlace, field);
    selected = registry.clusters.filter((c) => matchesLabelSelector(c.labels, selector)).map((c) => ({ cluster: c.name, place }));
  } else {
    throw bundleError(
      'a topology policy needs clusters or clusterLabelSelector (there is no hub cluster to fall back to)',
      propsPlace,
      'RENDER',
    );
  }
  const unique = selected.filter((s, i) => selected.findIndex((other) => other.cluster === s.cluster) === i);
  if (unique.length === 0 && !props.allowEmpty) {
    throw bundleError(
      `matches no cluster of the registry (${registry.clusters.map((c) => c.name).join(', ')}); set allowEmpty: true if that is intended`,
      placeAt(propsPlace, field),
      'RENDER',
    );
  }
  return unique;
}

/** Kubernetes label selector semantics; a plain map means matchLabels. An empty selector matches everything. */
export function matchesLabelSelector(labels: Record<string, string>, selector: ClusterLabelSelector): boolean {
  const structured = isStructured(selector);
  const matchLabels = structured ? (selector.matchLabels ?? {}) : selector;
  for (const [key, value] of Object.entries(matchLabels)) if (labels[key] !== value) return false;
  if (!structured) return true;
  return (selector.matchExpressions ?? []).every((req) => matchesRequirement(labels, req));
}

function isStructured(
  selector: ClusterLabelSelector,
): selector is { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorRequirement[] } {
  return Object.values(selector).some((v) => typeof v !== 'string');
}

function matchesRequirement(labels: Record<string, string>, req: LabelSelectorRequirement): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  switch (req.operator) {
    case 'In':
      return has && value !== undefined && (req.values ?? []).includes(value);
    case 'NotIn':
      return !has || value === undefined || !(req.values ?? []).includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}
