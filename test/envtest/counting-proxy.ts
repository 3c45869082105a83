/**
 * An HTTPS proxy in front of a real kube-apiserver that counts what passes through it, by kind of
 * request: the server-side count of a gateway's traffic, independent of the gateway's own counters.
 * TLS ends here (its own certificate for 127.0.0.1) and starts again towards the server.
 */
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { makeServingCertificate } from '#sandbox/tls.ts';
import type { ApiTraffic } from '../kube/reapply-economy.ts';

export interface CountingProxy {
  url: string;
  /** A kubeconfig (one context, `contextName`) that reaches the server through the proxy. */
  kubeConfig: KubeConfig;
  traffic(): ApiTraffic;
  reset(): void;
  close(): Promise<void>;
}

/** `/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`, `/openapi/...`, `/version`: what a client's discovery reads. */
function isDiscovery(path: string): boolean {
  const segments = path.split('/').filter(Boolean);
  if (segments[0] === 'openapi' || segments[0] === 'version') return true;
  if (segments[0] === 'api') return segments.length <= 2;
  if (segments[0] === 'apis') return segments.length <= 3;
  return false;
}

export async function startCountingProxy(
  target: { server: string; caPem: string; token: string },
  contextName: string,
): Promise<CountingProxy> {
  const certificate = await makeServingCertificate();
  const upstream = new URL(target.server);
  const agent = new Agent({ keepAlive: true, ca: target.caPem });
  const counts: ApiTraffic = { discovery: 0, reads: 0, writes: 0 };
  const server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://proxy').pathname;
    if (req.method === 'GET' && isDiscovery(path)) counts.discovery += 1;
    else if (req.method === 'GET') counts.reads += 1;
    else counts.writes += 1;
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: contextName, server: url, caData: Buffer.from(certificate.cert).toString('base64') }],
    users: [{ name: contextName, token: target.token }],
    contexts: [{ name: contextName, cluster: contextName, user: contextName }],
    currentContext: contextName,
  });
  return {
    url,
    kubeConfig,
    traffic: () => ({ ...counts }),
    reset: () => {
      counts.discovery = 0;
      counts.reads = 0;
      counts.writes = 0;
    },
    close: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
