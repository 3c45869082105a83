/**
 * Where the manifests of releases live: immutable objects named by the sha256 (hex) of their
 * bytes, in object storage (OSS in the cloud, the bucket folder locally), apart from uploaded
 * bundles so that storing one never triggers an ingest.
 *
 * `put` is idempotent: the same digest always names the same bytes. `get` returns the bytes as
 * stored, unchecked: anyone with write access to the bucket could have replaced them, so the
 * reader checks them against the digest (see `unpack`). A digest that is not 64 lower-case hex
 * characters is refused (VALIDATION) before any request; a missing object is NotFoundError.
 */
export interface ReleaseObjectStore {
  put(digest: string, data: Uint8Array): Promise<void>;
  get(digest: string): Promise<Uint8Array>;
}
