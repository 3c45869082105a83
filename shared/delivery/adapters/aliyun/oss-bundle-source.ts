import OSS from 'ali-oss';
import { ConflictError, NotFoundError, TricenterError } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import { DEFAULT_MAX_BUNDLE_BYTES } from '../../model/records.ts';
import type { BundleObject, BundleSource, GetOptions, ObjectInfo } from '../../ports/bundle-source.port.ts';
import { sameCredentials, type CloudCredentials, type CredentialsProvider } from '../../../platform/credentials.ts';

/**
 * The BundleSource over OSS (`ali-oss`, signature V1 as the SDK sends it by default).
 *
 * - `get` asks HeadObject first and refuses an object over `maxBytes` from its Content-Length, so
 *   an oversized upload is never downloaded; the byte count is checked again after the download
 *   (the object may have been replaced in between).
 * - `ifMatch` travels as `If-Match: "<etag>"`; OSS answers 412 when the object changed, which
 *   becomes ConflictError.
 * - Keys go on the wire percent-encoded by the SDK (spaces, `+`, non-ASCII), and are signed raw.
 * - `list` pages through ListObjectsV2 with continuation tokens.
 */
export interface OssBundleSourceOptions {
  /** e.g. cn-hangzhou. */
  region: string;
  credentials: CredentialsProvider;
  /** Use the region's internal endpoint (inside Alibaba Cloud: free traffic). Default false. */
  internal?: boolean;
  /** Overrides the region endpoint, e.g. `https://oss-cn-hangzhou.aliyuncs.com` (tests: msw). */
  endpoint?: string;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
  /** max-keys of each ListObjectsV2 page (1..1000). Default 1000. */
  listPageSize?: number;
  logger?: Logger;
}

export function createOssBundleSource(options: OssBundleSourceOptions): OssBundleSource {
  return new OssBundleSource(options);
}

interface OssFailure {
  status?: number;
  code?: string;
  name?: string;
  requestId?: string;
}

export class OssBundleSource implements BundleSource {
  private readonly clients = new Map<string, { credentials: CloudCredentials; client: OSS }>();
  private readonly logger: Logger;

  constructor(private readonly options: OssBundleSourceOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'oss-bundle-source' });
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const result = await this.client(bucket).head(key);
      return infoFrom(bucket, key, result.res.headers as Record<string, string | undefined>);
    } catch (err) {
      if ((err as OssFailure).status === 404) return undefined;
      throw this.failure(err, 'HeadObject', bucket, key);
    }
  }

  async get(bucket: string, key: string, options: GetOptions = {}): Promise<BundleObject> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    const head = await this.head(bucket, key);
    if (!head) throw new NotFoundError(`object oss://${bucket}/${key} does not exist`);
    if (head.size > maxBytes) tooLarge(bucket, key, head.size, maxBytes);
    let result;
    try {
      const headers =
        options.ifMatch === undefined ? {} : { 'If-Match': `"${options.ifMatch.replace(/^W\//, '').replace(/"/g, '').toUpperCase()}"` };
      result = await this.client(bucket).get(key, { headers, timeout: this.options.timeoutMs ?? 30_000 });
    } catch (err) {
      const failure = err as OssFailure;
      if (failure.status === 412) {
        throw new ConflictError(`object oss://${bucket}/${key} no longer has ETag ${options.ifMatch}: it was replaced`, { cause: err });
      }
      if (failure.status === 404) throw new NotFoundError(`object oss://${bucket}/${key} does not exist`, { cause: err });
      throw this.failure(err, 'GetObject', bucket, key);
    }
    const data = new Uint8Array(result.content as Buffer);
    if (data.byteLength > maxBytes) tooLarge(bucket, key, data.byteLength, maxBytes);
    const info = infoFrom(bucket, key, result.res.headers as Record<string, string | undefined>);
    return { ...info, size: data.byteLength, data };
  }

  async put(bucket: string, key: string, data: Uint8Array): Promise<ObjectInfo> {
    try {
      const result = await this.client(bucket).put(key, Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
        timeout: this.options.timeoutMs ?? 30_000,
      });
      const headers = (result.res as { headers: Record<string, string | undefined> }).headers;
      return {
        bucket,
        key,
        etag: unquote(headers.etag ?? ''),
        size: data.byteLength,
        lastModified: Date.parse(headers['last-modified'] ?? headers.date ?? '') || 0,
      };
    } catch (err) {
      throw this.failure(err, 'PutObject', bucket, key);
    }
  }

  async list(bucket: string, options: { prefix?: string } = {}): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client(bucket).listV2(
          {
            ...(options.prefix ? { prefix: options.prefix } : {}),
            'max-keys': String(this.options.listPageSize ?? 1000),
            ...(token ? { 'continuation-token': token } : {}),
          },
          { timeout: this.options.timeoutMs ?? 30_000 },
        );
      } catch (err) {
        throw this.failure(err, 'ListObjectsV2', bucket, options.prefix ?? '');
      }
      for (const object of page.objects ?? []) {
        found.push({
          bucket,
          key: object.name,
          etag: unquote(object.etag),
          size: Number(object.size),
          lastModified: Date.parse(object.lastModified),
        });
      }
      token = page.isTruncated ? (page.nextContinuationToken ?? undefined) : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** One SDK client per bucket, rebuilt when the credentials change (STS keys expire). */
  private client(bucket: string): OSS {
    const credentials = this.options.credentials();
    const cached = this.clients.get(bucket);
    if (cached && sameCredentials(cached.credentials, credentials)) return cached.client;
    const client = new OSS({
      region: `oss-${this.options.region}`,
      bucket,
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(credentials.securityToken
        ? {
            stsToken: credentials.securityToken,
            // The SDK asks again after this interval; the provider answers with the invocation's keys.
            refreshSTSToken: async () => {
              const now = this.options.credentials();
              return { accessKeyId: now.accessKeyId, accessKeySecret: now.accessKeySecret, stsToken: now.securityToken ?? '' };
            },
            refreshSTSTokenInterval: 60_000,
          }
        : {}),
      ...(this.options.endpoint ? { endpoint: this.options.endpoint } : {}),
      internal: this.options.internal ?? false,
      secure: true,
      timeout: this.options.timeoutMs ?? 30_000,
    });
    this.clients.set(bucket, { credentials, client });
    return client;
  }

  private failure(err: unknown, action: string, bucket: string, key: string): TricenterError {
    const failure = err as OssFailure;
    const where = `${action} oss://${bucket}/${key}`;
    const detail = `${failure.code ?? failure.name ?? 'error'}${failure.status ? ` (HTTP ${failure.status})` : ''}${failure.requestId ? `, request ${failure.requestId}` : ''}`;
    this.logger.warn('oss request failed', {
      action,
      bucket,
      key,
      status: failure.status ?? null,
      code: failure.code ?? null,
      requestId: failure.requestId ?? null,
    });
    if (failure.status === 403) return new TricenterError('FORBIDDEN', `${where}: OSS refused the request: ${detail}`, { cause: err });
    if (failure.status === 404) return new NotFoundError(`${where}: ${detail}`, { cause: err });
    const network =
      failure.status === -1 ||
      failure.status === -2 ||
      failure.name === 'ResponseTimeoutError' ||
      failure.name === 'ConnectionTimeoutError';
    const retryable = network || (failure.status ?? 0) >= 500 || failure.status === 429;
    return new TricenterError(network ? 'UNREACHABLE' : failure.status === 429 ? 'THROTTLED' : 'INTERNAL', `${where} failed: ${detail}`, {
      cause: err,
      retryable,
    });
  }
}

function tooLarge(bucket: string, key: string, size: number, maxBytes: number): never {
  throw new TricenterError('BUNDLE_TOO_LARGE', `object oss://${bucket}/${key} is ${size} bytes, over the limit of ${maxBytes}`);
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

function infoFrom(bucket: string, key: string, headers: Record<string, string | undefined>): ObjectInfo {
  return {
    bucket,
    key,
    etag: unquote(headers.etag ?? ''),
    size: Number(headers['content-length'] ?? 0),
    lastModified: Date.parse(headers['last-modified'] ?? '') || 0,
  };
}
