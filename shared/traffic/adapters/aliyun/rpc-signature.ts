import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The Alibaba Cloud RPC signature (version 1.0, HMAC-SHA1) as documented in
 * docs/aliyun-api/alidns-gtm-2015-01-09.json (`common.signature`). pop-core signs requests; this
 * module lets a server (msw handlers, the local GTM emulator) check them.
 */

/** RFC 3986 encoding of UTF-8 bytes: A-Z a-z 0-9 - _ . ~ kept, everything else %XY upper case, space %20. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Code-point order, as the API requires (not localeCompare). */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function rpcStringToSign(method: string, params: Record<string, string>): string {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort(byCodePoint)
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] as string)}`)
    .join('&');
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonical)}`;
}

export function signRpc(method: string, params: Record<string, string>, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(rpcStringToSign(method, params), 'utf8').digest('base64');
}

/** True when `params.Signature` (already percent-decoded) is the signature of the other params. */
export function verifyRpcSignature(method: string, params: Record<string, string>, accessKeySecret: string): boolean {
  const given = Buffer.from(params.Signature ?? '', 'utf8');
  const expected = Buffer.from(signRpc(method, params, accessKeySecret), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Every parameter of a request: the query string merged with an x-www-form-urlencoded body
 * (pop-core's lower-case `post` puts them in the query), names and values percent-decoded.
 */
export function rpcRequestParams(url: string, body: string, contentType: string | null): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [k, v] of new URL(url).searchParams) params[k] = v;
  if (body && (contentType ?? '').includes('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  }
  return params;
}
