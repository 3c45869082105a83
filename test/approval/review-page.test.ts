import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import { formatDecisions, formatStatus, reviewPageUrl } from '#cli/status-view.ts';
import { SESSION_COOKIE } from '#shared/delivery/approval/session.ts';
import { startTestTwin, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';
import { postForm } from './form-post.ts';

/**
 * The review page over HTTP (the twin's approval trigger), each case with its abuse: sign-in,
 * session cookie, CSRF, Origin, viewer scope, a rejection without comment, a stale digest, a GET
 * that would decide. After every refusal the run is still waiting, with no decision recorded.
 * The browser suite (test/browser) drives the same page in Chromium.
 */
const VIEWER = { name: 'watcher', token: 'viewer-token-0123456789abcdef', scope: 'viewer' as const };

describe('review page (HTTP)', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  let base: string;
  let page: string;
  let origin: string;

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin());
    twin.deps.auth.tokens.push({ ...VIEWER });
    base = twin.endpoints.approvalUrl.replace(/\/$/, '');
    origin = new URL(base).origin;
    page = `${base}/apps/${WEB_DEMO.namespace}/${WEB_DEMO.name}/review`;
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
  }, 60_000);

  afterAll(async () => {
    await cleanup?.();
  });

  const post = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) => postForm(origin, url, form, headers);

  async function signIn(token: string): Promise<string> {
    const res = await post(`${page}/session`, { token });
    expect(res.status).toBe(303);
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(token);
    return cookie.split(';')[0] as string;
  }

  async function view(cookie: string): Promise<{ html: string; csrf: string; digest: string }> {
    const res = await fetch(page, { headers: { cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    return {
      html,
      csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '',
      digest: /name="digest" value="([^"]+)"/.exec(html)?.[1] ?? '',
    };
  }

  async function stillWaiting(): Promise<void> {
    const status = await client.status(WEB_DEMO);
    expect(status.phase).toBe('workflowSuspending');
    expect(status.decisions).toEqual([]);
  }

  it('without a session, the page is a sign-in form under a strict CSP, and decides nothing', async () => {
    const res = await fetch(page);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"])
      expect(csp).toContain(directive);
    expect(csp).toMatch(/script-src 'nonce-[^']+'/);
    const html = await res.text();
    expect(html).toContain('name="token"');
    expect(html).not.toMatch(/<(link|img|script)[^>]+(src|href)="?https?:/);
    await stillWaiting();
  });

  it('refuses a wrong token, a sign-in from another origin, and forged or expired cookies', async () => {
    expect((await post(`${page}/session`, { token: 'not-a-token-at-all-xxxxxx' })).status).toBe(401);
    expect((await post(`${page}/session`, { token: twin.endpoints.token }, { origin: 'https://evil.example' })).status).toBe(403);
    const approver = twin.deps.auth.tokens.find((t) => t.scope === 'approver')?.name ?? '';
    const name = Buffer.from(approver).toString('base64url');
    const forged = `${SESSION_COOKIE}=${name}.${Date.now() + 3_600_000}.${'A'.repeat(43)}`;
    const expired = `${SESSION_COOKIE}=${name}.${Date.now() - 1000}.${'A'.repeat(43)}`;
    for (const cookie of [forged, expired]) {
      const html = await (await fetch(page, { headers: { cookie } })).text();
      expect(html).toContain('name="token"');
      expect(html).not.toContain('name="digest"');
    }
  });

  it('shows, for each cluster of the pending step, the diff against its live state, images and replicas called out', async () => {
    const status = await client.status(WEB_DEMO);
    const pending = status.steps.find((s) => s.awaiting === 'approval');
    expect(pending).toBeDefined();
    const { html, digest } = await view(await signIn(twin.endpoints.token));
    for (const { cluster } of pending?.clusters ?? []) expect(html).toContain(`data-cluster="${cluster}"`);
    expect(html).toContain('Images and replicas');
    expect(html).toMatch(/containers\[[^\]]+\]\.image/);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(html).toContain('Previous step');
  });

  it('a viewer sees the page without a decision form, and a decision POST with its own CSRF token is 403', async () => {
    const cookie = await signIn(VIEWER.token);
    const { html, csrf } = await view(cookie);
    expect(html).not.toContain('name="digest"');
    expect(html).toContain('viewer token');
    const res = await post(`${page}/decision`, { csrf, action: 'approve', digest: 'x', comment: '' }, { cookie });
    expect(res.status).toBe(403);
    await stillWaiting();
  });

  it('refuses decisions without the CSRF token, from another origin, a reject without comment, a GET, and a stale digest (409)', async () => {
    const cookie = await signIn(twin.endpoints.token);
    const { csrf, digest } = await view(cookie);
    const viewerCsrf = (await view(await signIn(VIEWER.token))).csrf;
    const cases: Array<[string, Response, number]> = [
      ['no csrf', await post(`${page}/decision`, { action: 'approve', digest }, { cookie }), 403],
      ['another session’s csrf', await post(`${page}/decision`, { csrf: viewerCsrf, action: 'approve', digest }, { cookie }), 403],
      [
        'another origin',
        await post(`${page}/decision`, { csrf, action: 'approve', digest }, { cookie, origin: 'http://evil.example' }),
        403,
      ],
      ['no origin', await post(`${page}/decision`, { csrf, action: 'approve', digest }, { cookie, origin: '' }), 403],
      ['reject without comment', await post(`${page}/decision`, { csrf, action: 'reject', digest, comment: '  ' }, { cookie }), 400],
      ['stale digest', await post(`${page}/decision`, { csrf, action: 'approve', digest: '0'.repeat(64) }, { cookie }), 409],
      [
        'a GET that would decide',
        await fetch(`${page}/decision?csrf=${csrf}&action=approve&digest=${digest}`, { headers: { cookie } }),
        405,
      ],
      ['no session', await post(`${page}/decision`, { csrf, action: 'approve', digest }), 401],
    ];
    for (const [what, res, expected] of cases) expect([what, res.status]).toEqual([what, expected]);
    const stale = cases.find(([what]) => what === 'stale digest')?.[1];
    await stillWaiting();
    expect(stale).toBeDefined();
  });

  it('the stale page says to review again', async () => {
    const cookie = await signIn(twin.endpoints.token);
    const { csrf } = await view(cookie);
    const res = await post(`${page}/decision`, { csrf, action: 'approve', digest: 'f'.repeat(64) }, { cookie });
    expect(res.status).toBe(409);
    expect(await res.text()).toContain('Review again');
    await stillWaiting();
  });

  it('endpoints.json and `tricenter status` name the page while a step waits for approval', async () => {
    const written = JSON.parse(readFileSync(twin.endpointsFile, 'utf8')) as { reviewUrl?: string };
    expect(written.reviewUrl?.replace('{namespace}', WEB_DEMO.namespace).replace('{name}', WEB_DEMO.name)).toBe(page);
    const status = await client.status(WEB_DEMO);
    const awaiting = status.steps.find((s) => s.awaiting === 'approval')?.name;
    expect(formatStatus(status, reviewPageUrl(twin.endpoints.approvalUrl, WEB_DEMO))).toContain(`review ${awaiting}: ${page}`);
    expect(formatStatus({ ...status, steps: [] }, page)).not.toContain(page);
  });

  it('approves with the digest shown: the run continues, the decision recorded under the token name', async () => {
    const cookie = await signIn(twin.endpoints.token);
    const { csrf, digest } = await view(cookie);
    const res = await post(`${page}/decision`, { csrf, action: 'approve', digest, comment: 'looks right' }, { cookie });
    expect(res.status).toBe(303);
    const status = await waitForPhase(client, 'running');
    const approver = twin.deps.auth.tokens.find((t) => t.scope === 'approver')?.name;
    expect(status.decisions).toEqual([
      expect.objectContaining({
        kind: 'approve',
        by: approver,
        comment: 'looks right',
        audit: { channel: 'page', source: '127.0.0.1', digest, policyVersion: expect.stringMatching(/^sha256:[0-9a-f]{16}$/) },
      }),
    ]);
    // The audit on the page and in `tricenter runs`.
    expect(await (await fetch(page, { headers: { cookie } })).text()).toContain(`via page from 127.0.0.1, digest ${digest.slice(0, 12)}`);
    const { runs } = await client.runs(WEB_DEMO);
    expect(formatDecisions(runs)).toContain(
      `approve by ${approver} on deploy-cluster2-beijing via page from 127.0.0.1 digest ${digest.slice(0, 12)}`,
    );
    // The same form again decides nothing more: nothing waits for a decision.
    expect((await post(`${page}/decision`, { csrf, action: 'approve', digest }, { cookie })).status).toBe(409);
  }, 60_000);
});
