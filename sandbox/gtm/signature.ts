import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The Alibaba Cloud RPC signature (version 1.0, HMAC-SHA1), as described in
 * docs/aliyun-api/README.md and `common.signature` of docs/aliyun-api/alidns-gtm-2015-01-09.json.
 */

/** RFC 3986 percent-encoding of UTF-8 bytes: only `A-Z a-z 0-9 - _ . ~` stay as they are. */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Sorted by name in code-point order (not locale order), `Signature` left out, each pair encoded. */
export function canonicalizedQueryString(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((name) => `${percentEncode(name)}=${percentEncode(params[name] ?? '')}`)
    .join('&');
}

export function stringToSign(httpMethod: string, params: Record<string, string>): string {
  return `${httpMethod.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalizedQueryString(params))}`;
}

export function signString(text: string, accessKeySecret: string): string {
  return createHmac('sha1', `${accessKeySecret}&`).update(text, 'utf8').digest('base64');
}

export function computeRpcSignature(httpMethod: string, params: Record<string, string>, accessKeySecret: string): string {
  return signString(stringToSign(httpMethod, params), accessKeySecret);
}

/** Constant-time comparison, so that the emulator does not teach a bad habit. */
export function signatureMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
