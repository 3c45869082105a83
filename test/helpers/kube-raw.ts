/**
 * Raw HTTP(S) requests to a Kubernetes API server, authenticated as the kubeconfig's current user:
 * for tests that must see exactly what the server answers (status code, Status body, content type),
 * which typed clients hide.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path with query, e.g. `/api/v1/namespaces/demo/configmaps?labelSelector=app%3Dweb`. */
  path: string;
  body?: unknown;
  /** Default application/json when there is a body. */
  contentType?: string;
}

export interface RawResponse {
  status: number;
  contentType: string;
  /** Parsed JSON when the server sent JSON, else the text. */
  body: unknown;
}

export async function rawRequest(kubeConfig: KubeConfig, req: RawRequest): Promise<RawResponse> {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(req.path, cluster.server);
  const options: RequestOptions = { method: req.method, headers: { accept: 'application/json' } };
  await kubeConfig.applyToHTTPSOptions(options);
  const payload = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  if (payload !== undefined) {
    options.headers = {
      ...options.headers,
      'content-type': req.contentType ?? 'application/json',
      'content-length': Buffer.byteLength(payload),
    };
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(url, { ...options, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const contentType = String(res.headers['content-type'] ?? '');
        let body: unknown = text;
        if (contentType.includes('json')) {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        resolve({ status: res.statusCode ?? 0, contentType, body });
      });
    });
    outgoing.on('timeout', () => outgoing.destroy(new Error(`${req.method} ${req.path}: no answer within 15 s`)));
    outgoing.on('error', reject);
    if (payload !== undefined) outgoing.write(payload);
    outgoing.end();
  });
}
