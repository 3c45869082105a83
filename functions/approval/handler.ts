import * as z from 'zod/mini';
import { $ZodError } from 'zod/v4/core';
import { authenticate } from '#shared/delivery/approval/auth.ts';
import { IdempotencyKeyReused } from '#shared/delivery/approval/idempotency.ts';
import { errorMessage, isTricenterError } from '#shared/platform/errors.ts';
import type { Logger } from '#shared/platform/log.ts';
import { fcHandler } from '#shared/platform/handler.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { MethodNotAllowed } from '#shared/platform/http-router.ts';
import { httpTriggerEventSchema, jsonResponse, type HttpTriggerResponse } from '#shared/platform/triggers/http.ts';
import type { ApprovalDeps } from './deps.ts';
import { readRequest, RequestRefused } from './request.ts';

const STATUS_BY_CODE: Record<string, number> = {
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  VALIDATION: 400,
  BUNDLE_INVALID: 400,
  BUNDLE_UNSAFE: 400,
  BUNDLE_TOO_LARGE: 413,
};

function statusOf(err: unknown): number {
  if (err instanceof $ZodError) return 400;
  if (err instanceof RequestRefused) return err.status;
  if (err instanceof MethodNotAllowed) return 405;
  if (err instanceof IdempotencyKeyReused) return 422;
  return isTricenterError(err) ? (STATUS_BY_CODE[err.code] ?? 500) : 500;
}

/** Every error becomes its status and a JSON body; a 5xx says no more than "internal error". */
function refusal(err: unknown, log: Logger): HttpTriggerResponse {
  const status = statusOf(err);
  const code =
    err instanceof $ZodError
      ? 'BAD_REQUEST'
      : err instanceof MethodNotAllowed
        ? 'METHOD_NOT_ALLOWED'
        : isTricenterError(err)
          ? err.code
          : 'INTERNAL';
  const message = err instanceof $ZodError ? `invalid request: ${z.prettifyError(err)}` : errorMessage(err);
  (status >= 500 ? log.error : log.info)('request refused', { status, code, message });
  const headers: Record<string, string> = err instanceof MethodNotAllowed ? { allow: err.allow.join(', ') } : {};
  return jsonResponse(status, { error: code, message: status >= 500 ? 'internal error' : message }, headers);
}

/** The approval webhook and status API (FC HTTP trigger, anonymous: authentication is ours); routes in routes.ts. */
export function createApprovalHandler(getDeps: (context: FcContext) => Promise<ApprovalDeps>) {
  return fcHandler({
    fn: 'approval',
    trigger: httpTriggerEventSchema,
    deps: getDeps,
    onError: refusal,
    async handle(event, { deps, log, context }) {
      const request = readRequest(event);
      if (request.segments[0] === 'apps' && request.segments[3] === 'review') {
        // The review page signs browsers in with a session cookie of its own (review.ts), not a bearer header.
        const { serveReview } = await import('./review.ts');
        const result = await serveReview(deps, request, context.requestId);
        log.info('review page served', { method: request.method, path: request.rawPath, status: result.statusCode });
        return result;
      }
      if (request.segments[0] === 'links') {
        // A one-time link is its own credential (link-routes.ts). Its path holds the token: never logged.
        const { serveLink } = await import('./link-routes.ts');
        const result = await serveLink(deps, request);
        log.info('approval link served', { method: request.method, status: result.statusCode });
        return result;
      }
      const principal = await authenticate(
        { method: request.method, path: request.rawPath, headers: request.headers, body: request.bodyAsSent },
        deps.auth,
        deps.clock.now(),
        deps.replay,
      );
      // Loaded after authentication: a refused request costs no use case (cold starts).
      const { serveRoute } = await import('./routes.ts');
      const result = await serveRoute(deps, request, principal, context.requestId);
      log.info('request served', { method: request.method, path: request.rawPath, status: result.statusCode, principal: principal.name });
      return result;
    },
  });
}
