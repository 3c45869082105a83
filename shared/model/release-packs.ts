import { createHash } from 'node:crypto';
import { TricenterError } from '../core/errors.ts';
import { canonicalJson, contentHash } from './canonical.ts';
import type { KubeObject } from './kube.ts';
import { ANNOTATION_CONTENT_HASH } from './ownership.ts';
import type { Plan, PlanStep, ReleasePlan, StoredTarget } from './plan.ts';

/**
 * How a rendered plan is split for storage: the manifests go to object storage as content-addressed
 * packs, and the release row keeps, per step and cluster, only the digests of its packs.
 *
 * A pack is a JSON array of manifests in canonical JSON; its digest is the sha256 of those bytes.
 * Every distinct manifest of the release falls in the pack of the exact set of (step, cluster)
 * targets that deploy it, so an object identical on 50 clusters is stored once and a cluster
 * reads few packs: with a per-cluster override, the pack shared by every cluster and its own. A
 * target that would need more than `maxPacksPerTarget` packs (overrides scattered over many
 * components) keeps its largest shared packs and gets the rest in one pack of its own, which
 * bounds the reads of a deploy task at the price of storing those few objects more than once.
 */

export const MAX_PACKS_PER_TARGET = 16;

export interface ReleasePack {
  /** sha256 (hex) of `data`. */
  digest: string;
  data: Uint8Array;
  objects: number;
}

export interface PackedRelease {
  plan: ReleasePlan;
  /** Each distinct pack once. */
  packs: ReleasePack[];
}

const DIGEST = /^[0-9a-f]{64}$/;

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

export function packRelease(plan: Plan, maxPacksPerTarget = MAX_PACKS_PER_TARGET): PackedRelease {
  const identity = objectIdentities();
  const targets = plan.steps.flatMap((step) => (step.type === 'deploy' ? step.targets : []));

  // Which targets each distinct object belongs to, in order of first appearance.
  const objects = new Map<string, { object: KubeObject; targets: number[] }>();
  targets.forEach((target, ordinal) => {
    for (const manifest of target.manifests) {
      const id = identity(manifest);
      const entry = objects.get(id) ?? { object: manifest, targets: [] };
      if (entry.targets.at(-1) !== ordinal) entry.targets.push(ordinal);
      objects.set(id, entry);
    }
  });
  const groupOf = new Map<string, string>();
  const groups = new Map<string, KubeObject[]>();
  for (const [id, { object, targets: members }] of objects) {
    const key = members.join(',');
    groupOf.set(id, key);
    groups.set(key, [...(groups.get(key) ?? []), object]);
  }

  const packs = new Map<string, ReleasePack>();
  const groupPacks = new Map<string, ReleasePack>();
  const store = (pack: ReleasePack): string => {
    packs.set(pack.digest, pack);
    return pack.digest;
  };
  const packOfGroup = (key: string): string => {
    let pack = groupPacks.get(key);
    if (!pack) groupPacks.set(key, (pack = encodePack(groups.get(key) ?? [])));
    return store(pack);
  };

  const stored: StoredTarget[] = targets.map((target) => {
    const ids = target.manifests.map(identity);
    const inOrder = [...new Set(ids.map((id) => groupOf.get(id) ?? ''))];
    const kept =
      inOrder.length <= maxPacksPerTarget
        ? new Set(inOrder)
        : new Set([...inOrder].sort((a, b) => (groups.get(b)?.length ?? 0) - (groups.get(a)?.length ?? 0)).slice(0, maxPacksPerTarget - 1));
    const digests = inOrder.filter((key) => kept.has(key)).map(packOfGroup);
    const own = [...new Set(ids.filter((id) => !kept.has(groupOf.get(id) ?? '')))].map((id) => objects.get(id)?.object as KubeObject);
    if (own.length > 0) digests.push(store(encodePack(own)));
    return { cluster: target.cluster, packs: digests };
  });

  let next = 0;
  const steps = plan.steps.map((step): PlanStep<StoredTarget> => {
    if (step.type !== 'deploy') return step;
    const { targets: rendered, ...rest } = step;
    return { ...rest, targets: rendered.map(() => stored[next++] as StoredTarget) };
  });
  return { plan: { ...plan, steps }, packs: [...packs.values()] };
}

/** The manifests of a pack read back, refused unless its bytes hash to the digest that named it. */
export function unpack(digest: string, data: Uint8Array): KubeObject[] {
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== digest) {
    throw new TricenterError(
      'INTEGRITY',
      `release object ${digest} failed its integrity check: its content hashes to ${actual}; it was changed in the bucket after tricenter wrote it, and is not applied`,
    );
  }
  const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
  if (!Array.isArray(parsed)) throw new TricenterError('INTEGRITY', `release object ${digest} is not a list of manifests`);
  return parsed as KubeObject[];
}

function encodePack(objects: KubeObject[]): ReleasePack {
  const data = new TextEncoder().encode(canonicalJson(objects));
  return { digest: createHash('sha256').update(data).digest('hex'), data, objects: objects.length };
}

/**
 * What makes two manifests the same: the content hash render stamps on every manifest (the hash of
 * everything else in it), or the hash of the whole object when a plan was built by other means.
 * Clusters of one step share their manifest objects, so each is looked at once.
 */
function objectIdentities(): (object: KubeObject) => string {
  const seen = new WeakMap<KubeObject, string>();
  return (object) => {
    let id = seen.get(object);
    if (id === undefined) {
      const stamped = object.metadata.annotations?.[ANNOTATION_CONTENT_HASH];
      id = stamped ?? contentHash(object);
      seen.set(object, id);
    }
    return id;
  };
}
