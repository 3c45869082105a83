import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { FC_HTTP_TRIGGER_MAX_BODY_BYTES } from '#shared/delivery/approval/limits.ts';
import type { FcHandler } from '#shared/platform/triggers/fc.ts';
import type { HttpTriggerEvent, HttpTriggerResponse } from '#shared/platform/triggers/http.ts';

/**
 * The local twin of an FC HTTP trigger: turns each HTTP request into the FC 3.0 request struct,
 * calls the same handler the cloud runs, and writes its response back. Nothing else, so the
 * handler's behaviour locally is its behaviour in the cloud.
 */
export interface HttpTriggerServer {
  url: string;
  close(): Promise<void>;
}

/** A body over FC's limit never reaches the function: the platform answers by itself. */
class PayloadTooLarge extends Error {}
/** Nor does a request target that is no URI at all. */
class MalformedTarget extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > maxBytes) return reject(new PayloadTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Stop reading but keep the socket: the 413 still has to be written on it.
      req.off('data', onData).pause();
      reject(new PayloadTooLarge());
    };
    req
      .on('data', onData)
      .once('end', () => resolve(Buffer.concat(chunks)))
      .once('error', reject);
  });
}

function targetUrl(target: string): URL {
  try {
    return new URL(target, 'http://local');
  } catch {
    throw new MalformedTarget();
  }
}

function toTriggerEvent(req: IncomingMessage, body: Buffer, requestId: string, now: number): HttpTriggerEvent {
  const url = targetUrl(req.url ?? '/');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const queryParameters: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) queryParameters[key] = url.searchParams.getAll(key).join(',');
  const isText = body.length === 0 || /json|text|x-www-form-urlencoded/.test(headers['content-type'] ?? 'application/json');
  return {
    version: 'v1',
    rawPath: url.pathname,
    body: isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !isText,
    headers,
    queryParameters,
    requestContext: {
      requestId,
      // Left encoded: the handler decodes (and refuses a malformed encoding) where the cloud does too.
      http: { method: req.method ?? 'GET', path: url.pathname, sourceIp: req.socket.remoteAddress ?? '' },
      time: new Date(now).toISOString(),
      timeEpoch: String(now),
    },
  };
}

export async function startHttpTrigger(
  handler: FcHandler<HttpTriggerResponse>,
  options: { host?: string; port?: number; functionName: string },
): Promise<HttpTriggerServer> {
  const server: Server = createServer((req, res) => {
    const requestId = randomUUID();
    readBody(req, FC_HTTP_TRIGGER_MAX_BODY_BYTES)
      .then((body) => {
        const event = toTriggerEvent(req, body, requestId, Date.now());
        return handler(Buffer.from(JSON.stringify(event)), { requestId, function: { name: options.functionName } });
      })
      .then((response) => {
        res.writeHead(response.statusCode, { ...response.headers, 'x-fc-request-id': requestId });
        res.end(response.isBase64Encoded ? Buffer.from(response.body, 'base64') : response.body);
      })
      .catch((err: unknown) => {
        if (err instanceof PayloadTooLarge) {
          // Answer and close: the client learns the answer without sending the rest.
          res.writeHead(413, { 'content-type': 'application/json', 'x-fc-request-id': requestId, connection: 'close' });
          res.end(
            JSON.stringify({
              error: 'EntityTooLarge',
              message: `payload size exceeds maximum allowed size (${FC_HTTP_TRIGGER_MAX_BODY_BYTES} bytes)`,
            }),
          );
          return;
        }
        if (err instanceof MalformedTarget) {
          res.writeHead(400, { 'content-type': 'application/json', 'x-fc-request-id': requestId });
          res.end(JSON.stringify({ error: 'InvalidArgument', message: 'malformed URI: the request target cannot be parsed' }));
          return;
        }
        // The handler maps its own errors; reaching here means the runtime itself failed, as FC's 502 would say.
        res.writeHead(502, { 'content-type': 'application/json', 'x-fc-request-id': requestId });
        res.end(JSON.stringify({ error: 'handler failed', message: err instanceof Error ? err.message : String(err) }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
