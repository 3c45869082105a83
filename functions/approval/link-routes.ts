import { randomBytes } from 'node:crypto';
import { decideByLink, LinkRefused, openLink, type LinkDeps, type OpenLink } from '#shared/delivery/approval/links.ts';
import { sameOrigin } from '#shared/delivery/approval/session.ts';
import { summarizeDiff } from '#shared/delivery/usecases/notify.ts';
import { errorMessage, isTricenterError } from '#shared/platform/errors.ts';
import type { HttpTriggerResponse } from '#shared/platform/triggers/http.ts';
import type { ApprovalDeps } from './deps.ts';
import type { ApiRequest } from './request.ts';

/**
 * One-time approval links (issue 16, item 4), beside the review page on the same function:
 *   GET  /links/{token}   a confirm page: what would be decided (application, step, clusters, the
 *                         diff summary) and a form; it never decides and never consumes (chat
 *                         unfurlers and mail scanners fetch links before any person does)
 *   POST /links/{token}   form `action` (approve|reject), `comment` (required to reject): consumes
 *                         the link, then decides as its recipient (channel `link`)
 * No session and no token header: the link is the credential, bound to one recipient, run, step,
 * digest and expiry (shared/delivery/approval/links.ts). The POST must pass the Origin check. The
 * token is in the path: the path is never logged, only the outcome.
 */

const MAX_FORM_BYTES = 8 * 1024;
const STATUS_BY_CODE: Record<string, number> = { NOT_FOUND: 404, CONFLICT: 409, FORBIDDEN: 403, VALIDATION: 400 };

function securityHeaders(nonce: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    // Not no-referrer: under it a form POST carries `Origin: null`, which the Origin check refuses.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
    // Chat unfurlers and crawlers: nothing here is for an index or a preview card.
    'x-robots-tag': 'noindex, nofollow',
  };
}

const escapeHtml = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const STYLE = `*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:44rem;padding:1rem;color:#1b1f24}
h1{font-size:1.3rem}.muted{color:#57606a}.bad{color:#b42318}.notice{padding:.6rem;border-radius:.3rem;background:#ffebe9}
code{font:13px/1.4 ui-monospace,monospace;overflow-wrap:anywhere}textarea{width:100%;font:inherit;padding:.4rem}
form{border:1px solid #d0d7de;border-radius:.4rem;padding:.8rem;margin-top:1rem}
button{font:inherit;padding:.5rem 1rem;margin:.4rem .4rem 0 0;border-radius:.3rem;border:1px solid #8c959f}
button.approve{background:#1f883d;color:#fff;border-color:#1a7f37}button.reject{background:#fff;color:#b42318;border-color:#b42318}`;

function page(statusCode: number, title: string, body: string): HttpTriggerResponse {
  const nonce = randomBytes(16).toString('base64');
  return {
    statusCode,
    headers: securityHeaders(nonce),
    isBase64Encoded: false,
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><meta name="robots" content="noindex,nofollow"><title>${escapeHtml(title)}</title><style nonce="${nonce}">${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
  };
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  403: 'Refused',
  404: 'No such link',
  405: 'Not allowed',
  409: 'Review again',
  410: 'Link no longer valid',
  413: 'Too large',
};

function refusal(status: number, message: string): HttpTriggerResponse {
  return page(status, TITLES[status] ?? 'Error', `<p class="notice" role="alert">${escapeHtml(message)}</p>`);
}

function confirmPage(opened: OpenLink, token: string): HttpTriggerResponse {
  const { link, waiting, publishVersion } = opened;
  const clusters = waiting.clusters
    .map(summarizeDiff)
    .map(
      (d) =>
        `<li data-cluster="${escapeHtml(d.cluster)}"><strong>${escapeHtml(d.cluster)}</strong>: ${
          d.error
            ? `<span class="bad">no diff (${escapeHtml(d.error)})</span>`
            : `${d.added} added, ${d.changed} changed, ${d.pruned} pruned${
                d.notable.length > 0 ? `<ul>${d.notable.map((n) => `<li><code>${escapeHtml(n)}</code></li>`).join('')}</ul>` : ''
              }`
        }</li>`,
    );
  const action = `/links/${encodeURIComponent(token)}`;
  return page(
    200,
    `Decide: ${link.app.namespace}/${link.app.name}`,
    `<p>Step <strong>${escapeHtml(link.step)}</strong> of release <code>${escapeHtml(publishVersion)}</code> (run <code>${escapeHtml(link.runId)}</code>) waits for approval.</p>
<p>What it would change, per cluster (server-side dry run against the live state):</p><ul class="clusters">${clusters.join('') || '<li class="muted">no clusters (a suspend step)</li>'}</ul>
<form method="post" action="${escapeHtml(action)}">
<p>You decide as <strong>${escapeHtml(link.recipient)}</strong>. This link decides once and expires at ${escapeHtml(new Date(link.expiresAt).toISOString())}; opening it decided nothing.</p>
<label for="comment">Comment (required to reject)</label><textarea id="comment" name="comment" rows="2" maxlength="2000"></textarea>
<button class="approve" type="submit" name="action" value="approve">Approve ${escapeHtml(link.step)}</button>
<button class="reject" type="submit" name="action" value="reject">Reject</button>
<p class="muted">Bound to digest <code>${escapeHtml(link.digest.slice(0, 12))}</code>: if a cluster changes before you decide, you will be asked to review again.</p></form>`,
  );
}

function formOf(request: ApiRequest): URLSearchParams {
  if (request.body.length > MAX_FORM_BYTES) throw new LinkFormRefused(413, `the form is over ${MAX_FORM_BYTES} bytes`);
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') throw new LinkFormRefused(400, 'send the form as application/x-www-form-urlencoded');
  return new URLSearchParams(request.body.toString('utf8'));
}

class LinkFormRefused extends Error {
  constructor(
    readonly status: 400 | 403 | 405 | 413,
    message: string,
  ) {
    super(message);
  }
}

export async function serveLink(deps: ApprovalDeps, request: ApiRequest): Promise<HttpTriggerResponse> {
  const [, token = '', ...extra] = request.segments;
  if (!deps.links || extra.length > 0) return refusal(404, 'there is no such link');
  const linkDeps: LinkDeps = { ...deps, links: deps.links };
  try {
    if (request.method === 'GET' || request.method === 'HEAD') return confirmPage(await openLink(linkDeps, token), token);
    if (request.method !== 'POST') throw new LinkFormRefused(405, 'a link takes a GET (to look) and its form a POST (to decide)');
    if (!sameOrigin(request.headers)) throw new LinkFormRefused(403, 'the request does not come from this link’s page (Origin check)');
    const form = formOf(request);
    const action = form.get('action');
    if (action !== 'approve' && action !== 'reject') throw new LinkFormRefused(400, 'action must be approve or reject');
    const comment = (form.get('comment') ?? '').trim();
    if (comment.length > 2000) throw new LinkFormRefused(400, 'the comment is over 2000 characters');
    if (action === 'reject' && comment === '') throw new LinkFormRefused(400, 'a rejection needs a comment saying why');
    const { link, run } = await decideByLink(linkDeps, token, {
      action,
      ...(comment ? { comment } : {}),
      ...(request.sourceIp ? { source: request.sourceIp } : {}),
    });
    const done = action === 'approve' ? 'Approved' : 'Rejected';
    return page(
      200,
      `${done}: ${link.app.namespace}/${link.app.name}`,
      `<p id="outcome">${done} step <strong>${escapeHtml(link.step)}</strong> as <strong>${escapeHtml(link.recipient)}</strong>. The run is now <strong id="phase">${escapeHtml(run.phase)}</strong>.</p><p class="muted">This link is used up.</p>`,
    );
  } catch (err) {
    if (err instanceof LinkRefused || err instanceof LinkFormRefused) return refusal(err.status, err.message);
    const status = isTricenterError(err) ? (STATUS_BY_CODE[err.code] ?? 500) : 500;
    if (status >= 500) deps.logger.error('link page failed', { error: errorMessage(err) });
    return refusal(status, status >= 500 ? 'internal error' : errorMessage(err));
  }
}
