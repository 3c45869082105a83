import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/**
 * One HTTP(S) exchange for the signed OSS and FC adapters, over Node's own `http`/`https` (already
 * in Node's startup snapshot: nothing to load at cold start, unlike `fetch`, whose undici costs
 * tens of milliseconds on its first use). One connection per call (`Connection: close`, as the
 * SDKs these adapters replace send): a kept-alive socket would sleep through a frozen Function
 * Compute instance and fail on reuse. The whole exchange has one deadline, and an answer longer
 * than `maxBodyBytes` is cut off as soon as it passes the limit, never read whole.
 */
export interface HttpsCall {
  method: string;
  /** Protocol, host and port; the path is `path`. */
  origin: URL;
  /** Sent as given (already percent-encoded): never normalised, so `..` in an object key stays what was signed. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  /** The answer's body may hold at most this many bytes (default: 64 MiB). */
  maxBodyBytes?: number;
}

export interface HttpsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** No answer came: the connection failed, the deadline passed, or the body passed `maxBodyBytes`. */
export class HttpsCallFailed extends Error {
  constructor(
    readonly reason: 'network' | 'timeout' | 'too-large',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'HttpsCallFailed';
  }
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

export function httpsCall(call: HttpsCall): Promise<HttpsAnswer> {
  const maxBodyBytes = call.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // Looked up on the module object at call time, like the SDKs do, so an interceptor (msw) sees the call.
  const send = call.origin.protocol === 'http:' ? http.request : https.request;
  return new Promise<HttpsAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (err: HttpsCallFailed) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const req = send(
      {
        protocol: call.origin.protocol,
        hostname: call.origin.hostname,
        ...(call.origin.port ? { port: Number(call.origin.port) } : {}),
        path: call.path,
        method: call.method,
        agent: false,
        headers: {
          ...call.headers,
          connection: 'close',
          ...(call.body ? { 'content-length': String(call.body.byteLength) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.byteLength;
          if (received > maxBodyBytes) {
            fail(new HttpsCallFailed('too-large', `the answer's body passed ${maxBodyBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => fail(new HttpsCallFailed('network', `the answer broke off: ${err.message}`, { cause: err })));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      },
    );
    const timer = setTimeout(() => fail(new HttpsCallFailed('timeout', `no complete answer within ${call.timeoutMs} ms`)), call.timeoutMs);
    req.on('error', (err) => fail(new HttpsCallFailed('network', err.message, { cause: err })));
    req.end(call.body);
  });
}
