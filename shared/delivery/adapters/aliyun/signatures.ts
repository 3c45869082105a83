import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { CloudCredentials } from '../../../platform/credentials.ts';

/**
 * The two request signatures the OSS and FC adapters send, as documented and as the SDKs they
 * replace (ali-oss 6, @alicloud/openapi-core 1) compute them; test/aliyun/signatures.test.ts
 * checks both against those SDKs' own signers, and the msw fakes recompute them on every request.
 * Pure functions of the request and the keys: no clock (the caller passes the date), no I/O.
 */

/** Request headers, names in lower case. */
export type Headers = Record<string, string>;

/**
 * OSS signature V1 ("Include signatures in the Authorization header"):
 * `Authorization: OSS <AccessKeyId>:<base64(HMAC-SHA1(secret, StringToSign))>` where StringToSign is
 * VERB, Content-MD5, Content-Type, Date (here `x-oss-date`, as ali-oss sends it), the `x-oss-*`
 * headers sorted (`name:value`), and the resource `/<bucket>/<raw key>` with the signed
 * sub-resources `?name[=value]&...` sorted by name, values raw (not percent-encoded).
 */
export function ossV1Authorization(
  keys: CloudCredentials,
  request: { method: string; bucket: string; key: string; headers: Headers; subresources?: Record<string, string | undefined> },
): string {
  const ossHeaders = Object.keys(request.headers)
    .filter((name) => name.startsWith('x-oss-'))
    .sort()
    .map((name) => `${name}:${String(request.headers[name]).trim()}`);
  const sub = Object.keys(request.subresources ?? {})
    .sort()
    .map((name) => {
      const value = request.subresources?.[name];
      return value ? `${name}=${value}` : name;
    });
  const resource = `/${request.bucket}/${request.key}${sub.length > 0 ? `?${sub.join('&')}` : ''}`;
  const stringToSign = [
    request.method.toUpperCase(),
    request.headers['content-md5'] ?? '',
    request.headers['content-type'] ?? '',
    request.headers['x-oss-date'] ?? request.headers.date ?? '',
    ...ossHeaders,
    resource,
  ].join('\n');
  const signature = createHmac('sha1', keys.accessKeySecret).update(Buffer.from(stringToSign, 'utf8')).digest('base64');
  return `OSS ${keys.accessKeyId}:${signature}`;
}

/** RFC 3986 percent-encoding, as the Alibaba Cloud V3 signature canonicalises query values. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The Alibaba Cloud OpenAPI V3 signature, ACS3-HMAC-SHA256 (FC 3.0's ROA API): adds `host`,
 * `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256` (hex SHA-256 of the body) and the
 * STS token, then signs the canonical request (method, path, sorted encoded query, the `host`,
 * `content-type` and `x-acs-*` headers, their names, the payload hash). Returns every header to send.
 */
export function acs3SignedHeaders(
  keys: CloudCredentials,
  request: { method: string; url: URL; headers: Headers; body: Buffer; date: Date; nonce?: string },
): Headers {
  const headers: Headers = {
    ...request.headers,
    host: request.url.host,
    'x-acs-date': request.date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': request.nonce ?? randomBytes(16).toString('hex'),
    'x-acs-content-sha256': createHash('sha256').update(request.body).digest('hex'),
    ...(keys.securityToken ? { 'x-acs-security-token': keys.securityToken } : {}),
  };
  const signed = Object.keys(headers)
    .filter((name) => name === 'host' || name === 'content-type' || name.startsWith('x-acs-'))
    .sort();
  const query = [...request.url.searchParams.keys()]
    .sort()
    .map((name) => `${name}=${percentEncode(request.url.searchParams.get(name) ?? '')}`)
    .join('&');
  const canonicalRequest = [
    request.method.toUpperCase(),
    request.url.pathname,
    query,
    signed.map((name) => `${name}:${(headers[name] ?? '').trim()}\n`).join(''),
    signed.join(';'),
    headers['x-acs-content-sha256'],
  ].join('\n');
  const stringToSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const signature = createHmac('sha256', keys.accessKeySecret).update(stringToSign).digest('hex');
  return {
    ...headers,
    authorization: `ACS3-HMAC-SHA256 Credential=${keys.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`,
  };
}
