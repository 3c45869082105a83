import { watch, type FSWatcher } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import type { OssEvent } from '../../../platform/triggers/oss.ts';
import type { ObjectInfo } from '../../ports/bundle-source.port.ts';
import type { FolderBucket } from './folder-bucket.ts';

/**
 * Watches a folder bucket and emits OSS-shaped `ObjectCreated:PutObject` events for objects that
 * are new or changed under a prefix — what an OSS trigger does in the cloud.
 *
 * - On start it rescans: every existing object is reported once (ingest is idempotent on
 *   bucket + key + etag, so objects seen before are no-ops, and uploads made while nothing was
 *   watching are not missed).
 * - fs.watch events are debounced per key; an object is reported only when its ETag differs from
 *   the last one reported, so repeated file-system events never fire twice for one content.
 * - No key is filtered by the bundle key rule (shared/delivery/model/bucket-key.ts), as an OSS trigger
 *   filtered on the prefix `bundles/` alone filters none: ingest applies the rule, so a refused
 *   key is recorded as a rejected upload instead of passing unseen.
 * - Half-written files: `FolderBucket.put` renames a complete file into place, so the watcher
 *   only ever sees whole objects. For files copied in by hand, the size and mtime must be the same
 *   before and after hashing, otherwise the check is retried after another debounce.
 */

export interface BucketWatcherOptions {
  bucket: string;
  prefix?: string;
  /** Quiet time after the last file-system event of a key before it is checked (default 200 ms). */
  debounceMs?: number;
  /** Used in the event's `region` and bucket ARN. */
  region?: string;
  /** Report objects that exist when the watcher starts (default true). */
  reportExisting?: boolean;
  /** Called once per new or changed object, one call at a time. */
  onEvent: (event: OssEvent, object: ObjectInfo) => void | Promise<void>;
  logger?: Logger;
}

export interface BucketWatcher {
  /** Checks every object now (also what start does). */
  rescan(): Promise<void>;
  /** Stops watching and waits for the event being delivered, if any. */
  close(): Promise<void>;
}

export async function watchFolderBucket(source: FolderBucket, options: BucketWatcherOptions): Promise<BucketWatcher> {
  const watcher = new FolderBucketWatcher(source, options);
  await watcher.start();
  return watcher;
}

class FolderBucketWatcher implements BucketWatcher {
  private readonly reported = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private fsWatcher: FSWatcher | undefined;
  private delivery: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly prefix: string;
  private readonly debounceMs: number;
  private readonly logger: Logger;

  constructor(
    private readonly source: FolderBucket,
    private readonly options: BucketWatcherOptions,
  ) {
    this.prefix = options.prefix ?? '';
    this.debounceMs = options.debounceMs ?? 200;
    this.logger = options.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    const dir = this.source.bucketPath(this.options.bucket);
    await mkdir(dir, { recursive: true });
    this.fsWatcher = watch(dir, { recursive: true }, (_type, filename) => {
      // Without a file name (some platforms), or for a folder moved in whole, look at everything.
      this.schedule(filename === null ? '' : filename.split(sep).join('/'));
    });
    this.fsWatcher.on('error', (err) => this.logger.error('bucket watcher failed', { bucket: this.options.bucket, error: err }));
    if (this.options.reportExisting ?? true) await this.rescan();
    else for (const info of await this.source.list(this.options.bucket, { prefix: this.prefix })) this.reported.set(info.key, info.etag);
  }

  async rescan(): Promise<void> {
    const objects = await this.source.list(this.options.bucket, { prefix: this.prefix });
    for (const info of objects) this.report(info);
    await this.delivery;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.fsWatcher?.close();
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.delivery;
  }

  private schedule(key: string): void {
    if (this.closed) return;
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      void this.check(key);
    }, this.debounceMs);
    this.timers.set(key, timer);
  }

  private async check(key: string): Promise<void> {
    try {
      if (!this.isObjectKey(key)) {
        // No file name, or a folder above the prefix changed: whatever arrived with it is found by a rescan.
        if (key === '' || this.prefix.startsWith(`${key}/`)) await this.rescan();
        return;
      }
      const before = await this.source.head(this.options.bucket, key);
      if (!before) {
        this.reported.delete(key);
        // A folder moved in whole brings files that raised no event of their own.
        if (await isDirectory(this.source.objectPath(this.options.bucket, key))) await this.rescan();
        return;
      }
      const after = await this.source.head(this.options.bucket, key);
      if (!after || after.size !== before.size || after.lastModified !== before.lastModified) {
        this.schedule(key);
        return;
      }
      this.report(after);
    } catch (err) {
      this.logger.error('bucket watcher could not check an object', { bucket: this.options.bucket, key, error: err });
    }
  }

  /** A key that names a file under the prefix; folders are looked at by a rescan. */
  private isObjectKey(key: string): boolean {
    if (!key.startsWith(this.prefix)) return false;
    try {
      this.source.objectPath(this.options.bucket, key);
      return true;
    } catch {
      return false;
    }
  }

  private report(info: ObjectInfo): void {
    if (this.closed || !info.key.startsWith(this.prefix) || this.reported.get(info.key) === info.etag) return;
    this.reported.set(info.key, info.etag);
    const event = ossObjectCreatedEvent(info, this.options.region ?? 'local');
    this.delivery = this.delivery
      .then(() => this.options.onEvent(event, info))
      .catch((err: unknown) => this.logger.error('bucket event handler failed', { bucket: info.bucket, key: info.key, error: err }));
  }
}

/** The event an OSS trigger delivers for a simple upload (see events/oss-bundle-uploaded.json). */
function ossObjectCreatedEvent(info: ObjectInfo, region: string): OssEvent {
  return {
    events: [
      {
        eventName: 'ObjectCreated:PutObject',
        eventSource: 'acs:oss',
        eventTime: new Date(info.lastModified).toISOString(),
        eventVersion: '1.0',
        region,
        oss: {
          bucket: { arn: `acs:oss:${region}:local:${info.bucket}`, name: info.bucket, ownerIdentity: 'local', virtualBucket: '' },
          object: { deltaSize: info.size, eTag: info.etag, key: info.key, size: info.size },
          ossSchemaVersion: '1.0',
          ruleId: 'tricenter-local-watcher',
        },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { requestId: `local-${info.etag}` },
        userIdentity: { principalId: 'local' },
      },
    ],
  };
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isDirectory(),
    () => false,
  );
}
