import { randomBytes, randomUUID } from 'node:crypto';
import { authenticate } from '#shared/delivery/approval/auth.ts';
import { issueSession, readSession, sameOrigin, sessionCookie, validCsrf, type ReviewSession } from '#shared/delivery/approval/session.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { errorMessage, isTricenterError } from '#shared/platform/errors.ts';
import type { HttpTriggerResponse } from '#shared/platform/triggers/http.ts';
import type { ApprovalDeps } from './deps.ts';
import type { ApiRequest } from './request.ts';
import { messagePage, reviewPage, reviewPath, signInPage } from './review-page.ts';

/**
 * The review page (issue 16), beside the JSON API on the same function:
 *   GET  /apps/{ns}/{name}/review            the page (or the sign-in form without a session)
 *   POST /apps/{ns}/{name}/review/session    sign in: form `token` (an approver or viewer token)
 *   POST /apps/{ns}/{name}/review/decision   form `csrf`, `step`, `digest`, `action` (approve|reject), `comment`
 *   POST /apps/{ns}/{name}/review/signout    form `csrf`
 * Browsers authenticate with the session cookie (session.ts), never a bearer header. Every POST
 * must pass the Origin check; the decision and sign-out also the session's CSRF token. A GET
 * decides nothing. The renderer and the diff load only once a session is proven.
 */

const STATUS_BY_CODE: Record<string, number> = { NOT_FOUND: 404, CONFLICT: 409, FORBIDDEN: 403, VALIDATION: 400 };
const NAME = /^[a-z0-9][-a-z0-9.]{0,252}$/;
const MAX_FORM_BYTES = 8 * 1024;

function securityHeaders(nonce: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: under it browsers send `Origin: null` on a form POST, and the Origin check needs the real one.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}

const html = (statusCode: number, nonce: string, body: string, headers: Record<string, string> = {}): HttpTriggerResponse => ({
  statusCode,
  headers: { ...securityHeaders(nonce), ...headers },
  isBase64Encoded: false,
  body,
});

const redirect = (location: string, headers: Record<string, string> = {}): HttpTriggerResponse => ({
  statusCode: 303,
  headers: { location, 'cache-control': 'no-store', ...headers },
  isBase64Encoded: false,
  body: '',
});

class PageRefusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly reviewAgain = false,
  ) {
    super(message);
  }
}

function formOf(request: ApiRequest): URLSearchParams {
  if (request.body.length > MAX_FORM_BYTES) throw new PageRefusal(413, 'Too large', `the form is over ${MAX_FORM_BYTES} bytes`);
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded')
    throw new PageRefusal(400, 'Bad request', 'send the form as application/x-www-form-urlencoded');
  return new URLSearchParams(request.body.toString('utf8'));
}

/** Secure cookies when the page is served over https (FC's custom domain, a proxy saying so). */
const isHttps = (request: ApiRequest): boolean => (request.headers['x-forwarded-proto'] ?? '').toLowerCase() === 'https';

export async function serveReview(deps: ApprovalDeps, request: ApiRequest, requestId: string): Promise<HttpTriggerResponse> {
  const nonce = randomBytes(16).toString('base64');
  const [, namespace = '', name = '', , action = '', ...extra] = request.segments;
  if (!NAME.test(namespace) || !NAME.test(name) || extra.length > 0)
    return html(404, nonce, messagePage('Not found', 'no such page', nonce));
  const app: AppRef = { namespace, name };
  try {
    const now = deps.clock.now();
    const session = readSession(request.headers.cookie, deps.auth, now);
    if (request.method === 'GET' && action === '') {
      if (!session) return html(200, nonce, signInPage(app, nonce));
      return await renderReview(deps, app, session, nonce);
    }
    if (request.method !== 'POST' || !['session', 'decision', 'signout'].includes(action))
      throw new PageRefusal(405, 'Not allowed', 'this page takes a GET, and its forms a POST');
    if (!sameOrigin(request.headers)) throw new PageRefusal(403, 'Refused', 'the request does not come from this page (Origin check)');
    const form = formOf(request);
    if (action === 'session') return await signIn(deps, app, request, form, nonce);
    if (!session) return html(401, nonce, signInPage(app, nonce, 'your session has expired: sign in again'));
    if (!validCsrf(session, form.get('csrf') ?? undefined))
      throw new PageRefusal(403, 'Refused', 'the form is not from your session (CSRF token): reload the page');
    if (action === 'signout') return redirect(reviewPath(app), { 'set-cookie': sessionCookie('', 0, now, isHttps(request)) });
    return await decideOnPage(deps, app, session, form, request, requestId);
  } catch (err) {
    if (err instanceof PageRefusal)
      return html(err.status, nonce, messagePage(err.title, err.message, nonce, err.reviewAgain ? app : undefined));
    const status = isTricenterError(err) ? (STATUS_BY_CODE[err.code] ?? 500) : 500;
    if (status >= 500) deps.logger.error('review page failed', { error: errorMessage(err) });
    const text = status >= 500 ? 'internal error' : errorMessage(err);
    return html(status, nonce, messagePage(status === 409 ? 'Review again' : 'Refused', text, nonce, status === 409 ? app : undefined));
  }
}

async function renderReview(deps: ApprovalDeps, app: AppRef, session: ReviewSession, nonce: string) {
  const { reviewOf } = await import('#shared/delivery/approval/review.ts');
  const model = await reviewOf(deps, app);
  if (!model) throw new PageRefusal(404, 'Not found', `application ${app.namespace}/${app.name} is unknown`);
  return html(200, nonce, reviewPage({ model, signedInAs: session.principal, csrf: session.csrf, nonce }));
}

async function signIn(deps: ApprovalDeps, app: AppRef, request: ApiRequest, form: URLSearchParams, nonce: string) {
  const presented = (form.get('token') ?? '').trim();
  if (!/^\S{1,512}$/.test(presented)) return html(401, nonce, signInPage(app, nonce, 'enter a token'));
  const now = deps.clock.now();
  try {
    // The same constant-time comparison as the API's bearer tokens; signed (HMAC) requests are for machines.
    const principal = await authenticate(
      { method: 'POST', path: request.rawPath, headers: { authorization: `Bearer ${presented}` }, body: '' },
      { tokens: deps.auth.tokens },
      now,
      deps.replay,
    );
    const token = deps.auth.tokens.find((t) => t.name === principal.name);
    if (!token) throw new Error('unreachable: authenticated token has no entry');
    const session = issueSession(token, now);
    return redirect(reviewPath(app), { 'set-cookie': sessionCookie(session.value, session.expiresAt, now, isHttps(request)) });
  } catch (err) {
    if (isTricenterError(err) && err.code === 'UNAUTHORIZED') return html(401, nonce, signInPage(app, nonce, 'unknown token'));
    throw err;
  }
}

async function decideOnPage(
  deps: ApprovalDeps,
  app: AppRef,
  session: ReviewSession,
  form: URLSearchParams,
  request: ApiRequest,
  requestId: string,
) {
  if (session.principal.scope !== 'approver')
    throw new PageRefusal(403, 'Refused', `${session.principal.name} may only read (viewer token)`);
  const action = form.get('action');
  if (action !== 'approve' && action !== 'reject') throw new PageRefusal(400, 'Bad request', 'action must be approve or reject');
  const comment = (form.get('comment') ?? '').trim();
  if (comment.length > 2000) throw new PageRefusal(400, 'Bad request', 'the comment is over 2000 characters');
  if (action === 'reject' && comment === '') throw new PageRefusal(400, 'Comment needed', 'a rejection needs a comment saying why', true);
  const [{ reviewOf }, { decideThroughApi, deciderOf }] = await Promise.all([
    import('#shared/delivery/approval/review.ts'),
    import('#shared/delivery/approval/decisions.ts'),
  ]);
  const model = await reviewOf(deps, app);
  const shown = form.get('digest') ?? '';
  const named = form.get('step') ?? undefined;
  if (!model || model.waiting.length === 0)
    throw new PageRefusal(409, 'Review again', 'nothing waits for a decision any more: nothing was decided', true);
  const { waiting } = model;
  // A form names its step (one form per waiting step); one without a name is for the only waiting step, never one picked.
  const step = named === undefined && waiting.length === 1 ? waiting[0] : waiting.find((w) => w.step === named);
  if (!step) {
    const names = waiting.map((w) => JSON.stringify(w.step)).join(', ');
    throw new PageRefusal(
      409,
      'Review again',
      named === undefined
        ? `several steps wait for a decision (${names}): decide on the form of the step you reviewed; nothing was decided`
        : `step ${JSON.stringify(named)} no longer waits for a decision (waiting: ${names}): nothing was decided, review again`,
      true,
    );
  }
  if (step.digest !== shown) {
    throw new PageRefusal(
      409,
      'Review again',
      `what the page showed of step ${JSON.stringify(step.step)} has changed since (release, clusters, their live state or the approval policy): nothing was decided, review again`,
      true,
    );
  }
  await decideThroughApi(deps, {
    app,
    action,
    ...deciderOf(session.principal),
    step: step.step,
    audit: {
      channel: 'page',
      digest: step.digest,
      policyVersion: step.policyVersion,
      ...(request.sourceIp ? { source: request.sourceIp } : {}),
    },
    ...(comment ? { comment } : {}),
    requestId: requestId || randomUUID(),
  });
  deps.logger.info('decision on the review page', { app, action, step: step.step, by: session.principal.name, digest: step.digest });
  return redirect(reviewPath(app));
}
