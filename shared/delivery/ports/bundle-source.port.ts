/**
 * Where uploaded bundles are read from: an object store (OSS in the cloud, a folder locally).
 * Shaped after OSS: an object has a key, an ETag (hex MD5 for simple uploads, upper case) and a size.
 *
 * Errors: NotFoundError for a missing object; TricenterError `BUNDLE_TOO_LARGE` when the object
 * exceeds `maxBytes` (decided from its metadata, before any download); ConflictError when
 * `ifMatch` no longer matches (the object was replaced after the event that named it).
 */
export interface BundleSource {
  /** Metadata only; undefined when the object does not exist. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  get(bucket: string, key: string, options?: GetOptions): Promise<BundleObject>;
  /** Stores the object whole: readers and watchers never see a partial one. */
  put(bucket: string, key: string, data: Uint8Array): Promise<ObjectInfo>;
  /** Objects whose key starts with `prefix`, sorted by key. */
  list(bucket: string, options?: { prefix?: string }): Promise<ObjectInfo[]>;
}

export interface GetOptions {
  /** Refuse larger objects (default DEFAULT_MAX_BUNDLE_BYTES). */
  maxBytes?: number;
  /** Only if the object still has this ETag (OSS `If-Match`). */
  ifMatch?: string;
}

export interface ObjectInfo {
  bucket: string;
  key: string;
  etag: string;
  size: number;
  lastModified: number;
}

export interface BundleObject extends ObjectInfo {
  data: Uint8Array;
}
