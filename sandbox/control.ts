import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { NotFoundError, TricenterError } from '#shared/platform/errors.ts';

/**
 * The sandbox's control API (GET /clusters, POST /clusters/{name}/fault {"fault": ...}) and its
 * state file (`state.json` beside the kubeconfig), through which `tricenter sandbox fail|heal`
 * finds a running sandbox.
 */
const SANDBOX_FAULTS = ['none', 'data-plane-down', 'api-unreachable', 'both'] as const;
export type SandboxFault = (typeof SANDBOX_FAULTS)[number];

export interface ClusterView {
  name: string;
  apiUrl: string;
  ingressAddress: string;
  dataPlanePort: number;
  dataPlaneUrl: string;
  fault: SandboxFault;
}

export interface SandboxState {
  pid: number;
  controlUrl: string;
  kubeconfigPath: string;
  startedAt: number;
  clusters: ClusterView[];
}

export const STATE_FILE = 'state.json';

export interface ControlTarget {
  clusters(): ClusterView[];
  setFault(cluster: string, fault: SandboxFault): Promise<void>;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
}

export async function handleControlRequest(target: ControlTarget, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://control').pathname;
  try {
    if (req.method === 'GET' && path === '/clusters') return send(res, 200, target.clusters());
    const fault = /^\/clusters\/([^/]+)\/fault$/.exec(path);
    if (req.method === 'POST' && fault) {
      const name = decodeURIComponent(fault[1] ?? '');
      if (!target.clusters().some((c) => c.name === name)) return send(res, 404, { error: `no cluster named "${name}"` });
      const body = (await readJson(req)) as { fault?: unknown };
      if (!SANDBOX_FAULTS.includes(body.fault as SandboxFault))
        return send(res, 400, { error: `fault must be one of ${SANDBOX_FAULTS.join(', ')}` });
      await target.setFault(name, body.fault as SandboxFault);
      return send(
        res,
        200,
        target.clusters().find((c) => c.name === name),
      );
    }
    send(res, 404, { error: `no route for ${req.method ?? ''} ${path}` });
  } catch (err) {
    send(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}

export async function readSandboxState(dir: string): Promise<SandboxState> {
  const file = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new NotFoundError(`no running sandbox: ${file} does not exist (start one with \`tricenter sandbox up\`)`);
  }
  const state = JSON.parse(text) as SandboxState;
  if (!isAlive(state.pid)) throw new NotFoundError(`no running sandbox: ${file} names process ${state.pid}, which is not running`);
  return state;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Asks a running sandbox (through its control API) to set a cluster's fault. */
export async function requestFault(state: SandboxState, cluster: string, fault: SandboxFault): Promise<ClusterView> {
  const response = await fetch(`${state.controlUrl}/clusters/${encodeURIComponent(cluster)}/fault`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ fault }),
  });
  const body = (await response.json()) as ClusterView & { error?: string };
  if (!response.ok)
    throw new TricenterError(response.status === 404 ? 'NOT_FOUND' : 'VALIDATION', body.error ?? `control API answered ${response.status}`);
  return body;
}
