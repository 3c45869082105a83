import http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import RPCClient from '@alicloud/pop-core';
import { silentLogger } from '#shared/platform/log.ts';
import { startGtmEmulator, type GtmEmulator, type GtmEmulatorOptions } from '#sandbox/gtm/index.ts';
import { computeRpcSignature } from '#sandbox/gtm/signature.ts';
import type { GtmSubjectTarget } from '../contract/gtm-subject.ts';

export const ACCESS_KEY_ID = 'local-ak';
const ACCESS_KEY_SECRET = 'local-secret';

export async function startTestEmulator(options: Partial<GtmEmulatorOptions> = {}): Promise<{ emulator: GtmEmulator; client: RPCClient }> {
  const emulator = await startGtmEmulator({
    accessKeyId: ACCESS_KEY_ID,
    accessKeySecret: ACCESS_KEY_SECRET,
    logger: silentLogger,
    ...options,
  });
  const client = new RPCClient({
    endpoint: emulator.endpoint,
    apiVersion: '2015-01-09',
    accessKeyId: ACCESS_KEY_ID,
    accessKeySecret: ACCESS_KEY_SECRET,
  });
  return { emulator, client };
}

/** Where an adapter reaches this emulator, with the test key and no log: what a contract subject builds on. */
export function emulatorTarget(emulator: GtmEmulator): GtmSubjectTarget {
  return {
    endpoint: emulator.endpoint,
    instanceId: emulator.instanceId,
    key: { accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET },
    logger: silentLogger,
  };
}

/** pop-core's POST, typed loosely: the responses are JSON objects. */
export function call(client: RPCClient, action: string, params: Record<string, unknown> = {}): Promise<Record<string, any>> {
  return client.request<Record<string, any>>(action, params, { method: 'POST' });
}

/** The error pop-core throws for an Alibaba error body. */
export async function callError(
  client: RPCClient,
  action: string,
  params: Record<string, unknown> = {},
): Promise<{ code: string; data: Record<string, any> }> {
  try {
    await call(client, action, params);
  } catch (err) {
    const popError = err as { code?: string; data?: Record<string, any> };
    if (popError.code && popError.data) return { code: popError.code, data: popError.data };
    throw err;
  }
  throw new Error(`${action} succeeded where an error was expected`);
}

export function apiTimestamp(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19)}Z`;
}

export interface RawRequestOptions {
  method?: 'GET' | 'POST';
  /** Params in the query string even for POST (what pop-core does with method 'post'). */
  paramsInQuery?: boolean;
  timestamp?: string;
  nonce?: string;
  secret?: string;
  accessKeyId?: string;
  /** Overrides the computed signature. */
  signature?: string;
  version?: string;
}

/** A request signed by hand, for the cases pop-core cannot produce (old timestamp, reused nonce...). */
export async function rawRequest(endpoint: string, action: string, params: Record<string, string>, options: RawRequestOptions = {}) {
  const method = options.method ?? 'POST';
  const all: Record<string, string> = {
    Action: action,
    Format: 'JSON',
    Version: options.version ?? '2015-01-09',
    AccessKeyId: options.accessKeyId ?? ACCESS_KEY_ID,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: options.nonce ?? randomBytes(16).toString('hex'),
    Timestamp: options.timestamp ?? apiTimestamp(Date.now()),
    ...params,
  };
  all.Signature = options.signature ?? computeRpcSignature(method, all, options.secret ?? ACCESS_KEY_SECRET);
  const encoded = new URLSearchParams(all).toString();
  const inQuery = method === 'GET' || options.paramsInQuery === true;
  const response = await fetch(`${endpoint}/${inQuery ? `?${encoded}` : ''}`, {
    method,
    ...(inQuery ? {} : { body: encoded, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: (await response.json()) as Record<string, any>,
  };
}

/** Polls until `check` returns a value other than undefined; fails with `what` after the deadline. */
export async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A loopback HTTP server standing in for one cluster's Ingress: its status can be switched. */
export interface SwitchableBackend {
  host: string;
  port: number;
  status: number;
  /** Host header and path of every request received. */
  requests: Array<{ host: string | undefined; path: string | undefined }>;
  close(): Promise<void>;
}

export async function startBackend(host: string, name: string): Promise<SwitchableBackend> {
  const backend = { host, port: 0, status: 200, requests: [] as SwitchableBackend['requests'] };
  const server = http.createServer((request, response) => {
    backend.requests.push({ host: request.headers.host, path: request.url });
    response.writeHead(backend.status, { 'content-type': 'text/plain', connection: 'close' });
    response.end(name);
  });
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('backend has no port');
  backend.port = address.port;
  return Object.assign(backend, {
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
