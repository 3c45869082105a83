import type { ObjectInfo } from '../../ports/bundle-source.port.ts';

/**
 * The two XML answers the OSS adapter reads: ListObjectsV2's `ListBucketResult` and the `Error`
 * body of a refused request. Both are flat documents of known elements with text content (OSS
 * sends no CDATA, no attributes that matter, no namespaces to resolve), so they are read by element
 * name; an answer without the elements a listing must have is refused, never read as empty.
 */

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function text(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return ENTITIES[name] ?? whole;
  });
}

function element(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return match ? text(match[1]!) : undefined;
}

export interface ListPage {
  objects: Array<Omit<ObjectInfo, 'bucket'>>;
  /** Set when the listing goes on. */
  nextContinuationToken?: string;
}

export function listBucketResult(xml: string): ListPage {
  if (!/<ListBucketResult[\s>]/.test(xml)) throw new Error('the listing is not a ListBucketResult document');
  const truncated = element(xml, 'IsTruncated');
  if (truncated !== 'true' && truncated !== 'false') throw new Error('the listing has no IsTruncated');
  const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map(([, contents]) => {
    const key = element(contents!, 'Key');
    const size = Number(element(contents!, 'Size'));
    const lastModified = Date.parse(element(contents!, 'LastModified') ?? '');
    if (key === undefined || !Number.isSafeInteger(size) || size < 0 || Number.isNaN(lastModified)) {
      throw new Error('a listed object lacks its Key, Size or LastModified');
    }
    return { key, etag: (element(contents!, 'ETag') ?? '').replace(/^W\//, '').replace(/"/g, ''), size, lastModified };
  });
  const token = element(xml, 'NextContinuationToken');
  if (truncated === 'true' && !token) throw new Error('the listing is truncated but has no NextContinuationToken');
  return { objects, ...(truncated === 'true' && token ? { nextContinuationToken: token } : {}) };
}

/** Code and RequestId of an OSS error body; nothing when the body is not one. */
export function ossErrorFields(xml: string): { code?: string; requestId?: string } {
  if (!/<Error[\s>]/.test(xml)) return {};
  const code = element(xml, 'Code');
  const requestId = element(xml, 'RequestId');
  return { ...(code ? { code } : {}), ...(requestId ? { requestId } : {}) };
}
