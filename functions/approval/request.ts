import { TricenterError } from '#shared/platform/errors.ts';
import { formatBytes } from '#shared/delivery/approval/limits.ts';
import type { HttpTriggerEvent } from '#shared/platform/triggers/http.ts';

/**
 * The HTTP side of the approval function: the trigger's request struct decoded into what routing
 * needs, and the two body shapes the API takes (a JSON decision, a bundle's bytes), each checked
 * for size, content type and syntax before anything reads it.
 */
export interface ApiRequest {
  method: string;
  /** As sent, still percent-encoded: what a signature covers. */
  rawPath: string;
  /** The path's segments, each percent-decoded on its own (an encoded `/` stays inside its segment). */
  segments: string[];
  /** Lower-cased names. */
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Buffer;
  /** The body as the event carries it (base64 text when binary): what a signature covers. */
  bodyAsSent: string;
  /** The client's address as the trigger saw it ('' when it did not say): recorded with decisions. */
  sourceIp: string;
}

/** A request refused for its form, with the HTTP status that says why. */
export class RequestRefused extends TricenterError {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super('VALIDATION', message);
  }
}

export function readRequest(event: HttpTriggerEvent): ApiRequest {
  return {
    method: event.requestContext.http.method.toUpperCase(),
    rawPath: event.rawPath,
    segments: pathSegments(event.rawPath),
    headers: Object.fromEntries(Object.entries(event.headers).map(([k, v]) => [k.toLowerCase(), v])),
    query: event.queryParameters,
    body: event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8'),
    bodyAsSent: event.body,
    sourceIp: event.requestContext.http.sourceIp ?? '',
  };
}

function pathSegments(rawPath: string): string[] {
  return rawPath
    .split('/')
    .filter(Boolean)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw new RequestRefused(400, `malformed URI: the path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
      }
    });
}

/** The media type of Content-Type, without parameters, lower-cased; '' when absent. */
function mediaType(headers: Record<string, string>): string {
  return (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A JSON body (an empty one is `{}`): at most `maxBytes`, sent as application/json, and valid JSON. */
export function jsonBody(request: ApiRequest, maxBytes: number, what: string): unknown {
  if (request.body.length === 0) return {};
  if (request.body.length > maxBytes) {
    throw new RequestRefused(
      413,
      `the request body is ${request.body.length} bytes: exceeds the limit of ${formatBytes(maxBytes)} for ${what}`,
    );
  }
  const type = mediaType(request.headers);
  if (type !== 'application/json') {
    throw new RequestRefused(400, `content-type ${JSON.stringify(type || '(none)')} is not accepted for ${what}: send application/json`);
  }
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch (err) {
    throw new RequestRefused(400, `the request body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A bundle's bytes, sent as application/octet-stream (the size is the upload's own limit). */
export function binaryBody(request: ApiRequest, what: string): Buffer {
  const type = mediaType(request.headers);
  if (type !== 'application/octet-stream') {
    throw new RequestRefused(
      400,
      `content-type ${JSON.stringify(type || '(none)')} is not accepted for ${what}: send application/octet-stream`,
    );
  }
  return request.body;
}
