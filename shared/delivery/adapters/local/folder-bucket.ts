import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ConflictError, NotFoundError, TricenterError } from '../../../platform/errors.ts';
import { DEFAULT_MAX_BUNDLE_BYTES, sameEtag } from '../../model/records.ts';
import type { BundleObject, BundleSource, GetOptions, ObjectInfo } from '../../ports/bundle-source.port.ts';

/**
 * The local BundleSource: a folder per bucket, `<root>/<bucket>/<key>` (root defaults to
 * `.tricenter/bucket`). ETag = upper-case hex MD5 of the content, as OSS computes it for a simple
 * upload.
 *
 * Atomic uploads: `put` writes to `<root>/.uploads/<uuid>` — outside every bucket, so a watcher
 * never sees it — and renames it into place; a rename within one file system is atomic, so a reader
 * sees the old object or the new one, never half of one. Files copied in by hand are not atomic:
 * the watcher copes by debouncing and re-checking the size (see folder-bucket-watcher.ts).
 */

const DEFAULT_BUCKET_ROOT = '.tricenter/bucket';
const UPLOADS_DIR = '.uploads';
/** OSS bucket naming: 3-63 lower-case letters, digits and dashes, not starting or ending with a dash. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export class FolderBucket implements BundleSource {
  private readonly etags = new Map<string, { size: number; mtimeMs: number; etag: string }>();

  constructor(readonly root: string = DEFAULT_BUCKET_ROOT) {}

  /** The folder of a bucket (validated name). */
  bucketPath(bucket: string): string {
    if (!BUCKET_NAME.test(bucket)) {
      throw new TricenterError('VALIDATION', `bucket name "${bucket}" is not valid: use 3-63 lower-case letters, digits and dashes`);
    }
    return join(this.root, bucket);
  }

  /** The file of an object; refuses keys that would leave the bucket folder or hide in dot-folders. */
  objectPath(bucket: string, key: string): string {
    const segments = key.split('/');
    const unsafe =
      key.length === 0 ||
      key.length > 1023 ||
      key.includes('\0') ||
      key.includes('\\') ||
      segments.some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'));
    if (unsafe) {
      throw new TricenterError(
        'VALIDATION',
        `object key "${key}" is not valid here: no empty, "." or ".." segments, no leading dots, no backslashes`,
      );
    }
    return join(this.bucketPath(bucket), ...segments);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const path = this.objectPath(bucket, key);
    const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (!info?.isFile()) return undefined;
    return { bucket, key, size: info.size, lastModified: Math.floor(info.mtimeMs), etag: await this.etagOf(path, info.size, info.mtimeMs) };
  }

  async get(bucket: string, key: string, options: GetOptions = {}): Promise<BundleObject> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    const head = await this.head(bucket, key);
    if (!head) throw new NotFoundError(`object oss://${bucket}/${key} does not exist`);
    if (head.size > maxBytes) {
      throw new TricenterError('BUNDLE_TOO_LARGE', `object oss://${bucket}/${key} is ${head.size} bytes, over the limit of ${maxBytes}`);
    }
    const data = new Uint8Array(await readFile(this.objectPath(bucket, key)));
    // The file may have been replaced between head and read: describe what was actually read.
    const etag = md5Hex(data);
    if (options.ifMatch !== undefined && !sameEtag(options.ifMatch, etag)) {
      throw new ConflictError(`object oss://${bucket}/${key} has ETag ${etag}, not ${options.ifMatch}: it was replaced`);
    }
    if (data.byteLength > maxBytes) {
      throw new TricenterError(
        'BUNDLE_TOO_LARGE',
        `object oss://${bucket}/${key} is ${data.byteLength} bytes, over the limit of ${maxBytes}`,
      );
    }
    return { ...head, etag, size: data.byteLength, data };
  }

  async put(bucket: string, key: string, data: Uint8Array): Promise<ObjectInfo> {
    const target = this.objectPath(bucket, key);
    const uploads = join(this.root, UPLOADS_DIR);
    await mkdir(uploads, { recursive: true });
    await mkdir(join(target, '..'), { recursive: true });
    const temporary = join(uploads, randomUUID());
    try {
      await writeFile(temporary, data);
      await rename(temporary, target);
    } catch (err) {
      await rm(temporary, { force: true });
      throw err;
    }
    const info = await stat(target);
    const etag = md5Hex(data);
    this.etags.set(target, { size: info.size, mtimeMs: info.mtimeMs, etag });
    return { bucket, key, etag, size: data.byteLength, lastModified: Math.floor(info.mtimeMs) };
  }

  async list(bucket: string, options: { prefix?: string } = {}): Promise<ObjectInfo[]> {
    const base = this.bucketPath(bucket);
    const prefix = options.prefix ?? '';
    const keys = (await walk(base)).map((file) => relative(base, file).split(sep).join('/'));
    const wanted = keys.filter((key) => key.startsWith(prefix) && !key.split('/').some((s) => s.startsWith('.'))).sort();
    const infos = await Promise.all(wanted.map((key) => this.head(bucket, key)));
    return infos.filter((info): info is ObjectInfo => info !== undefined);
  }

  /** MD5 of a file, cached while its size and mtime stay the same. */
  private async etagOf(path: string, size: number, mtimeMs: number): Promise<string> {
    const cached = this.etags.get(path);
    if (cached && cached.size === size && cached.mtimeMs === mtimeMs) return cached.etag;
    const etag = md5Hex(await readFile(path));
    this.etags.set(path, { size, mtimeMs, etag });
    return etag;
  }
}

export function md5Hex(data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex').toUpperCase();
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return walk(path);
      return entry.isFile() ? [path] : [];
    }),
  );
  return nested.flat();
}
