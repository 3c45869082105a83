import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { http, HttpResponse } from 'msw';

/**
 * OSS behind msw, speaking its REST + XML: virtual-hosted buckets (`<bucket>.<endpoint host>`),
 * keys percent-encoded in the path, the V1 `Authorization: OSS <id>:<signature>` checked with
 * ali-oss's own canonical-string builder (so the signed resource is the raw key), quoted upper-case
 * MD5 ETags, Content-MD5 checked on upload, If-Match (412), HeadObject errors without a body,
 * ListObjects (marker) and ListObjectsV2 (continuation-token) XML, and error XML bodies with
 * Code / Message / RequestId / HostId like the service's.
 */

const signUtils = createRequire(import.meta.url)('ali-oss/lib/common/signUtils.js') as {
  buildCanonicalString(
    method: string,
    resource: string,
    request: { headers: Record<string, string>; parameters?: Record<string, string | null> },
  ): string;
  computeSignature(secret: string, canonical: string, encoding?: string): string;
};

interface StoredObject {
  data: Buffer;
  etag: string;
  lastModified: number;
  contentType: string;
}
export interface OssCall {
  method: string;
  bucket: string;
  /** The path as it came over the wire (still percent-encoded). */
  rawPath: string;
  key: string;
  query: Record<string, string>;
  status: number;
  ifMatch?: string;
}

/** Query parameters that select a listing; everything else in the query is a signed sub-resource. */
const UNSIGNED_QUERY = new Set(['prefix', 'marker', 'max-keys', 'list-type', 'delimiter', 'encoding-type', 'start-after', 'fetch-owner']);

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export class FakeOss {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly calls: OssCall[] = [];
  private requestCount = 0;
  private clock = Date.parse('2026-11-26T10:00:00Z');
  private readonly injected: Array<{ method: string; status: number; code: string }> = [];

  constructor(
    private readonly options: { endpointHost: string; buckets: string[]; keys: Record<string, { secret: string; stsToken?: string }> },
  ) {
    for (const bucket of options.buckets) this.buckets.set(bucket, new Map());
  }

  /** The next request with this method fails with an OSS error (once). */
  failNext(method: string, status: number, code: string): void {
    this.injected.push({ method, status, code });
  }

  handlers() {
    const host = this.options.endpointHost.replace(/\./g, '\\.');
    return [http.all(new RegExp(`^https://([a-z0-9-]+)\\.${host}/`), ({ request }) => this.serve(request))];
  }

  private async serve(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const bucketName = url.hostname.split('.')[0]!;
    const rawPath = url.pathname;
    const key = decodeURIComponent(rawPath.slice(1));
    const query = Object.fromEntries(url.searchParams);
    const method = request.method;
    const call: OssCall = { method, bucket: bucketName, rawPath, key, query, status: 200 };
    if (request.headers.get('if-match')) call.ifMatch = request.headers.get('if-match')!;
    this.calls.push(call);
    const body = Buffer.from(await request.arrayBuffer());
    const requestId = `5F0A${(++this.requestCount).toString(16).padStart(20, '0')}`.toUpperCase();
    const fail = (status: number, code: string, message: string, extra: Record<string, string> = {}) => {
      call.status = status;
      const headers = { 'x-oss-request-id': requestId, 'content-type': 'application/xml' };
      if (method === 'HEAD') return new HttpResponse(null, { status, headers: { 'x-oss-request-id': requestId } });
      const fields = Object.entries({ Code: code, Message: message, RequestId: requestId, HostId: url.hostname, ...extra })
        .map(([k, v]) => `  <${k}>${xmlEscape(v)}</${k}>`)
        .join('\n');
      return new HttpResponse(`<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n${fields}\n</Error>\n`, { status, headers });
    };

    const denied = this.authenticate(request, bucketName, key, query);
    if (denied) return fail(403, denied.code, denied.message);
    const fault = this.injected.findIndex((f) => f.method === method);
    if (fault >= 0) {
      const [f] = this.injected.splice(fault, 1);
      return fail(f!.status, f!.code, 'injected by the test');
    }
    const bucket = this.buckets.get(bucketName);
    if (!bucket) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucketName });
    if (key === '' && method === 'GET') return this.list(bucketName, bucket, query, requestId);

    const headers = (object: StoredObject) => ({
      'x-oss-request-id': requestId,
      etag: `"${object.etag}"`,
      'last-modified': new Date(object.lastModified).toUTCString(),
      'content-type': object.contentType,
      'content-length': String(object.data.byteLength),
      'x-oss-object-type': 'Normal',
    });
    if (method === 'PUT') {
      const md5 = request.headers.get('content-md5');
      if (md5 && md5 !== createHash('md5').update(body).digest('base64'))
        return fail(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
      this.clock += 1_000;
      const object = {
        data: body,
        etag: createHash('md5').update(body).digest('hex').toUpperCase(),
        lastModified: this.clock,
        contentType: request.headers.get('content-type') ?? 'application/octet-stream',
      };
      bucket.set(key, object);
      return new HttpResponse(null, {
        status: 200,
        headers: { 'x-oss-request-id': requestId, etag: `"${object.etag}"`, 'content-length': '0' },
      });
    }
    if (method === 'GET' || method === 'HEAD') {
      const object = bucket.get(key);
      if (!object) return fail(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
      const ifMatch = request.headers.get('if-match');
      if (ifMatch && ifMatch.replace(/"/g, '').toUpperCase() !== object.etag) {
        return fail(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
      }
      return new HttpResponse(method === 'HEAD' ? null : object.data, { status: 200, headers: headers(object) });
    }
    return fail(405, 'MethodNotAllowed', `${method} is not served by this fake`);
  }

  private authenticate(
    request: Request,
    bucket: string,
    key: string,
    query: Record<string, string>,
  ): { code: string; message: string } | undefined {
    const authorization = request.headers.get('authorization') ?? '';
    const match = /^OSS ([^:]+):(.+)$/.exec(authorization);
    const account = match ? this.options.keys[match[1]!] : undefined;
    if (!match || !account)
      return { code: 'InvalidAccessKeyId', message: 'The OSS Access Key Id you provided does not exist in our records.' };
    if (account.stsToken !== undefined && request.headers.get('x-oss-security-token') !== account.stsToken) {
      return { code: 'InvalidSecurityToken', message: 'The security token you provided is invalid.' };
    }
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const parameters = Object.fromEntries(
      Object.entries(query)
        .filter(([name]) => !UNSIGNED_QUERY.has(name))
        .map(([k, v]) => [k, v === '' ? null : v]),
    );
    const canonical = signUtils.buildCanonicalString(request.method, `/${bucket}/${key}`, { headers, parameters });
    if (signUtils.computeSignature(account.secret, canonical) !== match[2]) {
      return { code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
    }
    return undefined;
  }

  private list(bucketName: string, bucket: Map<string, StoredObject>, query: Record<string, string>, requestId: string): Response {
    const v2 = query['list-type'] === '2';
    const prefix = query.prefix ?? '';
    const maxKeys = Math.min(1000, Number(query['max-keys'] ?? 100));
    const after = v2
      ? query['continuation-token']
        ? Buffer.from(query['continuation-token'], 'base64url').toString('utf8')
        : (query['start-after'] ?? '')
      : (query.marker ?? '');
    const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = keys.slice(0, maxKeys);
    const truncated = keys.length > page.length;
    const last = page.at(-1) ?? '';
    const contents = page
      .map((k) => {
        const o = bucket.get(k)!;
        return `  <Contents>\n    <Key>${xmlEscape(k)}</Key>\n    <LastModified>${new Date(o.lastModified).toISOString()}</LastModified>\n    <ETag>&quot;${o.etag}&quot;</ETag>\n    <Type>Normal</Type>\n    <Size>${o.data.byteLength}</Size>\n    <StorageClass>Standard</StorageClass>\n${v2 ? '' : '    <Owner>\n      <ID>1234</ID>\n      <DisplayName>1234</DisplayName>\n    </Owner>\n'}  </Contents>`;
      })
      .join('\n');
    const paging = v2
      ? `  <KeyCount>${page.length}</KeyCount>\n${truncated ? `  <NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>\n` : ''}`
      : `  <Marker>${xmlEscape(query.marker ?? '')}</Marker>\n${truncated ? `  <NextMarker>${xmlEscape(last)}</NextMarker>\n` : ''}`;
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>\n  <Name>${bucketName}</Name>\n  <Prefix>${xmlEscape(prefix)}</Prefix>\n  <MaxKeys>${maxKeys}</MaxKeys>\n  <Delimiter></Delimiter>\n  <IsTruncated>${truncated}</IsTruncated>\n${paging}${contents}\n</ListBucketResult>\n`;
    return new HttpResponse(xml, { status: 200, headers: { 'x-oss-request-id': requestId, 'content-type': 'application/xml' } });
  }
}
