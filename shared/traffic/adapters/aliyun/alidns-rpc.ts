import RPCClient from '@alicloud/pop-core';
import { TricenterError, type ErrorCode } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';

/**
 * One Alidns RPC client (API 2015-01-09) over @alicloud/pop-core, shared by the GTM 2.0 adapter
 * (alidns-gtm.ts) and the GTM 3.0 adapter (alidns-cloudgtm.ts): signed form-encoded POSTs with an
 * explicit timeout, bounded retries, paging, and the API's errors mapped to TricenterError.
 *
 * Retries (bounded, exponential backoff with jitter): `Throttling`, `Throttling.User`,
 * `DnsGtmSystemBusyness`, `ServiceUnavailable`/`InternalError` and any HTTP 5xx, for every action
 * (GTM rejected or failed the call as a whole). Timeouts and connection errors are retried for
 * reads only (`Describe*`, `List*`, `Search*`): a create that timed out may have happened, and a
 * second one would make a duplicate.
 */
export interface AlidnsRpcOptions {
  /** `https://alidns.aliyuncs.com`, or the local emulator's `http://127.0.0.1:<port>`. */
  endpoint: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /** Per HTTP call (connect + read). Default 10 s. */
  timeoutMs?: number;
  /** Attempts per call including the first. Default 5. */
  maxAttempts?: number;
  /** First backoff delay; doubles each attempt up to maxDelayMs. Defaults 200 ms / 5 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** PageSize of list reads, 1..100. Default 100. */
  pageSize?: number;
  logger?: Logger;
  /** Injected for tests and simulations; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Calls made, by kind: what the traffic benchmark reports. */
export interface GtmCallStats {
  reads: number;
  writes: number;
  retries: number;
  byAction: Record<string, number>;
}

export type Params = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: Alidns answers are loose JSON; each field read is converted (String, Number) where it is used.
export type Json = Record<string, any>;

interface PopError extends Error {
  code?: string;
  data?: Json;
}

const API_VERSION = '2015-01-09';
const RETRYABLE_CODES = new Set(['Throttling', 'Throttling.User', 'DnsGtmSystemBusyness', 'ServiceUnavailable', 'InternalError']);
const READ_ACTION = /^(Describe|List|Search)/;

export class AlidnsRpc {
  readonly stats: GtmCallStats = { reads: 0, writes: 0, retries: 0, byAction: {} };
  readonly pageSize: number;
  private readonly client: RPCClient;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly logger: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: AlidnsRpcOptions, component: string) {
    const { accessKeyId, accessKeySecret, securityToken } = options.credentials;
    // verbose: pop-core then also returns the HTTP status, which it otherwise ignores (a 5xx without Code resolves).
    const Client = RPCClient as unknown as new (config: RPCClient.Config, verbose: boolean) => RPCClient;
    this.client = new Client(
      { endpoint: options.endpoint, apiVersion: API_VERSION, accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) },
      true,
    );
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.pageSize = Math.min(100, Math.max(1, options.pageSize ?? 100));
    this.logger = (options.logger ?? silentLogger).child({ component });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Every row of a paged list read: PageNumber 1, 2, ... until an empty page or the last of TotalPages (else TotalItems). */
  async allPages(action: string, params: Params, rowsOf: (r: Json) => unknown): Promise<Json[]> {
    const rows: Json[] = [];
    for (let page = 1; ; page++) {
      const r = await this.call(action, { ...params, PageNumber: page, PageSize: this.pageSize });
      const pageRows = asArray(rowsOf(r)) as Json[];
      rows.push(...pageRows);
      const totalPages = r.TotalPages !== undefined ? Number(r.TotalPages) : Math.ceil(Number(r.TotalItems ?? 0) / this.pageSize);
      if (pageRows.length === 0 || page >= totalPages) return rows;
    }
  }

  /** One RPC call with bounded retries; throws a TricenterError naming the action and the API's Code / RequestId. */
  async call(action: string, params: Params): Promise<Json> {
    const read = READ_ACTION.test(action);
    this.stats.byAction[action] = (this.stats.byAction[action] ?? 0) + 1;
    for (let attempt = 1; ; attempt++) {
      if (read) this.stats.reads++;
      else this.stats.writes++;
      const failure = await this.attempt(action, params, read);
      if (!(failure instanceof TricenterError)) return failure;
      if (!failure.retryable || attempt >= this.maxAttempts) throw failure;
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + this.random() / 2);
      this.stats.retries++;
      this.logger.warn('gtm call retried', { action, attempt, delayMs: Math.round(delay), code: failure.code, reason: failure.message });
      await this.sleep(delay);
    }
  }

  private async attempt(action: string, params: Params, read: boolean): Promise<Json | TricenterError> {
    try {
      const [body, entry] = await this.client.request<[Json, { response: { statusCode: number } }]>(action, stripUndefined(params), {
        method: 'POST',
        timeout: this.timeoutMs,
      });
      const status = entry.response.statusCode;
      if (status >= 500)
        return new TricenterError('UNREACHABLE', `Alidns ${action}: HTTP ${status} (RequestId ${body?.RequestId ?? 'none'})`, {
          retryable: true,
        });
      if (status >= 400) return new TricenterError('INTERNAL', `Alidns ${action}: HTTP ${status} without an error code`);
      return body;
    } catch (err) {
      return classify(action, err as PopError, read);
    }
  }
}

function classify(action: string, err: PopError, read: boolean): TricenterError {
  const data = err.data;
  if (data && typeof data.Code === 'string') {
    const code = data.Code;
    const detail = `Alidns ${action} failed: ${code}: ${String(data.Message ?? '')} (RequestId ${String(data.RequestId ?? 'none')})`;
    const cause = { code, requestId: data.RequestId, recommend: data.Recommend };
    if (RETRYABLE_CODES.has(code))
      return new TricenterError(code.startsWith('Throttling') ? 'THROTTLED' : 'UNREACHABLE', detail, { retryable: true, cause });
    return new TricenterError(permanentCode(code), detail, { cause });
  }
  if (err.name === 'RequestTimeoutError' || err.name === 'ReadTimeoutError') {
    return new TricenterError('TIMEOUT', `Alidns ${action}: no answer in time`, { retryable: read, cause: err });
  }
  if (err.name === 'SyntaxError') {
    // A gateway's HTML error page: the call did not reach GTM's API.
    return new TricenterError('UNREACHABLE', `Alidns ${action}: the answer was not JSON`, { retryable: true, cause: err });
  }
  return new TricenterError('UNREACHABLE', `Alidns ${action}: ${err.message}`, { retryable: read, cause: err });
}

function permanentCode(code: string): ErrorCode {
  if (
    code.startsWith('Forbidden') ||
    code === 'SignatureDoesNotMatch' ||
    code.startsWith('InvalidAccessKeyId') ||
    code === 'IncompleteSignature'
  )
    return 'FORBIDDEN';
  if (/NotExist|NotFound/i.test(code)) return 'NOT_FOUND';
  // GTM 3.0 refuses to delete what is still referenced, or a second config of a domain: the state changed under the plan.
  if (code.startsWith('OperationDenied')) return 'CONFLICT';
  if (code.startsWith('InvalidParameter') || code.startsWith('MissingParameter') || code === 'UnsupportedOperation') return 'VALIDATION';
  return 'INTERNAL';
}

// biome-ignore lint/suspicious/noExplicitAny: the rows of a loose Alidns answer (see Json).
export function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

export function parseJsonObject(text: unknown): Json {
  if (typeof text !== 'string' || text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Json) : {};
  } catch {
    return {};
  }
}

/** pop-core would send an undefined value as the text "undefined". */
function stripUndefined(params: Params): Params {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}
