import { createHash } from 'node:crypto';
import { TricenterError } from '../../platform/errors.ts';
import { canonicalJson, contentHash } from './canonical.ts';
import type { KubeObject } from './kube.ts';
import { ANNOTATION_CONTENT_HASH } from './ownership.ts';
import type { Plan, PlanStep, ReleasePlan, StoredTarget } from './plan.ts';

/**
 * How a rendered plan is split for storage: the manifests go to object storage as content-addressed
 * packs, and the release row keeps, per step and cluster, only the digests of its packs.
 *
 * A pack is a JSON array of manifests in canonical JSON; its digest is the sha256 of those bytes.
 * Each distinct manifest belongs to the group of the exact set of (step, cluster) targets that
 * deploy it. A group that several targets share and that weighs at least MIN_SHARED_PACK_BYTES
 * becomes a pack of its own, stored once however many clusters read it (at most
 * `maxPacksPerTarget - 1` of them per target, the heaviest); everything else a target deploys goes
 * into one pack for that target. With an override per cluster, a cluster reads two packs: the one
 * every cluster shares and its own, which holds its overridden objects and the few objects that
 * other clusters' overrides changed. Small shared groups are copied into each target's own pack
 * rather than read one request at a time.
 */

export const MAX_PACKS_PER_TARGET = 8;
/** Below this many bytes of JSON, a shared group costs more as a request of its own than as copies. */
const MIN_SHARED_PACK_BYTES = 16 * 1024;

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
  const groups = new Map<string, { objects: KubeObject[]; targets: number; bytes: number }>();
  for (const [id, { object, targets: members }] of objects) {
    const key = members.join(',');
    groupOf.set(id, key);
    const group = groups.get(key) ?? { objects: [], targets: members.length, bytes: 0 };
    group.objects.push(object);
    group.bytes += JSON.stringify(object).length;
    groups.set(key, group);
  }

  const packs = new Map<string, ReleasePack>();
  const groupPacks = new Map<string, ReleasePack>();
  const store = (pack: ReleasePack): string => {
    packs.set(pack.digest, pack);
    return pack.digest;
  };
  const packOfGroup = (key: string): string => {
    let pack = groupPacks.get(key);
    if (!pack) {
      pack = encodePack(groups.get(key)?.objects ?? []);
      groupPacks.set(key, pack);
    }
    return store(pack);
  };
  const weight = (key: string) => groups.get(key)?.bytes ?? 0;
  const shareable = (key: string) => (groups.get(key)?.targets ?? 0) > 1 && weight(key) >= MIN_SHARED_PACK_BYTES;

  const stored: StoredTarget[] = targets.map((target) => {
    const ids = target.manifests.map(identity);
    const inOrder = [...new Set(ids.map((id) => groupOf.get(id) ?? ''))];
    const kept = new Set(
      inOrder
        .filter(shareable)
        .sort((a, b) => weight(b) - weight(a))
        .slice(0, Math.max(0, maxPacksPerTarget - 1)),
    );
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
