import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { Principal } from '#shared/delivery/approval/auth.ts';
import { decideThroughApi, deciderOf } from '#shared/delivery/approval/decisions.ts';
import { parseIdempotencyKey } from '#shared/delivery/approval/idempotency.ts';
import { MAX_DECISION_BODY_BYTES } from '#shared/delivery/approval/limits.ts';
import { parseBundleFormat, uploadBundle, uploadOutcome } from '#shared/delivery/approval/uploads.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { createRouter, type RouteParams } from '#shared/platform/http-router.ts';
import { jsonResponse as json, type HttpTriggerResponse } from '#shared/platform/triggers/http.ts';
import { parseDecisionAction } from '#shared/delivery/usecases/decisions.ts';
import { appStatus } from '#shared/delivery/usecases/status.ts';
import { fleetView } from '#shared/delivery/usecases/fleet.ts';
import { recentRejectedUploads } from '#shared/delivery/usecases/rejected-uploads.ts';
import type { ApprovalDeps } from './deps.ts';
import { binaryBody, jsonBody, RequestRefused, type ApiRequest } from './request.ts';

/**
 * The approval API's routes, loaded only once a request is authenticated (a refused request never
 * pays for the use cases below):
 *   GET  /apps/{ns}/{name}                         status JSON
 *   GET  /apps/{ns}/{name}/runs                    run history, newest first
 *   POST /apps/{ns}/{name}/{approve|reject|resume|terminate|rollback}   {comment?, step?}  (Idempotency-Key optional)
 *   PUT  /apps/{ns}/{name}/bundle                  upload a bundle (body: the archive or YAML)
 *   GET  /apps/{ns}/{name}/bundle?format=&etag=    the ingest outcome of that upload
 *   GET  /clusters                                 every registry cluster probed: reachability, version, latency, SSA, apps
 */
interface Served {
  deps: ApprovalDeps;
  request: ApiRequest;
  principal: Principal;
  app: AppRef;
  params: RouteParams;
  requestId: string;
}

interface ApiRoute {
  method: 'GET' | 'PUT' | 'POST';
  path: string;
  /** Viewer tokens may only read. */
  scope: Principal['scope'];
  handle: (served: Served) => Promise<HttpTriggerResponse>;
}

const decisionBodySchema = z.strictObject({
  comment: z.optional(z.string().check(z.maxLength(2000))),
  by: z.optional(z.string().check(z.maxLength(100))),
  /** The waiting step the decision is for: needed when several wait at once (sub-steps of a step-group). */
  step: z.optional(z.string().check(z.minLength(1), z.maxLength(253))),
});
/** The decisions that act on a waiting step (terminate and rollback act on the whole run). */
const STEP_ACTIONS: ReadonlySet<string> = new Set(['approve', 'reject', 'resume']);
const NAME = /^[a-z0-9][-a-z0-9.]{0,252}$/;

const routes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/clusters',
    scope: 'viewer',
    async handle({ deps }) {
      return json(200, { clusters: await fleetView(deps) });
    },
  },
  {
    method: 'GET',
    path: '/apps/:namespace/:name',
    scope: 'viewer',
    async handle({ deps, app }) {
      const status = await appStatus(deps, app);
      if (!status) throw new TricenterError('NOT_FOUND', `application ${app.namespace}/${app.name} is unknown`);
      const rejectedUploads = await recentRejectedUploads(deps.store, app.namespace);
      return json(200, rejectedUploads.length > 0 ? { ...status, rejectedUploads } : status);
    },
  },
  {
    method: 'GET',
    path: '/apps/:namespace/:name/runs',
    scope: 'viewer',
    async handle({ deps, app }) {
      const page = await deps.store.listRuns(app, { limit: 50 });
      const runs = page.items.map(({ id, phase, publishVersion, releaseId, reason, createdAt, endedAt, decisions }) => ({
        id,
        phase,
        publishVersion,
        releaseId,
        reason,
        createdAt,
        endedAt,
        decisions,
      }));
      return json(200, { app, rejectedUploads: await recentRejectedUploads(deps.store, app.namespace), runs });
    },
  },
  {
    method: 'GET',
    path: '/apps/:namespace/:name/bundle',
    scope: 'viewer',
    async handle({ deps, app, request }) {
      const etag = request.query.etag;
      if (!etag) throw new RequestRefused(400, 'query parameter etag is required: the eTag the upload answered with');
      return json(200, await uploadOutcome(deps, app, parseBundleFormat(request.query.format), etag));
    },
  },
  {
    method: 'PUT',
    path: '/apps/:namespace/:name/bundle',
    scope: 'approver',
    async handle({ deps, app, request, principal }) {
      const format = parseBundleFormat(request.headers['x-bundle-format']);
      const receipt = await uploadBundle(deps, app, format, binaryBody(request, 'a bundle upload'), principal.name);
      const outcome = `/apps/${app.namespace}/${app.name}/bundle?format=${encodeURIComponent(format)}&etag=${encodeURIComponent(receipt.etag)}`;
      return json(202, { ...receipt, outcome });
    },
  },
  {
    method: 'POST',
    path: '/apps/:namespace/:name/:action',
    scope: 'approver',
    async handle({ deps, app, request, principal, params, requestId }) {
      const kind = parseDecisionAction(params.action as string);
      const parsed = decisionBodySchema.parse(jsonBody(request, MAX_DECISION_BODY_BYTES, 'a decision'));
      if (parsed.step !== undefined && !STEP_ACTIONS.has(kind))
        throw new RequestRefused(400, `step: ${kind} acts on the whole run; only approve, reject and resume name a step`);
      const idempotencyKey = parseIdempotencyKey(request.headers['idempotency-key']);
      const decider = deciderOf(principal);
      const { by } = decider;
      const run = await decideThroughApi(deps, {
        app,
        action: kind,
        ...decider,
        ...(parsed.step !== undefined ? { step: parsed.step } : {}),
        ...(parsed.comment ? { comment: parsed.comment } : {}),
        ...(idempotencyKey ? { idempotencyKey } : {}),
        audit: {
          channel: request.headers['x-tricenter-client'] === 'cli' ? 'cli' : 'api',
          ...(request.sourceIp ? { source: request.sourceIp } : {}),
        },
        requestId: requestId || randomUUID(),
      });
      return json(200, {
        app,
        action: kind,
        by,
        ...(parsed.step !== undefined ? { step: parsed.step } : {}),
        runId: run.id,
        phase: run.phase,
        publishVersion: run.publishVersion,
      });
    },
  },
];

// Only the decisions are actions, so a POST to .../bundle is a 405 naming GET and PUT, not an unknown decision.
const route = createRouter(routes, { namespace: NAME, name: NAME, action: /^(approve|reject|resume|terminate|rollback)$/ });

export async function serveRoute(
  deps: ApprovalDeps,
  request: ApiRequest,
  principal: Principal,
  requestId: string,
): Promise<HttpTriggerResponse> {
  const { route: matched, params } = route(request.method, request.segments, request.rawPath);
  if (matched.scope === 'approver' && principal.scope !== 'approver')
    throw new TricenterError('FORBIDDEN', `${principal.name} may only read (viewer token)`);
  const app: AppRef = { namespace: params.namespace as string, name: params.name as string };
  return matched.handle({ deps, request, principal, app, params, requestId });
}
