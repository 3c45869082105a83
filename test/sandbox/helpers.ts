import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, NetworkingV1Api, Watch } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { readFileSync } from 'node:fs';
import type { ClusterEntry } from '#shared/delivery/model/clusters.ts';
import { startSandbox, type Sandbox, type SandboxOptions } from '#sandbox/index.ts';

/** Sandboxes for tests: a temporary directory, any free data plane port, stopped by the caller's afterAll. */
export async function testSandbox(
  names: string[],
  options: Partial<SandboxOptions> = {},
): Promise<Sandbox & { dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tricenter-sandbox-'));
  const clusters: ClusterEntry[] = names.map((name) => ({ name, aliases: [], labels: {} }));
  const sandbox = await startSandbox({ clusters, dir, dataPlanePort: 0, readyDelayMs: 0, ...options });
  return Object.assign(sandbox, {
    dir,
    cleanup: async () => {
      await sandbox.stop();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

export interface Clients {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  networking: NetworkingV1Api;
  objects: KubernetesObjectApi;
}

export function clientsFor(sandbox: Sandbox, context: string): Clients {
  const kc = new KubeConfig();
  kc.loadFromFile(sandbox.kubeconfigPath);
  kc.setCurrentContext(context);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    networking: kc.makeApiClient(NetworkingV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** The error a client call rejected with: its HTTP code and the Status body. */
export async function failure(promise: Promise<unknown>): Promise<{ code: number; status: Record<string, any> }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as Record<string, any>) : ((e.body ?? {}) as Record<string, any>);
    return { code: e.code ?? 0, status: body };
  }
  throw new Error('expected the call to fail, it succeeded');
}

export const EXAMPLE_DIR = join(import.meta.dirname, '../../examples/web-demo');

export function exampleManifests(): Array<Record<string, any>> {
  return parseAllDocuments(readFileSync(join(EXAMPLE_DIR, 'app-meta.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
}

export function deployment(
  name: string,
  namespace: string,
  extra: { image?: string; replicas?: number; labels?: Record<string, string> } = {},
): Record<string, any> {
  const labels = extra.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas: extra.replicas ?? 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: extra.image ?? 'nginx:1.25' }] } },
    },
  };
}

/**
 * Resolves with the first state of an object, as a watch reports it (the current state first,
 * or the changes since `resourceVersion`, then every change), for which `check` holds: waiting on
 * events, never polling.
 */
export async function watchUntil(
  kc: KubeConfig,
  collectionPath: string,
  name: string,
  check: (obj: Record<string, any>, type: string) => boolean,
  what: string,
  options: { timeoutMs?: number; resourceVersion?: string } = {},
): Promise<Record<string, any>> {
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<Record<string, any>>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), options.timeoutMs ?? 20_000);
      new Watch(kc)
        .watch(
          collectionPath,
          { fieldSelector: `metadata.name=${name}`, ...(options.resourceVersion ? { resourceVersion: options.resourceVersion } : {}) },
          (type, obj: Record<string, any>) => {
            if (check(obj, type)) resolve(obj);
          },
          (err) => reject(err ?? new Error(`watch for ${what} ended`)),
        )
        .then((c) => (controller = c), reject);
    });
  } finally {
    clearTimeout(timer);
    controller?.abort();
  }
}

/** A raw HTTPS request to a sandbox cluster's API (for what typed clients cannot send). */
export async function rawRequest(
  sandbox: Sandbox,
  cluster: string,
  method: string,
  path: string,
  options: { body?: string; contentType?: string; token?: string; accept?: string } = {},
): Promise<{ code: number; body: any; text: string }> {
  const { request } = await import('node:https');
  const { parse } = await import('yaml');
  const config = parse(readFileSync(sandbox.kubeconfigPath, 'utf8')) as {
    clusters: Array<{ name: string; cluster: Record<string, string> }>;
  };
  const entry = config.clusters.find((c) => c.name === cluster);
  const ca = Buffer.from(entry?.cluster['certificate-authority-data'] ?? '', 'base64');
  const url = new URL(path, entry?.cluster.server);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca,
        headers: {
          Authorization: `Bearer ${options.token ?? sandbox.token}`,
          ...(options.contentType ? { 'Content-Type': options.contentType } : {}),
          ...(options.accept ? { Accept: options.accept } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: the text is the body
          }
          resolve({ code: res.statusCode ?? 0, body, text });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
