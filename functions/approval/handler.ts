import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { $ZodError } from 'zod/v4/core';
import { authenticate, type ApprovalAuthConfig, type Principal, type ReplayGuard } from '#shared/approval/auth.ts';
import { errorMessage, isTricenterError, TricenterError } from '#shared/core/errors.ts';
import { decodeEvent, httpTriggerEventSchema, type FcContext, type HttpTriggerResponse } from '#shared/model/events.ts';
import type { AppRef } from '#shared/model/ownership.ts';
import { decide, parseDecisionAction, rollback } from '#shared/usecases/decisions.ts';
import type { WorkflowDeps } from '#shared/usecases/deps.ts';
import { appStatus } from '#shared/usecases/status.ts';

/**
 * The approval webhook and status API (FC HTTP trigger, anonymous: authentication is ours).
 *   GET  /apps/{ns}/{name}                         status JSON
 *   GET  /apps/{ns}/{name}/runs                    run history, newest first
 *   POST /apps/{ns}/{name}/{approve|reject|resume|terminate|rollback}   {comment?}
 *   PUT  /apps/{ns}/{name}/bundle                  upload a bundle (body: the archive or YAML)
 */
export interface ApprovalDeps extends WorkflowDeps {
  auth: ApprovalAuthConfig;
  replay: ReplayGuard;
  /** The bucket uploads go to; its trigger (OSS or the local watcher) starts the ingest. */
  bucket: string;
}

const decisionBodySchema = z.strictObject({ comment: z.optional(z.string().check(z.maxLength(2000))), by: z.optional(z.string().check(z.maxLength(100))) });
const BUNDLE_FORMATS = { 'tar.gz': 'tar.gz', tgz: 'tgz', zip: 'zip', yaml: 'yaml', yml: 'yml' } as const;
const NAME = '[a-z0-9][-a-z0-9.]{0,252}';
const ROUTE = new RegExp(`^/apps/(${NAME})/(${NAME})(?:/([a-z]+))?/?$`);

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

export function createApprovalHandler(getDeps: () => Promise<ApprovalDeps>) {
  return async (event: Buffer, context: FcContext): Promise<HttpTriggerResponse> => {
    const deps = await getDeps();
    const log = deps.logger.child({ fn: 'approval', requestId: context.requestId });
    try {
      const request = httpTriggerEventSchema.parse(decodeEvent(event));
      const method = request.requestContext.http.method.toUpperCase();
      const path = request.requestContext.http.path ?? request.rawPath;
      const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
      const body = request.isBase64Encoded ? Buffer.from(request.body, 'base64') : Buffer.from(request.body, 'utf8');
      const principal = await authenticate(
        { method, path: request.rawPath, headers, body: request.isBase64Encoded ? request.body : body.toString('utf8') },
        deps.auth,
        deps.clock.now(),
        deps.replay,
      );
      const result = await route(deps, { method, path, body, headers, principal, requestId: context.requestId });
      log.info('request served', { method, path, status: result.statusCode, principal: principal.name });
      return result;
    } catch (err) {
      const status = err instanceof $ZodError ? 400 : isTricenterError(err) ? (STATUS_BY_CODE[err.code] ?? 500) : 500;
      const code = err instanceof $ZodError ? 'BAD_REQUEST' : isTricenterError(err) ? err.code : 'INTERNAL';
      const message = err instanceof $ZodError ? `invalid request: ${z.prettifyError(err)}` : errorMessage(err);
      (status >= 500 ? log.error : log.info)('request refused', { status, code, message });
      return json(status, { error: code, message: status >= 500 ? 'internal error' : message });
    }
  };
}

interface Routed {
  method: string;
  path: string;
  body: Buffer;
  /** Lower-cased names. */
  headers: Record<string, string>;
  principal: Principal;
  requestId: string;
}

async function route(deps: ApprovalDeps, req: Routed): Promise<HttpTriggerResponse> {
  const match = ROUTE.exec(req.path);
  if (!match?.[1] || !match[2]) throw new TricenterError('NOT_FOUND', `no route for ${req.method} ${req.path}`);
  const app: AppRef = { namespace: match[1], name: match[2] };
  const action = match[3];

  if (req.method === 'GET') {
    if (action === undefined) {
      const status = await appStatus(deps, app);
      if (!status) throw new TricenterError('NOT_FOUND', `application ${app.namespace}/${app.name} is unknown`);
      return json(200, status);
    }
    if (action === 'runs') {
      const page = await deps.store.listRuns(app, { limit: 50 });
      return json(200, { app, runs: page.items.map(({ id, phase, publishVersion, releaseId, reason, createdAt, endedAt, decisions }) => ({ id, phase, publishVersion, releaseId, reason, createdAt, endedAt, decisions })) });
    }
    throw new TricenterError('NOT_FOUND', `no route for GET ${req.path}`);
  }

  if (req.principal.scope !== 'approver') throw new TricenterError('FORBIDDEN', `${req.principal.name} may only read (viewer token)`);
  if (req.method === 'PUT' && action === 'bundle') return uploadBundle(deps, app, req);
  if (req.method !== 'POST' || !action) throw new TricenterError('NOT_FOUND', `no route for ${req.method} ${req.path}`);

  const kind = parseDecisionAction(action);
  const parsed = decisionBodySchema.parse(req.body.length ? JSON.parse(req.body.toString('utf8')) : {});
  const by = req.principal.name;
  const decisionId = req.headers['idempotency-key'] ?? (req.requestId || randomUUID());
  const run =
    kind === 'rollback'
      ? await rollback(deps, app, by, parsed.comment)
      : await decide(deps, { app, action: kind, by, decisionId, ...(parsed.comment ? { comment: parsed.comment } : {}) });
  return json(200, { app, action: kind, by, runId: run.id, phase: run.phase, publishVersion: run.publishVersion });
}

async function uploadBundle(deps: ApprovalDeps, app: AppRef, req: Routed): Promise<HttpTriggerResponse> {
  const format = req.headers['x-bundle-format'] ?? 'tar.gz';
  const suffix = BUNDLE_FORMATS[format as keyof typeof BUNDLE_FORMATS];
  if (!suffix) throw new TricenterError('VALIDATION', `header x-bundle-format: "${format}" is not one of ${Object.keys(BUNDLE_FORMATS).join(', ')}`);
  if (req.body.length === 0) throw new TricenterError('VALIDATION', 'the request body (the bundle) is empty');
  const key = `bundles/${app.namespace}/${app.name}.${suffix}`;
  const info = await deps.bundles.put(deps.bucket, key, req.body);
  return json(202, { app, bucket: info.bucket, key: info.key, etag: info.etag, size: info.size });
}

function json(statusCode: number, body: unknown): HttpTriggerResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, isBase64Encoded: false, body: JSON.stringify(body) };
}
