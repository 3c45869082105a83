import protos from 'tablestore/lib/protocol/tablestore_compiled_proto.js';
import { ConflictError, TricenterError, type ErrorCode } from '../../../platform/errors.ts';

/**
 * What a failed Tablestore call means. The service answers an error with an HTTP status and a
 * protobuf `Error { required string code = 1; optional string message = 2; }` body (ots_protocol;
 * the SDK's own lib/protocol/tablestore.proto). The SDK 5.x hands that body to an XML parser it
 * does not ship, so its errors carry only the HTTP status; `TablestoreSdkClient` decodes the body
 * instead and raises `OtsServiceError`, which `classifyOtsFailure` sorts into:
 *
 * - conflict: `OTSConditionCheckFail`, the answer of a conditional write; never retried blindly.
 * - throttled: the service refused the request before running it (busy, capacity, quota, row
 *   lock), so retrying is safe and a write did not happen.
 * - unavailable / timeout: the service or the network failed, possibly after a write was applied
 *   (`outcomeUnknown`): retrying is safe because every write is conditional, and a retried write
 *   that then fails its condition is checked against the row (see `TablestoreCalls.putRow`).
 * - permanent: anything else (parameters, missing tables, credentials): retrying cannot help.
 */

export class OtsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    readonly requestId: string | undefined,
  ) {
    super(message);
    this.name = 'OtsServiceError';
  }
}

type OtsFailureKind = 'conflict' | 'throttled' | 'unavailable' | 'timeout' | 'permanent';

export interface OtsFailure {
  kind: OtsFailureKind;
  /** The OTS code (`OTSServerBusy`), `HTTP <status>` when the body was not an Error, or the network error's code. */
  code: string;
  message: string;
  retryable: boolean;
  /** A write may have been applied although the call failed. */
  outcomeUnknown: boolean;
}

const THROTTLED = new Set([
  'OTSServerBusy',
  'OTSNotEnoughCapacityUnit',
  'OTSQuotaExhausted',
  'OTSOperationThrottled',
  'OTSRowOperationConflict',
  'OTSTableNotReady',
]);
const UNAVAILABLE = new Set(['OTSInternalServerError', 'OTSServerUnavailable', 'OTSPartitionUnavailable']);
const AUTH = new Set(['OTSAuthFailed', 'OTSNoPermissionAccess', 'OTSStsTokenExpired', 'OTSAccessDenied']);
const OTS_CODE = /^OTS[A-Za-z]+$/;

/** The code and message of an error body, or undefined when the body is not a Tablestore `Error`. */
export function decodeOtsErrorBody(body: Uint8Array | undefined): { code: string; message: string } | undefined {
  if (!body || body.length === 0) return undefined;
  try {
    const decoded = protos.main.proto.Error!.decode(body) as { code?: unknown; message?: unknown };
    if (typeof decoded.code !== 'string' || !OTS_CODE.test(decoded.code)) return undefined;
    return { code: decoded.code, message: typeof decoded.message === 'string' ? decoded.message : '' };
  } catch {
    return undefined;
  }
}

/** The error a non-2xx answer stands for: its decoded `Error`, or the status and some of the body (a proxy's HTML page, say). */
export function otsServiceError(status: number, body: Uint8Array | undefined, requestId: string | undefined): OtsServiceError {
  const decoded = decodeOtsErrorBody(body);
  if (decoded) return new OtsServiceError(decoded.code, decoded.message, status, requestId);
  const text = body && body.length > 0 ? Buffer.from(body).toString('utf8', 0, Math.min(body.length, 200)).replace(/\s+/g, ' ').trim() : '';
  return new OtsServiceError(`HTTP ${status}`, text, status, requestId);
}

export function classifyOtsFailure(err: unknown): OtsFailure {
  if (err instanceof OtsServiceError) {
    const { code, message } = err;
    if (code === 'OTSConditionCheckFail') return { kind: 'conflict', code, message, retryable: false, outcomeUnknown: false };
    // The quota that refills (table operations per second) is throttling; a count quota (tables per instance) is not.
    const quota = code === 'OTSQuotaExhausted' && !/too frequent/i.test(message);
    if (THROTTLED.has(code) && !quota) return { kind: 'throttled', code, message, retryable: true, outcomeUnknown: false };
    if (code === 'OTSTimeout') return { kind: 'timeout', code, message, retryable: true, outcomeUnknown: true };
    if (UNAVAILABLE.has(code) || (!OTS_CODE.test(code) && err.httpStatus >= 500))
      return { kind: 'unavailable', code, message, retryable: true, outcomeUnknown: true };
    return { kind: 'permanent', code, message, retryable: false, outcomeUnknown: false };
  }
  // The SDK's transport failures all arrive as `NetworkingError`: refused connections, DNS
  // failures, resets, and its socket timeout ("Connection timed out after <n>ms"). Whether the
  // request had been sent is not said: unknown.
  const sdkCode = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message || String((err as { errno?: unknown }).errno ?? err.name) : String(err);
  if (sdkCode === 'NetworkingError')
    return { kind: 'unavailable', code: 'NetworkingError', message, retryable: true, outcomeUnknown: true };
  return { kind: 'permanent', code: typeof sdkCode === 'string' ? sdkCode : 'SdkError', message, retryable: false, outcomeUnknown: false };
}

const RETRYABLE_ERROR_CODES: Record<'throttled' | 'unavailable' | 'timeout', ErrorCode> = {
  throttled: 'THROTTLED',
  unavailable: 'UNREACHABLE',
  timeout: 'TIMEOUT',
};

function describeFailure(failure: OtsFailure): string {
  return failure.message ? `${failure.code}: ${failure.message}` : failure.code;
}

/** The typed error for a failed call; `conflict` says what a condition failure means in the caller's words. */
export function otsError(err: unknown, action: string, conflict: string): TricenterError {
  const failure = classifyOtsFailure(err);
  const requestId = err instanceof OtsServiceError && err.requestId ? `, request ${err.requestId}` : '';
  if (failure.kind === 'conflict') return new ConflictError(conflict, { cause: err });
  if (failure.kind !== 'permanent') {
    return new TricenterError(
      RETRYABLE_ERROR_CODES[failure.kind],
      `${action}: Tablestore answered ${describeFailure(failure)}${requestId}`,
      { cause: err, retryable: true },
    );
  }
  if (failure.code === 'OTSObjectNotExist') {
    return new TricenterError(
      'INTERNAL',
      `${action}: the table does not exist; create the tables with \`tricenter setup\` (${describeFailure(failure)}${requestId})`,
      { cause: err },
    );
  }
  if (AUTH.has(failure.code))
    return new TricenterError('FORBIDDEN', `${action}: Tablestore refused the credentials (${describeFailure(failure)}${requestId})`, {
      cause: err,
    });
  return new TricenterError('INTERNAL', `${action} failed: ${describeFailure(failure)}${requestId}`, { cause: err });
}

/** The retryable error of a call that kept failing until its time budget ran out. */
export function otsBudgetExhausted(
  lastError: unknown,
  action: string,
  attempts: number,
  elapsedMs: number,
  budgetMs: number,
): TricenterError {
  const failure = classifyOtsFailure(lastError);
  const code = failure.kind === 'permanent' || failure.kind === 'conflict' ? 'UNREACHABLE' : RETRYABLE_ERROR_CODES[failure.kind];
  return new TricenterError(
    code,
    `${action}: gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} in ${elapsedMs} ms (retry budget ${budgetMs} ms); last answer ${describeFailure(failure)}`,
    { cause: lastError, retryable: true },
  );
}
