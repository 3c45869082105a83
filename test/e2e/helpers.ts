import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '#shared/platform/log.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import { ApiClient, packBundle } from '#cli/client.ts';
import { startLocalTwin, type LocalTwin, type LocalTwinOptions } from '#local/twin.ts';

export const WEB_DEMO: AppRef = { namespace: 'demo', name: 'web-demo' };

/** A local twin in a temp folder, on free ports, tuned for tests (fast timers, no ready delay). */
export async function startTestTwin(
  overrides: Partial<LocalTwinOptions> = {},
): Promise<{ twin: LocalTwin; client: ApiClient; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-e2e-'));
  const twin = await startLocalTwin({
    dir,
    clustersFile: 'examples/web-demo/clusters.yaml',
    readyDelayMs: 50,
    dataPlanePort: 0,
    approvalPort: 0,
    probeIntervalScale: 0.005,
    timerIntervalMs: 300,
    healthWait: { totalMs: 3000, pollMs: 25 },
    logger: silentLogger,
    ...overrides,
  });
  const client = new ApiClient({ endpoint: twin.endpoints.approvalUrl, token: twin.endpoints.token });
  return {
    twin,
    client,
    cleanup: async () => {
      await twin.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `accept` holds, failing with the last value seen after `timeoutMs`. */
export async function waitFor<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (accept(last)) return last;
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `timed out waiting for ${what}; last value: ${JSON.stringify(last)}${lastError ? `; last error: ${String(lastError)}` : ''}`,
  );
}

export function waitForPhase(client: ApiClient, phase: AppStatus['phase'], timeoutMs?: number): Promise<AppStatus> {
  return waitFor(
    () => client.status(WEB_DEMO),
    (s) => s.phase === phase,
    timeoutMs,
    `phase ${phase}`,
  );
}

export interface PodAnswer {
  cluster: string;
  env: Record<string, string>;
  files: Record<string, string>;
}

/** Asks a cluster's data plane for the demo, as a browser resolving web-demo.example.com to it would. */
export function askDataPlane(address: string, port: number, host = 'web-demo.example.com'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path: '/', headers: { host, accept: 'application/json' }, timeout: 3000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function workloadsOf(status: AppStatus, cluster: string): AppStatus['clusters'][number]['workloads'] {
  return status.clusters.find((c) => c.cluster === cluster)?.workloads ?? [];
}

/** Uploads examples/web-demo and approves it at the gate: the seed's steps 1 and 2, for suites that start from there. */
export async function deploySeedToRunning(client: ApiClient): Promise<AppStatus> {
  const packed = await packBundle('examples/web-demo');
  await client.upload(packed.app, packed);
  await waitForPhase(client, 'workflowSuspending');
  await client.decide(WEB_DEMO, 'approve');
  return waitForPhase(client, 'running');
}
