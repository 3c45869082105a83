import { createHash } from 'node:crypto';
import { TricenterError } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import type { DeployTask } from '../../workflow/run.ts';
import type { QueueMessage, TaskQueue } from '../../ports/task-queue.port.ts';
import type { CredentialsProvider } from '../../../platform/credentials.ts';
import { httpsCall, HttpsCallFailed } from './https-call.ts';
import { acs3SignedHeaders } from './signatures.ts';

/**
 * The TaskQueue over Function Compute 3.0 asynchronous invocation: each message is one
 * `InvokeFunction` (POST /2023-03-30/functions/{name}/invocations, signed ACS3-HMAC-SHA256) with
 * `x-fc-invocation-type: Async` and the message as the JSON body; FC answers 202 once the event is
 * persisted, then delivers it to the function with its own retries (s.yaml's async invoke config).
 *
 * The request is the one @alicloud/fc20230330 sends (its headers, its ACS3 signature: signatures.ts),
 * built here over Node's https: the SDK's tree (the Tea runtime, lodash, moment, @alicloud/credentials)
 * cost a bundle-ingest's cold start more than the rest of its first invocation, to send one POST.
 * Neither SDK is loaded at run time: @alicloud/fc20230330 is what test/aliyun/fc-msw.ts checks the
 * signature with, and the design card's @alicloud/fc2 speaks only the FC 2.0 API (functions inside
 * services, /2016-08-15/services/...), which cannot address the functions the fc3 component creates.
 *
 * Idempotency: `x-fc-async-task-id` carries the message key. FC refuses a task id it has seen with
 * 409, which here means "already accepted" (a send retried after a timeout). FC task ids allow only
 * letters, digits, `_` and `-` (max 128, starting with a letter or `_`), so keys are mapped
 * deterministically: their allowed characters, then a hash of the whole key (keys stay unique).
 * Task ids are honoured when the function has asynchronous tasks enabled (s.yaml `asyncTask: true`).
 *
 * Failures of one call: 429 and 5xx (and network errors) are retried with bounded exponential
 * backoff; other 4xx are permanent (TricenterError, not retryable).
 */
export interface FcTaskQueueOptions {
  /** e.g. cn-hangzhou. */
  region: string;
  /** The Alibaba Cloud account id (FC context `accountId`): FC 3.0 endpoints are per account. */
  accountId: string;
  /** The worker function, e.g. tricenter-deploy-step. */
  functionName: string;
  /** A version or alias of the function (default: LATEST). */
  qualifier?: string;
  credentials: CredentialsProvider;
  /** Overrides `https://<accountId>.<region>.fc.aliyuncs.com` (a VPC endpoint, or a test server). */
  endpoint?: string;
  /** Attempts per message including the first (default 4); backoff base/max (defaults 200 ms / 3 s). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per HTTP call. Default 10 s. */
  timeoutMs?: number;
  /** Messages sent at once (default 8). */
  concurrency?: number;
  logger?: Logger;
  /** Injected by tests; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export function createFcTaskQueue<T extends QueueMessage = DeployTask>(options: FcTaskQueueOptions): FcTaskQueue<T> {
  return new FcTaskQueue<T>(options);
}

export function fcEndpoint(region: string, accountId: string): string {
  return `https://${accountId}.${region}.fc.aliyuncs.com`;
}

const TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** The FC async task id of a message key: the key itself when FC accepts it, else a deterministic mapping. */
export function asyncTaskId(key: string): string {
  if (TASK_ID.test(key)) return key;
  const readable = key.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 100);
  return `t_${readable}_${createHash('sha256').update(key).digest('hex').slice(0, 24)}`;
}

/** What one InvokeFunction failed with: FC's answer (status, error code), or none (status undefined). */
class FcCallFailed extends Error {
  constructor(
    readonly status: number | undefined,
    readonly code: string | undefined,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

const USER_AGENT = `tricenter (${process.platform}; ${process.arch}) Node.js/${process.version}`;

export class FcTaskQueue<T extends QueueMessage = DeployTask> implements TaskQueue<T> {
  readonly stats = { sent: 0, duplicates: 0, retries: 0 };
  private readonly endpoint: URL;
  private readonly logger: Logger;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: FcTaskQueueOptions) {
    if (!options.endpoint && !/^\d+$/.test(options.accountId)) {
      throw new TricenterError(
        'VALIDATION',
        `FC task queue for ${options.functionName}: account id "${options.accountId}" is not an Alibaba Cloud account id (FC 3.0 endpoints are per account: take it from the invocation context's accountId)`,
      );
    }
    this.endpoint = new URL(options.endpoint ?? fcEndpoint(options.region, options.accountId));
    this.logger = (options.logger ?? silentLogger).child({ component: 'fc-task-queue', function: options.functionName });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async send(messages: readonly T[]): Promise<void> {
    const queue = [...messages];
    const workers = Array.from({ length: Math.min(queue.length, Math.max(1, this.options.concurrency ?? 8)) }, async () => {
      for (let message = queue.shift(); message; message = queue.shift()) await this.invoke(message);
    });
    await Promise.all(workers);
  }

  private async invoke(message: T): Promise<void> {
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 4);
    const taskId = asyncTaskId(message.key);
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    for (let attempt = 1; ; attempt++) {
      try {
        await this.invokeOnce(body, taskId);
        this.stats.sent += 1;
        return;
      } catch (err) {
        const status = statusOf(err);
        if (status === 409) {
          this.stats.duplicates += 1;
          this.logger.debug('task already accepted (duplicate async task id)', { key: message.key, taskId });
          return;
        }
        const retryable = status === undefined || status === 429 || status >= 500;
        const code = codeOf(err);
        if (!retryable || attempt >= maxAttempts) {
          this.logger.error('task could not be sent', {
            key: message.key,
            taskId,
            status: status ?? null,
            code: code ?? null,
            attempts: attempt,
          });
          throw new TricenterError(
            status === 429
              ? 'THROTTLED'
              : status === 403 || status === 401
                ? 'FORBIDDEN'
                : status === undefined
                  ? 'UNREACHABLE'
                  : 'INTERNAL',
            `InvokeFunction ${this.options.functionName} (task ${message.key}) failed: ${code ?? 'error'}${status ? ` (HTTP ${status})` : ''} after ${attempt} attempt(s)`,
            { cause: err, retryable },
          );
        }
        this.stats.retries += 1;
        const delay = Math.min(this.options.maxDelayMs ?? 3_000, (this.options.baseDelayMs ?? 200) * 2 ** (attempt - 1));
        this.logger.warn('task send failed; retrying', {
          key: message.key,
          status: status ?? null,
          code: code ?? null,
          attempt,
          delayMs: delay,
        });
        await this.sleep(delay);
      }
    }
  }

  /** POST /2023-03-30/functions/{name}/invocations, signed with the keys valid now (STS keys change between invocations). */
  private async invokeOnce(body: Buffer, taskId: string): Promise<void> {
    const path = `/2023-03-30/functions/${encodeURIComponent(this.options.functionName)}/invocations`;
    const url = new URL(path, this.endpoint.origin);
    if (this.options.qualifier) url.searchParams.set('qualifier', this.options.qualifier);
    const keys = this.options.credentials();
    const headers = acs3SignedHeaders(keys, {
      method: 'POST',
      url,
      body,
      date: new Date(),
      headers: {
        accept: 'application/json',
        'content-type': 'application/octet-stream',
        'user-agent': USER_AGENT,
        'x-acs-action': 'InvokeFunction',
        'x-acs-version': '2023-03-30',
        'x-acs-accesskey-id': keys.accessKeyId,
        'x-fc-invocation-type': 'Async',
        'x-fc-async-task-id': taskId,
      },
    });
    let answer;
    try {
      answer = await httpsCall({
        method: 'POST',
        origin: url,
        path: `${url.pathname}${url.search}`,
        headers,
        body,
        timeoutMs: this.options.timeoutMs ?? 10_000,
        maxBodyBytes: 64 * 1024,
      });
    } catch (err) {
      throw new FcCallFailed(undefined, err instanceof HttpsCallFailed ? err.reason : 'network', (err as Error).message, { cause: err });
    }
    if (answer.status === 202 || answer.status === 200) return;
    if (answer.status >= 200 && answer.status < 300) {
      throw new TricenterError(
        'INTERNAL',
        `InvokeFunction ${this.options.functionName}: unexpected HTTP ${answer.status} for an async invocation`,
      );
    }
    let code: string | undefined;
    try {
      const parsed = JSON.parse(answer.body.toString('utf8')) as { Code?: unknown; code?: unknown };
      const found = parsed.Code ?? parsed.code;
      code = typeof found === 'string' ? found : undefined;
    } catch {
      code = undefined;
    }
    throw new FcCallFailed(answer.status, code, `InvokeFunction answered HTTP ${answer.status}`);
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof FcCallFailed ? err.status : err instanceof TricenterError ? 500 : undefined;
}

function codeOf(err: unknown): string | undefined {
  return err instanceof FcCallFailed ? err.code : undefined;
}
