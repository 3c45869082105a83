import type { KubeObject } from '../model/kube.ts';
import { targetsByCluster, type ReleasePlan, type StoredTarget } from '../model/plan.ts';
import { unpack, type ReleasePack } from '../model/release-packs.ts';
import type { ReleaseObjectStore } from '../ports/release-object-store.port.ts';

export interface ReleaseManifestsOptions {
  /** Bytes of packs kept per instance (default 64 MiB). */
  cacheBytes?: number;
  /** Object requests in flight at once (default 8). */
  concurrency?: number;
}

const DEFAULT_RELEASE_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * The manifests of releases, in object storage as content-addressed packs (see release-packs.ts).
 * Every pack read is checked against its digest before use. Packs never change, so one instance
 * of a function keeps those it read, verified and parsed, in a cache bounded in bytes (least
 * recently used first out): the tasks of one release on one instance fetch the shared pack once.
 * Built once per instance by the composition, like the adapters.
 */
export class ReleaseManifests {
  private readonly cache = new Map<string, { manifests: readonly KubeObject[]; bytes: number }>();
  private readonly reading = new Map<string, Promise<readonly KubeObject[]>>();
  private cachedBytes = 0;
  private readonly cacheBytes: number;
  private readonly concurrency: number;

  constructor(
    private readonly objects: ReleaseObjectStore,
    options: ReleaseManifestsOptions = {},
  ) {
    this.cacheBytes = options.cacheBytes ?? DEFAULT_RELEASE_CACHE_BYTES;
    this.concurrency = Math.max(1, options.concurrency ?? 8);
  }

  /** Stores a release's packs. Call it before writing the release that names them, so that no release ever points at a missing pack. */
  async store(packs: readonly ReleasePack[]): Promise<void> {
    await mapLimit(packs, this.concurrency, (pack) => this.objects.put(pack.digest, pack.data));
  }

  /** What one step deploys on one cluster. */
  async manifestsOf(target: StoredTarget): Promise<KubeObject[]> {
    const lists = await mapLimit(target.packs, this.concurrency, (digest) => this.pack(digest));
    return lists.flat();
  }

  /** What the release deploys on one cluster over all its steps: what garbage collection keeps there. */
  async desiredOn(plan: ReleasePlan, cluster: string): Promise<KubeObject[]> {
    const digests = [...new Set((targetsByCluster(plan).get(cluster) ?? []).flatMap((target) => target.packs))];
    return this.manifestsOf({ cluster, packs: digests });
  }

  private async pack(digest: string): Promise<readonly KubeObject[]> {
    const cached = this.cache.get(digest);
    if (cached) {
      this.cache.delete(digest);
      this.cache.set(digest, cached);
      return cached.manifests;
    }
    let reading = this.reading.get(digest);
    if (!reading) {
      reading = this.objects
        .get(digest)
        .then((data) => {
          const manifests = deepFreeze(unpack(digest, data));
          this.remember(digest, manifests, data.byteLength);
          return manifests;
        })
        .finally(() => this.reading.delete(digest));
      this.reading.set(digest, reading);
    }
    return reading;
  }

  private remember(digest: string, manifests: readonly KubeObject[], bytes: number): void {
    if (bytes > this.cacheBytes) return;
    this.cache.set(digest, { manifests, bytes });
    this.cachedBytes += bytes;
    for (const [oldest, entry] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes) break;
      this.cache.delete(oldest);
      this.cachedBytes -= entry.bytes;
    }
  }
}

/** `work` over every item, at most `limit` at a time, results in item order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Cached manifests are shared by every caller on this instance: nobody may change them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
