import { createHmac } from 'node:crypto';

/**
 * The ROA signature check an Alibaba Cloud endpoint does (docs/aliyun-api/README.md, "Checking a
 * request's signature"): written from the documented layout, independent of pop-core, so that the
 * msw handlers reject a request pop-core would sign differently.
 */
export interface RoaRequestParts {
  method: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  path: string;
  /** Decoded query parameters. */
  query: Record<string, string>;
}

export function roaStringToSign(request: RoaRequestParts): string {
  const header = (name: string) => request.headers[name] ?? '';
  const canonicalHeaders = Object.keys(request.headers)
    .filter((name) => name.startsWith('x-acs-'))
    .sort()
    .map(
      (name) =>
        `${name}:${header(name)
          .replace(/[\t\n\r\f]/g, ' ')
          .trim()}\n`,
    )
    .join('');
  const names = Object.keys(request.query).sort();
  const resource = names.length === 0 ? request.path : `${request.path}?${names.map((n) => `${n}=${request.query[n]}`).join('&')}`;
  return `${request.method}\n${header('accept')}\n${header('content-md5')}\n${header('content-type')}\n${header('date')}\n${canonicalHeaders}${resource}`;
}

export function roaSignature(stringToSign: string, accessKeySecret: string): string {
  return createHmac('sha1', accessKeySecret).update(stringToSign, 'utf8').digest('base64');
}

/** Why the request's Authorization does not verify with this key pair, or undefined when it does. */
export function verifyRoaRequest(request: RoaRequestParts, accessKeyId: string, accessKeySecret: string): string | undefined {
  const authorization = request.headers.authorization ?? '';
  const match = /^acs ([^:]+):(.+)$/.exec(authorization);
  if (!match) return `malformed Authorization "${authorization}"`;
  if (match[1] !== accessKeyId) return `unknown AccessKeyId ${match[1]}`;
  for (const required of ['date', 'x-acs-signature-nonce', 'x-acs-signature-method', 'x-acs-signature-version', 'x-acs-version']) {
    if (!request.headers[required]) return `missing header ${required}`;
  }
  const expected = roaSignature(roaStringToSign(request), accessKeySecret);
  return expected === match[2] ? undefined : 'signature mismatch';
}
