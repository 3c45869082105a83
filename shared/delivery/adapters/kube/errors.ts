import { ApiException } from '@kubernetes/client-node';
import { TricenterError, isTricenterError, errorMessage } from '../../../platform/errors.ts';

/**
 * One place that turns whatever the Kubernetes client throws into a TricenterError, so that the
 * deploy workflow can decide "retry later" or "fail the step" from `code` and `retryable` alone.
 */

/** The parts of a Kubernetes `Status` body we use. */
export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: Array<{ field?: string; message?: string; reason?: string }> };
}

/** Network-level failures that mean "the API server could not be reached right now". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** TLS failures: the server answered but we do not trust it (or it not us); retrying will not help. */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO/;

/** What the failing request was, for the message: `apply apps/v1 Deployment demo/web on cluster1`. */
export interface RequestDescription {
  cluster: string;
  action: string;
  target?: string;
}

function describe(req: RequestDescription): string {
  return `${req.action}${req.target ? ` ${req.target}` : ''} on cluster ${req.cluster}`;
}

export function parseStatus(body: unknown): KubeStatus | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value !== null && typeof value === 'object' ? (value as KubeStatus) : undefined;
}

function systemCode(err: unknown): string | undefined {
  for (let current = err, depth = 0; current && depth < 5; depth += 1) {
    if (typeof current !== 'object') return undefined;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isAbort(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'AbortError' || err.name === 'TimeoutError' || (err as { type?: unknown }).type === 'aborted';
}

/** Classifies an HTTP status answered by the API server (with its Status body, when it sent one). */
export function classifyHttpStatus(statusCode: number, body: unknown, req: RequestDescription, cause?: unknown): TricenterError {
  const status = parseStatus(body);
  const serverMessage = status?.message ?? (typeof body === 'string' && body.length < 500 ? body : '') ?? '';
  const said = serverMessage ? `: ${serverMessage}` : '';
  const where = describe(req);
  if (statusCode === 400 || statusCode === 422) {
    return new TricenterError(
      'INVALID_OBJECT',
      `${where} was rejected by the API server (${statusCode} ${status?.reason ?? 'Invalid'})${said}`,
      { cause, retryable: false },
    );
  }
  if (statusCode === 409) {
    return new TricenterError('CONFLICT', `${where} conflicted (409 ${status?.reason ?? 'Conflict'})${said}`, { cause, retryable: true });
  }
  if (statusCode === 401) {
    return new TricenterError('UNAUTHORIZED', `${where}: the API server did not accept the credentials of the kubeconfig (401)${said}`, {
      cause,
      retryable: false,
    });
  }
  if (statusCode === 403) {
    return new TricenterError('FORBIDDEN', `${where}: the kubeconfig's user is not allowed to do this (403)${said}`, {
      cause,
      retryable: false,
    });
  }
  if (statusCode === 404) {
    return new TricenterError('NOT_FOUND', `${where}: not found (404)${said}`, { cause, retryable: false });
  }
  if (statusCode === 429) {
    return new TricenterError('THROTTLED', `${where}: the API server is throttling (429)${said}`, { cause, retryable: true });
  }
  if (statusCode === 504) {
    return new TricenterError('TIMEOUT', `${where}: the API server timed out (504)${said}`, { cause, retryable: true });
  }
  if (statusCode >= 500) {
    return new TricenterError('INTERNAL', `${where}: the API server failed (${statusCode})${said}`, { cause, retryable: true });
  }
  return new TricenterError('INTERNAL', `${where}: unexpected answer ${statusCode}${said}`, { cause, retryable: false });
}

/** Classifies anything thrown while talking to a cluster. A TricenterError passes through unchanged. */
export function classifyKubeError(err: unknown, req: RequestDescription, timeoutMs?: number): TricenterError {
  if (isTricenterError(err)) return err;
  const where = describe(req);
  if (err instanceof ApiException) {
    return classifyHttpStatus(err.code, err.body, req, err);
  }
  if (isAbort(err)) {
    const after = timeoutMs === undefined ? '' : ` after ${timeoutMs} ms`;
    return new TricenterError('UNREACHABLE', `${where}: no answer from the API server${after} (request timed out)`, {
      cause: err,
      retryable: true,
    });
  }
  const code = systemCode(err);
  if (code && NETWORK_CODES.has(code)) {
    return new TricenterError('UNREACHABLE', `${where}: API server unreachable (${code})`, { cause: err, retryable: true });
  }
  if (code && TLS_CODE.test(code)) {
    return new TricenterError(
      'UNREACHABLE',
      `${where}: TLS handshake with the API server failed (${code}); check the kubeconfig's certificate authority`,
      { cause: err, retryable: false },
    );
  }
  if (err instanceof Error && (err as { type?: unknown }).type === 'system') {
    return new TricenterError('UNREACHABLE', `${where}: API server unreachable (${errorMessage(err)})`, { cause: err, retryable: true });
  }
  return new TricenterError('INTERNAL', `${where}: ${errorMessage(err)}`, { cause: err, retryable: false });
}
