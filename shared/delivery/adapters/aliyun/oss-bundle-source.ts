import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError, TricenterError } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import { DEFAULT_MAX_BUNDLE_BYTES } from '../../model/records.ts';
import type { BundleObject, BundleSource, GetOptions, ObjectInfo } from '../../ports/bundle-source.port.ts';
import type { CredentialsProvider } from '../../../platform/credentials.ts';
import { httpsCall, HttpsCallFailed, type HttpsAnswer } from './https-call.ts';
import { ossV1Authorization, type Headers } from './signatures.ts';
import { listBucketResult, ossErrorFields } from './oss-xml.ts';

/**
 * The BundleSource over OSS's REST API, signed requests over Node's https (signatures.ts: V1, the
 * `Authorization: OSS <id>:<signature>` ali-oss sends by default; the bucket virtual-hosted as
 * `<bucket>.<endpoint>`). Plain requests instead of the `ali-oss` SDK: a function reading one
 * object at cold start paid for the SDK's whole dependency tree (iconv-lite, urllib, xml2js...),
 * about a third of a bundle-ingest's first invocation; four calls need none of it.
 *
 * - `get` asks HeadObject first and refuses an object over `maxBytes` from its Content-Length, so
 *   an oversized upload is never downloaded; the download itself stops as soon as it passes
 *   `maxBytes` (the object may have been replaced in between).
 * - `ifMatch` travels as `If-Match: "<etag>"`; OSS answers 412 when the object changed, which
 *   becomes ConflictError.
 * - Keys go on the wire percent-encoded (spaces, `+`, non-ASCII), and are signed raw.
 * - `put` sends Content-MD5, so OSS refuses a body damaged on the way.
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

/** OSS bucket names (the rule ali-oss checks before sending): 3..63 of a-z, 0-9, `-` and `_`, not starting or ending with `-`. */
const BUCKET_NAME = /^[a-z0-9_][a-z0-9-_]{1,61}[a-z0-9_]$/;

/** What an OSS request failed with: the service's error, or no answer at all. */
interface OssFailure {
  status?: number;
  code: string;
  requestId?: string;
  network?: boolean;
}

class OssRequestFailed extends Error {
  constructor(readonly failure: OssFailure) {
    super(failure.code);
  }
}

const CONTENT_TYPES: Record<string, string> = {
  yaml: 'text/yaml',
  yml: 'text/yaml',
  json: 'application/json',
  zip: 'application/zip',
  tgz: 'application/gzip',
  gz: 'application/gzip',
};

export class OssBundleSource implements BundleSource {
  private readonly logger: Logger;
  private readonly endpoint: URL;

  constructor(private readonly options: OssBundleSourceOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'oss-bundle-source' });
    this.endpoint = new URL(options.endpoint ?? `https://oss-${options.region}${options.internal ? '-internal' : ''}.aliyuncs.com`);
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const answer = await this.send('HEAD', bucket, key);
      return infoFrom(bucket, key, answer);
    } catch (err) {
      if (failureOf(err).status === 404) return undefined;
      throw this.failure(err, 'HeadObject', bucket, key);
    }
  }

  async get(bucket: string, key: string, options: GetOptions = {}): Promise<BundleObject> {
    const maxBytes = options.maxBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    const head = await this.head(bucket, key);
    if (!head) throw new NotFoundError(`object oss://${bucket}/${key} does not exist`);
    if (head.size > maxBytes) tooLarge(bucket, key, head.size, maxBytes);
    let answer: HttpsAnswer;
    try {
      const headers: Headers =
        options.ifMatch === undefined ? {} : { 'if-match': `"${options.ifMatch.replace(/^W\//, '').replace(/"/g, '').toUpperCase()}"` };
      answer = await this.send('GET', bucket, key, { headers, maxBodyBytes: maxBytes });
    } catch (err) {
      if (err instanceof HttpsCallFailed && err.reason === 'too-large') {
        throw new TricenterError(
          'BUNDLE_TOO_LARGE',
          `object oss://${bucket}/${key} grew past the limit of ${maxBytes} bytes while it was read`,
        );
      }
      const failure = failureOf(err);
      if (failure.status === 412) {
        throw new ConflictError(`object oss://${bucket}/${key} no longer has ETag ${options.ifMatch}: it was replaced`, { cause: err });
      }
      if (failure.status === 404) throw new NotFoundError(`object oss://${bucket}/${key} does not exist`, { cause: err });
      throw this.failure(err, 'GetObject', bucket, key);
    }
    const data = new Uint8Array(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
    return { ...infoFrom(bucket, key, answer), size: data.byteLength, data };
  }

  async put(bucket: string, key: string, data: Uint8Array): Promise<ObjectInfo> {
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const extension = /\.([a-z0-9]+)$/i.exec(key)?.[1]?.toLowerCase() ?? '';
    try {
      const answer = await this.send('PUT', bucket, key, {
        body,
        headers: {
          'content-md5': createHash('md5').update(body).digest('base64'),
          'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
        },
      });
      const headers = answer.headers;
      return {
        bucket,
        key,
        etag: unquote(String(headers.etag ?? '')),
        size: data.byteLength,
        lastModified: Date.parse(String(headers['last-modified'] ?? headers.date ?? '')) || 0,
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
        const answer = await this.send('GET', bucket, '', {
          query: {
            'list-type': '2',
            ...(options.prefix ? { prefix: options.prefix } : {}),
            'max-keys': String(this.options.listPageSize ?? 1000),
          },
          // ali-oss signs the continuation token as a sub-resource; OSS accepts it signed.
          ...(token ? { subresources: { 'continuation-token': token } } : {}),
        });
        page = listBucketResult(answer.body.toString('utf8'));
      } catch (err) {
        throw this.failure(err, 'ListObjectsV2', bucket, options.prefix ?? '');
      }
      for (const object of page.objects) found.push({ bucket, ...object });
      token = page.nextContinuationToken;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** One signed request with the keys valid now; a non-2xx answer becomes OssRequestFailed. */
  private async send(
    method: string,
    bucket: string,
    key: string,
    request: {
      headers?: Headers;
      query?: Record<string, string>;
      subresources?: Record<string, string>;
      body?: Buffer;
      maxBodyBytes?: number;
    } = {},
  ): Promise<HttpsAnswer> {
    if (!BUCKET_NAME.test(bucket)) {
      throw new TricenterError('VALIDATION', `"${bucket.slice(0, 80)}" is not an OSS bucket name (3-63 of a-z, 0-9, "-", "_")`);
    }
    const origin = new URL(this.endpoint.origin);
    origin.hostname = `${bucket}.${this.endpoint.hostname}`;
    const search = new URLSearchParams({ ...request.subresources, ...request.query }).toString();
    const path = `/${encodeURIComponent(key).replace(/%2F/g, '/')}${search ? `?${search}` : ''}`;
    const keys = this.options.credentials();
    const headers: Headers = {
      ...request.headers,
      'x-oss-date': new Date().toUTCString(),
      ...(keys.securityToken ? { 'x-oss-security-token': keys.securityToken } : {}),
    };
    headers.authorization = ossV1Authorization(keys, {
      method,
      bucket,
      key,
      headers,
      ...(request.subresources ? { subresources: request.subresources } : {}),
    });
    let answer: HttpsAnswer;
    try {
      answer = await httpsCall({
        method,
        origin,
        path,
        headers,
        ...(request.body ? { body: request.body } : {}),
        timeoutMs: this.options.timeoutMs ?? 30_000,
        ...(request.maxBodyBytes !== undefined ? { maxBodyBytes: request.maxBodyBytes } : {}),
      });
    } catch (err) {
      if (err instanceof HttpsCallFailed && err.reason === 'too-large') throw err;
      throw new OssRequestFailed({ code: err instanceof Error ? err.message : String(err), network: true });
    }
    if (answer.status >= 200 && answer.status < 300) return answer;
    const fields = method === 'HEAD' ? {} : ossErrorFields(answer.body.toString('utf8'));
    const requestId = fields.requestId ?? headerText(answer.headers['x-oss-request-id']);
    throw new OssRequestFailed({
      status: answer.status,
      code: fields.code ?? (answer.status === 404 ? 'NoSuchKey' : answer.status === 412 ? 'PreconditionFailed' : `Unknown${answer.status}`),
      ...(requestId ? { requestId } : {}),
    });
  }

  private failure(err: unknown, action: string, bucket: string, key: string): TricenterError {
    if (err instanceof TricenterError) return err;
    const failure = failureOf(err);
    const where = `${action} oss://${bucket}/${key}`;
    const detail = `${failure.code}${failure.status ? ` (HTTP ${failure.status})` : ''}${failure.requestId ? `, request ${failure.requestId}` : ''}`;
    this.logger.warn('oss request failed', {
      action,
      bucket,
      key,
      status: failure.status ?? null,
      code: failure.code,
      requestId: failure.requestId ?? null,
    });
    if (failure.status === 403) return new TricenterError('FORBIDDEN', `${where}: OSS refused the request: ${detail}`, { cause: err });
    if (failure.status === 404) return new NotFoundError(`${where}: ${detail}`, { cause: err });
    const network = failure.network === true;
    const retryable = network || (failure.status ?? 0) >= 500 || failure.status === 429;
    return new TricenterError(network ? 'UNREACHABLE' : failure.status === 429 ? 'THROTTLED' : 'INTERNAL', `${where} failed: ${detail}`, {
      cause: err,
      retryable,
    });
  }
}

function failureOf(err: unknown): OssFailure {
  if (err instanceof OssRequestFailed) return err.failure;
  // A garbled answer (a listing that is not ListBucketResult XML): OSS answered, but not usefully.
  return { code: err instanceof Error ? err.message : String(err) };
}

function tooLarge(bucket: string, key: string, size: number, maxBytes: number): never {
  throw new TricenterError('BUNDLE_TOO_LARGE', `object oss://${bucket}/${key} is ${size} bytes, over the limit of ${maxBytes}`);
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/"/g, '');
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function infoFrom(bucket: string, key: string, answer: HttpsAnswer): ObjectInfo {
  const headers = answer.headers;
  return {
    bucket,
    key,
    etag: unquote(headerText(headers.etag) ?? ''),
    size: Number(headers['content-length'] ?? 0),
    lastModified: Date.parse(headerText(headers['last-modified']) ?? '') || 0,
  };
}
