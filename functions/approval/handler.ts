import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { $ZodError } from 'zod/v4/core';
import { authenticate, type ApprovalAuthConfig, type Principal, type ReplayGuard } from '#shared/approval/auth.ts';
import { decideThroughApi } from '#shared/approval/decisions.ts';
import { IdempotencyKeyReused, parseIdempotencyKey } from '#shared/approval/idempotency.ts';
import { MAX_DECISION_BODY_BYTES } from '#shared/approval/limits.ts';
import { parseBundleFormat, uploadBundle, uploadOutcome } from '#shared/approval/uploads.ts';
import { errorMessage, isTricenterError, TricenterError } from '#shared/core/errors.ts';
import { decodeEvent, httpTriggerEventSchema, type FcContext, type HttpTriggerResponse } from '#shared/model/events.ts';
import type { AppRef } from '#shared/model/ownership.ts';
import { parseDecisionAction } from '#shared/usecases/decisions.ts';
import type { WorkflowDeps } from '#shared/usecases/deps.ts';
import { appStatus } from '#shared/usecases/status.ts';
import { recentRejectedUploads } from '#shared/usecases/rejected-uploads.ts';
import { binaryBody, jsonBody, readRequest, RequestRefused, type ApiRequest } from './request.ts';

/**
 * The approval webhook and status API (FC HTTP trigger, anonymous: authentication is ours).
 *   GET  /apps/{ns}/{name}                         status JSON
 *   GET  /apps/{ns}/{name}/runs                    run history, newest first
 *   POST /apps/{ns}/{name}/{approve|reject|resume|terminate|rollback}   {comment?}  (Idempotency-Key optional)
 *   PUT  /apps/{ns}/{name}/bundle                  upload a bundle (body: the archive or YAML)
 *   GET  /apps/{ns}/{name}/bundle?format=&etag=    the ingest outcome of that upload
 */
export interface ApprovalDeps extends WorkflowDeps {
  auth: ApprovalAuthConfig;
  replay: ReplayGuard;
  /** The bucket uploads go to; its trigger (OSS or the local watcher) starts the ingest. */
  bucket: string;
}

const decisionBodySchema = z.strictObject({ comment: z.optional(z.string().check(z.maxLength(2000))), by: z.optional(z.string().check(z.maxLength(100))) });
const NAME = /^[a-z0-9][-a-z0-9.]{0,252}$/;
const ACTION = /^[a-z]+$/;

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
  if (err instanceof IdempotencyKeyReused) return 422;
  return isTricenterError(err) ? (STATUS_BY_CODE[err.code] ?? 500) : 500;
}

export function createApprovalHandler(getDeps: () => Promise<ApprovalDeps>) {
  return async (event: Buffer, context: FcContext): Promise<HttpTriggerResponse> => {
    const deps = await getDeps();
    const log = deps.logger.child({ fn: 'approval', requestId: context.requestId });
    try {
      const request = readRequest(httpTriggerEventSchema.parse(decodeEvent(event)));
      const principal = await authenticate(
        { method: request.method, path: request.rawPath, headers: request.headers, body: request.bodyAsSent },
        deps.auth,
        deps.clock.now(),
        deps.replay,
      );
      const result = await route(deps, request, principal, context.requestId);
      log.info('request served', { method: request.method, path: request.rawPath, status: result.statusCode, principal: principal.name });
      return result;
    } catch (err) {
      const status = statusOf(err);
      const code = err instanceof $ZodError ? 'BAD_REQUEST' : isTricenterError(err) ? err.code : 'INTERNAL';
      const message = err instanceof $ZodError ? `invalid request: ${z.prettifyError(err)}` : errorMessage(err);
      (status >= 500 ? log.error : log.info)('request refused', { status, code, message });
      return json(status, { error: code, message: status >= 500 ? 'internal error' : message });
    }
  };
}

async function route(deps: ApprovalDeps, req: ApiRequest, principal: Principal, requestId: string): Promise<HttpTriggerResponse> {
  const [root, namespace, name, action, ...rest] = req.segments;
  const routed = root === 'apps' && namespace && name && NAME.test(namespace) && NAME.test(name) && (action === undefined || ACTION.test(action)) && rest.length === 0;
  if (!routed) throw new TricenterError('NOT_FOUND', `no route for ${req.method} ${req.rawPath}`);
  const app: AppRef = { namespace, name };

  if (req.method === 'GET') {
    if (action === undefined) {
      const status = await appStatus(deps, app);
      if (!status) throw new TricenterError('NOT_FOUND', `application ${app.namespace}/${app.name} is unknown`);
      const rejectedUploads = await recentRejectedUploads(deps.store, app.namespace);
      return json(200, rejectedUploads.length > 0 ? { ...status, rejectedUploads } : status);
    }
    if (action === 'runs') {
      const page = await deps.store.listRuns(app, { limit: 50 });
      return json(200, { app, rejectedUploads: await recentRejectedUploads(deps.store, app.namespace), runs: page.items.map(({ id, phase, publishVersion, releaseId, reason, createdAt, endedAt, decisions }) => ({ id, phase, publishVersion, releaseId, reason, createdAt, endedAt, decisions })) });
    }
    if (action === 'bundle') {
      const etag = req.query.etag;
      if (!etag) throw new RequestRefused(400, 'query parameter etag is required: the eTag the upload answered with');
      return json(200, await uploadOutcome(deps, app, parseBundleFormat(req.query.format), etag));
    }
    throw new TricenterError('NOT_FOUND', `no route for GET ${req.rawPath}`);
  }

  if (principal.scope !== 'approver') throw new TricenterError('FORBIDDEN', `${principal.name} may only read (viewer token)`);
  if (req.method === 'PUT' && action === 'bundle') {
    const format = parseBundleFormat(req.headers['x-bundle-format']);
    const receipt = await uploadBundle(deps, app, format, binaryBody(req, 'a bundle upload'));
    const outcome = `/apps/${app.namespace}/${app.name}/bundle?format=${encodeURIComponent(format)}&etag=${encodeURIComponent(receipt.etag)}`;
    return json(202, { ...receipt, outcome });
  }
  if (req.method !== 'POST' || !action) throw new TricenterError('NOT_FOUND', `no route for ${req.method} ${req.rawPath}`);

  const kind = parseDecisionAction(action);
  const parsed = decisionBodySchema.parse(jsonBody(req, MAX_DECISION_BODY_BYTES, 'a decision'));
  const idempotencyKey = parseIdempotencyKey(req.headers['idempotency-key']);
  const by = principal.name;
  const run = await decideThroughApi(deps, {
    app,
    action: kind,
    by,
    ...(parsed.comment ? { comment: parsed.comment } : {}),
    ...(idempotencyKey ? { idempotencyKey } : {}),
    requestId: requestId || randomUUID(),
  });
  return json(200, { app, action: kind, by, runId: run.id, phase: run.phase, publishVersion: run.publishVersion });
}

function json(statusCode: number, body: unknown): HttpTriggerResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, isBase64Encoded: false, body: JSON.stringify(body) };
}
