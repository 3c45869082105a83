import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { UploadOutcome, UploadReceipt } from '#shared/delivery/approval/uploads.ts';
import { TricenterError, type ErrorCode } from '#shared/platform/errors.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { BUNDLE_EXTENSIONS } from '#shared/delivery/model/bucket-key.ts';
import type { RejectedUpload } from '#shared/delivery/model/records.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import type { ClusterView } from '#shared/delivery/usecases/fleet.ts';

/**
 * A client of the approval HTTP API: what the CLI and the local demo use, so that they work the
 * same against the local twin and a deployed endpoint.
 */
export interface ApiTarget {
  endpoint: string;
  token: string;
}

export interface UploadResult extends UploadReceipt {
  /** Where the ingest outcome of this very object is read. */
  outcome: string;
}

const ERROR_BY_STATUS: Record<number, ErrorCode> = {
  400: 'VALIDATION',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'BUNDLE_TOO_LARGE',
  422: 'VALIDATION',
};

export class ApiClient {
  constructor(private readonly target: ApiTarget) {}

  status(app: AppRef): Promise<AppStatus> {
    return this.request('GET', appPath(app));
  }

  clusters(): Promise<{ clusters: ClusterView[] }> {
    return this.request('GET', '/clusters');
  }

  runs(app: AppRef): Promise<{ runs: Array<Record<string, unknown>>; rejectedUploads?: RejectedUpload[] }> {
    return this.request('GET', `${appPath(app)}/runs`);
  }

  /** `step`: the waiting step the decision is for (needed when several wait at once). */
  decide(
    app: AppRef,
    action: string,
    comment?: string,
    step?: string,
  ): Promise<{ runId: string; phase: string; by: string; step?: string }> {
    const body = { ...(comment ? { comment } : {}), ...(step !== undefined ? { step } : {}) };
    return this.request('POST', `${appPath(app)}/${action}`, JSON.stringify(body), { 'content-type': 'application/json' });
  }

  upload(app: AppRef, bundle: PackedBundle): Promise<UploadResult> {
    return this.request('PUT', `${appPath(app)}/bundle`, bundle.data, {
      'content-type': 'application/octet-stream',
      'x-bundle-format': bundle.format,
    });
  }

  uploadOutcome(upload: UploadResult): Promise<UploadOutcome> {
    return this.request('GET', upload.outcome);
  }

  /** Polls the outcome of an upload until its ingest has finished, or `timeoutMs` has passed (then `pending`). */
  async waitForIngest(upload: UploadResult, options: { timeoutMs: number; pollMs?: number }): Promise<UploadOutcome> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const outcome = await this.uploadOutcome(upload);
      if (outcome.status !== 'pending' || Date.now() >= deadline) return outcome;
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
  }

  private async request<T>(method: string, path: string, body?: string | Uint8Array, headers: Record<string, string> = {}): Promise<T> {
    const url = `${this.target.endpoint.replace(/\/$/, '')}${path}`;
    let response: { status: number; text: string };
    try {
      response = await exchange(
        new URL(url),
        method,
        // The channel a decision is audited under (self-declared: the token says who, this only how).
        { authorization: `Bearer ${this.target.token}`, accept: 'application/json', 'x-tricenter-client': 'cli', ...headers },
        body,
      );
    } catch (err) {
      throw new TricenterError('UNREACHABLE', `cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`, {
        retryable: true,
      });
    }
    const { text } = response;
    const parsed = parseJson(text);
    if (response.status < 200 || response.status > 299) {
      const message = (parsed as { message?: unknown } | undefined)?.message;
      throw new TricenterError(
        ERROR_BY_STATUS[response.status] ?? 'INTERNAL',
        `${method} ${path}: ${response.status} ${typeof message === 'string' ? message : text.slice(0, 500)}`,
      );
    }
    if (parsed === undefined) throw new TricenterError('INTERNAL', `${method} ${path}: the answer is not JSON: ${text.slice(0, 200)}`);
    return parsed as T;
  }
}

/**
 * One HTTP exchange through node:http(s). Not fetch: its first request compiles undici's
 * WebAssembly HTTP parser, about 200 ms of CPU and 40 MB, more than the rest of `tricenter status`.
 */
async function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body?: string | Uint8Array,
): Promise<{ status: number; text: string }> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  return new Promise((resolve, reject) => {
    const sent = request(
      url,
      { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

function parseJson(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function appPath(app: AppRef): string {
  return `/apps/${encodeURIComponent(app.namespace)}/${encodeURIComponent(app.name)}`;
}

export interface PackedBundle {
  app: AppRef;
  format: 'tar.gz' | 'tgz' | 'zip' | 'yaml' | 'yml';
  data: Uint8Array;
}

/**
 * Validates a bundle locally (the same loader and parser the ingest runs) and packs it for upload:
 * a folder becomes a .tar.gz of its YAML files; an archive or YAML file is sent as it is.
 */
export async function packBundle(path: string): Promise<PackedBundle> {
  // Imported here: `tricenter status` and the decisions use this client without the loader, the zod models or tar.
  const [{ loadBundle }, { parseBundle }, { create: createTar }] = await Promise.all([
    import('#shared/delivery/bundle/load.ts'),
    import('#shared/delivery/model/bundle.ts'),
    import('tar'),
  ]);
  const absolute = resolve(path);
  const loaded = await loadBundle(absolute);
  const { application } = parseBundle(loaded);
  const app: AppRef = { namespace: application.namespace, name: application.name };
  if (statSync(absolute).isDirectory()) {
    const stream = createTar({ gzip: true, cwd: absolute, portable: true, noMtime: true }, loaded.files);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return { app, format: 'tar.gz', data: Buffer.concat(chunks) };
  }
  const name = basename(absolute);
  const format = BUNDLE_EXTENSIONS.find((suffix) => name.endsWith(`.${suffix}`));
  if (!format) throw new TricenterError('VALIDATION', `${path}: a bundle is a folder, .tar.gz, .tgz, .zip, .yaml or .yml`);
  return { app, format, data: readFileSync(absolute) };
}
