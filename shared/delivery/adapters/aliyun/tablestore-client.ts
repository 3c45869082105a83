import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import TableStore, { type Client, type DecodedRow, type PrimaryKeyInput, type SdkRequest, type SdkResponse } from 'tablestore';
import { systemClock, type Clock } from '../../../platform/clock.ts';
import { ConflictError, TricenterError } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import { sameCredentials, type CloudCredentials, type CredentialsProvider } from '../../../platform/credentials.ts';
import { classifyOtsFailure, otsBudgetExhausted, otsError, otsServiceError, type OtsFailure } from './tablestore-errors.ts';

/**
 * Tablestore calls that behave under faults: error bodies decoded, retryable failures retried with
 * jittered exponential backoff inside a total time budget, conditional writes made safe to retry.
 *
 * Why not the SDK's own retries: its policy is one process-wide object (`config.maxRetries`
 * rewrites it for every client), it never sees an OTS code (see tablestore-errors.ts), and it
 * retries a refused connection 20 times with delays up to 3 s, about 40 s in all, longer than
 * the approval function's 30 s. `TablestoreSdkClient` switches it off for its own requests only,
 * through the per-client listener hooks the SDK builds every request with.
 */

interface TablestoreRetryOptions {
  /**
   * Time one store call may take, every attempt and every backoff included. A retry is started
   * only if it can end (request timeout included) within the budget. Default 10 s: the approval
   * function's timeout is 30 s and one invocation makes a few store calls.
   */
  budgetMs?: number;
  /** An attempt fails when its socket stays idle this long, connecting included. Default 4 s (two attempts fit the default budget). */
  requestTimeoutMs?: number;
  /** Backoff before retry n is drawn from [d/2, d] with d = min(maxDelayMs, baseDelayMs * 2^(n-1)). Defaults 100 ms, 2 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export type TablestoreRetryPolicy = Required<TablestoreRetryOptions>;

function tablestoreRetryPolicy(options: TablestoreRetryOptions = {}): TablestoreRetryPolicy {
  const budgetMs = options.budgetMs ?? 10_000;
  const policy = {
    budgetMs,
    requestTimeoutMs: Math.min(options.requestTimeoutMs ?? 4_000, budgetMs),
    baseDelayMs: options.baseDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 2_000,
  };
  // A request timeout of 0 would mean none at all to the SDK's socket.
  const invalid = Object.entries(policy).filter(([, ms]) => !(Number.isFinite(ms) && ms > 0));
  if (invalid.length > 0)
    throw new TricenterError(
      'VALIDATION',
      `Tablestore retry settings must be positive milliseconds: ${invalid.map(([k, ms]) => `${k} ${ms}`).join(', ')}`,
    );
  return policy;
}

/** The SDK client with Tablestore's error bodies decoded and the SDK's own retries off. */
class TablestoreSdkClient extends TableStore.Client {
  override setupRequestListeners(request: SdkRequest): void {
    super.setupRequestListeners(request);
    // Runs after the SDK's RETRY_CHECK listener, which the SDK adds first.
    request.addListener('retry', (response) => {
      if (response.error) response.error.retryable = false;
    });
  }

  override extractError(response: SdkResponse): void {
    const { statusCode, headers, body } = response.httpResponse;
    response.error = otsServiceError(statusCode, body, headers['x-ots-requestid'] ?? headers['x-ots-request-id']);
  }
}

/** Setup tools wait longer per request than functions do: CreateTable with an index takes seconds. */
export const SETUP_REQUEST_TIMEOUT_MS = 10_000;

export function tablestoreClient(options: {
  endpoint: string;
  instance: string;
  credentials: CloudCredentials;
  requestTimeoutMs?: number;
}): Client {
  const { credentials } = options;
  return new TablestoreSdkClient({
    accessKeyId: credentials.accessKeyId,
    accessKeySecret: credentials.accessKeySecret,
    ...(credentials.securityToken ? { stsToken: credentials.securityToken } : {}),
    endpoint: options.endpoint,
    instancename: options.instance,
    httpOptions: { timeout: options.requestTimeoutMs ?? SETUP_REQUEST_TIMEOUT_MS },
  });
}

/** The attribute column a PutRow adds to recognise its own write when its answer was lost. */
export const WRITE_TOKEN_COLUMN = 'write_token';

export interface PutRowParams {
  tableName: string;
  condition: unknown;
  primaryKey: PrimaryKeyInput;
  attributeColumns: Array<Record<string, unknown>>;
}

export interface TablestoreCallsOptions {
  retry?: TablestoreRetryOptions;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); draws the backoff jitter. */
  random?: () => number;
  logger?: Logger;
}

export class TablestoreCalls {
  readonly policy: TablestoreRetryPolicy;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly logger: Logger;

  /** `sdk` is asked for a client before each attempt (the credentials may have rotated). */
  constructor(
    private readonly sdk: () => Client,
    options: TablestoreCallsOptions = {},
  ) {
    this.policy = tablestoreRetryPolicy(options.retry);
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? ((ms) => sleepFor(ms));
    this.random = options.random ?? Math.random;
    this.logger = (options.logger ?? silentLogger).child({ component: 'tablestore' });
  }

  /**
   * A call that is safe to repeat (a read; a CreateTable whose caller takes OTSObjectAlreadyExist
   * for done), retried while its failures are retryable and the budget lasts.
   */
  retry<T>(action: string, send: (sdk: Client) => Promise<T>): Promise<T> {
    return this.call(action, send, `${action}: unexpected condition failure`, this.clock.now());
  }

  /**
   * A conditional PutRow, retried like a read: a retry cannot apply it twice, its condition sees
   * to that. The ambiguous case is an attempt that failed after the service may have applied it
   * (timeout, reset, 5xx) followed by a retry that fails its condition: the row is read back, and
   * if it holds this call's write token the write landed and the call succeeds. Otherwise, or when
   * no attempt was ambiguous, the caller gets its ConflictError and reloads, as after any lost
   * race; that also covers a landed write that another writer replaced before the read-back.
   * The read-back spends what is left of the write's budget (its first attempt is always made).
   */
  async putRow(action: string, row: PutRowParams, conflict: string): Promise<void> {
    const startedAt = this.clock.now();
    const token = randomUUID();
    const tokened = { ...row, attributeColumns: [...row.attributeColumns, { [WRITE_TOKEN_COLUMN]: token }] };
    let outcomeUnknown = false;
    try {
      await this.call(
        action,
        (sdk) => sdk.putRow(tokened),
        conflict,
        startedAt,
        (failure) => {
          outcomeUnknown ||= failure.outcomeUnknown;
        },
      );
    } catch (err) {
      if (!(err instanceof ConflictError) || !outcomeUnknown) throw err;
      const { row: stored } = await this.call(
        `${action}, read back after an attempt with an unknown outcome`,
        (sdk) => sdk.getRow({ tableName: row.tableName, primaryKey: row.primaryKey, columnsToGet: [WRITE_TOKEN_COLUMN], maxVersions: 1 }),
        conflict,
        startedAt,
      );
      if (writeTokenOf(stored) !== token) throw err;
      this.logger.info('tablestore write had landed before its answer was lost', { action });
    }
  }

  /** Attempts until success, a failure that is not retryable, or no further attempt fits the budget counted from `startedAt`. */
  private async call<T>(
    action: string,
    send: (sdk: Client) => Promise<T>,
    conflict: string,
    startedAt: number,
    onFailure?: (failure: OtsFailure) => void,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const sdk = this.sdk();
      try {
        return await send(sdk);
      } catch (err) {
        const failure = classifyOtsFailure(err);
        onFailure?.(failure);
        if (!failure.retryable) throw otsError(err, action, conflict);
        const elapsedMs = this.clock.now() - startedAt;
        const ceiling = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1));
        const delayMs = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
        if (elapsedMs + delayMs + this.policy.requestTimeoutMs > this.policy.budgetMs) {
          this.logger.warn('tablestore call gave up', {
            action,
            code: failure.code,
            attempts: attempt,
            elapsedMs,
            budgetMs: this.policy.budgetMs,
          });
          throw otsBudgetExhausted(err, action, attempt, elapsedMs, this.policy.budgetMs);
        }
        this.logger.info('tablestore call retried', { action, code: failure.code, attempt, delayMs, elapsedMs });
        await this.sleep(delayMs);
      }
    }
  }
}

/** Where an adapter's calls go; the credentials are asked for again before each attempt. */
export interface TablestoreTarget {
  endpoint: string;
  instance: string;
  credentials: CredentialsProvider;
}

/**
 * The calls of one adapter over `target`: its SDK client is built on first use and again when the
 * credentials rotate (STS keys of a function instance); `forget` drops it (the adapter's close).
 */
export function targetCalls(target: TablestoreTarget, options: TablestoreCallsOptions): { calls: TablestoreCalls; forget: () => void } {
  let client: { credentials: CloudCredentials; sdk: Client } | undefined;
  const calls: TablestoreCalls = new TablestoreCalls(() => {
    const credentials = target.credentials();
    if (!client || !sameCredentials(client.credentials, credentials)) {
      const sdk = tablestoreClient({
        endpoint: target.endpoint,
        instance: target.instance,
        credentials,
        requestTimeoutMs: calls.policy.requestTimeoutMs,
      });
      client = { credentials, sdk };
    }
    return client.sdk;
  }, options);
  return {
    calls,
    forget: () => {
      client = undefined;
    },
  };
}

/** A PutRow under a `version` column: a new row when `expectedVersion` is null, else the row whose version is `expectedVersion`. */
export interface VersionedPut {
  table: string;
  /** Names the row in messages and logs. */
  describe: string;
  primaryKey: PrimaryKeyInput;
  attributeColumns: Array<Record<string, unknown>>;
  expectedVersion: number | null;
  /** The ConflictError's message when the condition fails. */
  conflict: string;
}

/** EXPECT_NOT_EXIST for a new row, else EXPECT_EXIST with `version == expectedVersion`. */
function versionCondition(expectedVersion: number | null): unknown {
  if (expectedVersion === null) return new TableStore.Condition(TableStore.RowExistenceExpectation.EXPECT_NOT_EXIST, null);
  return new TableStore.Condition(
    TableStore.RowExistenceExpectation.EXPECT_EXIST,
    new TableStore.SingleColumnCondition('version', TableStore.Long.fromNumber(expectedVersion), TableStore.ComparatorType.EQUAL, false),
  );
}

/** The conditional write of `put` (TablestoreCalls.putRow); a failure other than the condition's is logged, every failure thrown. */
export async function putVersioned(calls: TablestoreCalls, logger: Logger, put: VersionedPut): Promise<void> {
  const { table, describe, primaryKey, attributeColumns } = put;
  try {
    await calls.putRow(
      `PutRow ${table} (${describe})`,
      { tableName: table, condition: versionCondition(put.expectedVersion), primaryKey, attributeColumns },
      put.conflict,
    );
  } catch (err) {
    if (!isConflict(err)) logger.warn('tablestore write failed', { table, row: describe, error: err });
    throw err;
  }
}

/** putVersioned whose condition failure is an answer (false: the row exists, or another writer won), not an error. */
export async function tryPutVersioned(calls: TablestoreCalls, logger: Logger, put: VersionedPut): Promise<boolean> {
  try {
    await putVersioned(calls, logger, put);
    return true;
  } catch (err) {
    if (isConflict(err)) return false;
    throw err;
  }
}

function isConflict(err: unknown): boolean {
  return err instanceof TricenterError && err.code === 'CONFLICT';
}

function writeTokenOf(row: Partial<DecodedRow>): unknown {
  return row.attributes?.find((a) => a.columnName === WRITE_TOKEN_COLUMN)?.columnValue;
}
