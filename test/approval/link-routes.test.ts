import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { ClusterRegistry } from '#shared/delivery/model/clusters.ts';
import type { LocalTwin } from '#local/twin.ts';
import type { ApprovalLink } from '#shared/delivery/model/approval-link.ts';
import type { ApprovalLinkStore } from '#shared/delivery/ports/approval-link-store.port.ts';
import type { Notification } from '#shared/delivery/ports/notifier.port.ts';
import { linkHash } from '#shared/delivery/usecases/notify.ts';
import { bumpVersion, variantOfWebDemo } from '../e2e/bundles.ts';
import { startTestTwin, waitFor, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';
import { postForm } from './form-post.ts';

/**
 * One-time approval links over HTTP, against the twin: the "waiting for approval" message its
 * webhook receiver got carries a link per recipient and the diff; GET /links/{token} only shows;
 * POST consumes and decides as the recipient (channel `link`). Each abuse is refused with the run
 * left as it was: many GETs, a wrong or missing Origin, a forged token, a link of another run, a
 * stale digest, an expired link, a recipient the policy refuses (403, audited), a replay (410),
 * registry approval defaults changed since the page and the message (409 on both), and a
 * rejection through a link (the run fails). The twin reads TRICENTER_APPROVAL_LINK_TTL as the
 * cloud does.
 */
const VIEWER = { name: 'watcher', token: 'viewer-token-0123456789abcdef', scope: 'viewer' as const };
const BOB = { name: 'bob', token: 'bob-approver-token-0123456789', scope: 'approver' as const };
const CAROL = { name: 'carol', token: 'carol-approver-token-012345678', scope: 'approver' as const, groups: ['ops'] };
const DAVE = { name: 'dave', token: 'dave-approver-token-0123456789', scope: 'approver' as const, groups: ['dev'] };
// The seed's registry with approval defaults: bob by name, carol through group ops; dave and the uploader are not allowed.
const dir = mkdtempSync(join(tmpdir(), 'tricenter-links-registry-'));
const clustersFile = join(dir, 'clusters.yaml');
const HOUR = 3_600_000;
writeFileSync(clustersFile, `${readFileSync('examples/web-demo/clusters.yaml', 'utf8')}\napproval:\n  approvers: [bob, "group:ops"]\n`);

describe('one-time approval links (HTTP)', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  let base: string;
  let origin: string;
  let links: ApprovalLinkStore;
  let message: Notification & { text: string };
  let receiver: string;
  const urlOf = (recipient: string): string => message.links?.find((l) => l.recipient === recipient)?.url ?? '';
  const tokenOf = (url: string): string => url.split('/links/')[1] ?? '';

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin({ clustersFile, env: { TRICENTER_APPROVAL_LINK_TTL: '2h' } }));
    twin.deps.auth.tokens.push({ ...VIEWER }, { ...BOB }, { ...CAROL }, { ...DAVE });
    links = twin.deps.links as ApprovalLinkStore;
    base = twin.endpoints.approvalUrl.replace(/\/$/, '');
    origin = new URL(base).origin;
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
    receiver = twin.endpoints.webhookReceiverUrl as string;
    message = await waitingMessage();
  }, 90_000);

  /** The receiver's "waiting for approval" message of the current run (of `runId` when given). */
  async function waitingMessage(runId?: string): Promise<Notification & { text: string }> {
    const received = await waitFor(
      async () =>
        ((await (await fetch(`${receiver}messages.json`)).json()) as { messages: Array<{ body: Notification & { text: string } }> })
          .messages,
      (messages) => messages.some((m) => m.body.kind === 'waiting-for-approval' && (runId === undefined || m.body.runId === runId)),
      20_000,
      'the waiting-for-approval message',
    );
    return received.find((m) => m.body.kind === 'waiting-for-approval' && (runId === undefined || m.body.runId === runId))
      ?.body as Notification & { text: string };
  }

  afterAll(async () => {
    await cleanup?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) => postForm(origin, url, form, headers);

  async function stillWaiting(): Promise<void> {
    const status = await client.status(WEB_DEMO);
    expect(status.phase).toBe('workflowSuspending');
    expect(status.decisions.filter((d) => d.outcome !== 'refused')).toEqual([]);
  }

  async function minted(recipient: string): Promise<ApprovalLink> {
    return (await links.get(linkHash(tokenOf(urlOf(recipient))))) as ApprovalLink;
  }

  /** A link put straight into the store, like one minted earlier (another run, another digest, expired...). */
  async function planted(overrides: Partial<ApprovalLink>): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const like = await minted('bob');
    await links.put({ ...like, hash: linkHash(token), createdAt: Date.now(), expiresAt: Date.now() + 3_600_000, ...overrides });
    return `${base}/links/${token}`;
  }

  it('the message carries the page link, the diff per cluster, and one link per allowed recipient (not the uploader, not a viewer)', async () => {
    expect(message.link).toBe(`${base}/apps/${WEB_DEMO.namespace}/${WEB_DEMO.name}/review`);
    expect(message.links?.map((l) => l.recipient)).toEqual(['bob', 'carol']);
    for (const l of message.links ?? []) expect(l.url).toMatch(new RegExp(`^${base}/links/[A-Za-z0-9_-]{43}$`));
    expect(message.diff?.map((d) => d.cluster)).toEqual(message.clusters);
    expect(message.diff?.[0]?.added).toBeGreaterThan(0);
    expect(message.diff?.[0]?.notable.some((n) => /image/.test(n))).toBe(true);
    expect(message.text).toContain(`bob, decide once`);
    expect(message.text).toMatch(/added, \d+ changed, \d+ pruned/);
    const link = await minted('bob');
    expect(link).toMatchObject({ app: WEB_DEMO, step: message.step, recipient: 'bob', runId: message.runId });
    expect(link.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(link.policyVersion).toMatch(/^sha256:[0-9a-f]{16}$/);
    // TRICENTER_APPROVAL_LINK_TTL=2h, read by the twin as by the cloud (the step has no approval timeout to cap it).
    expect(link.expiresAt - link.createdAt).toBe(2 * HOUR);
    // The twin's receiver shows them as a chat client would: clickable.
    const html = await (await fetch(twin.endpoints.webhookReceiverUrl as string)).text();
    for (const l of message.links ?? []) expect(html).toContain(`<a href="${l.url}">decide as ${l.recipient}</a>`);
  });

  it('GET shows what would be decided under the review page’s headers, and decides nothing, even 10 times', async () => {
    const url = urlOf('bob');
    for (let i = 0; i < 10; i++) {
      const res = await fetch(url, { headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0' } });
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of ["default-src 'none'", "frame-ancestors 'none'", "form-action 'self'"]) expect(csp).toContain(directive);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const html = await res.text();
      expect(html).not.toMatch(/<(link|img|script)[^>]+(src|href)="?https?:/);
      for (const cluster of message.clusters ?? []) expect(html).toContain(`data-cluster="${cluster}"`);
      expect(html).toContain('You decide as <strong>bob</strong>');
    }
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    expect((await minted('bob')).consumedAt).toBeUndefined();
    await stillWaiting();
  });

  it('refuses a POST from another origin or without one, a forged token, a reject without comment, and another method', async () => {
    const url = urlOf('bob');
    const forged = `${base}/links/${randomBytes(32).toString('base64url')}`;
    const cases: Array<[string, Response, number]> = [
      ['another origin', await post(url, { action: 'approve' }, { origin: 'https://evil.example' }), 403],
      ['no origin', await post(url, { action: 'approve' }, { origin: '' }), 403],
      ['origin null', await post(url, { action: 'approve' }, { origin: 'null' }), 403],
      ['forged token', await post(forged, { action: 'approve' }), 404],
      ['forged token, GET', await fetch(forged), 404],
      ['not a token', await fetch(`${base}/links/..%2Fapps`), 404],
      ['extra segment', await fetch(`${url}/approve`), 404],
      ['reject without comment', await post(url, { action: 'reject', comment: ' ' }), 400],
      ['unknown action', await post(url, { action: 'terminate' }), 400],
      [
        'a JSON body',
        await fetch(url, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{"action":"approve"}' }),
        400,
      ],
      ['PUT', await fetch(url, { method: 'PUT', headers: { origin } }), 405],
    ];
    for (const [what, res, expected] of cases) expect([what, res.status]).toEqual([what, expected]);
    expect((await minted('bob')).consumedAt).toBeUndefined();
    await stillWaiting();
  });

  it('a link of another run, an expired one, and one whose digest is stale decide nothing (410, 410, 409)', async () => {
    const otherRun = await planted({ runId: 'run-of-another-release' });
    const expired = await planted({ expiresAt: Date.now() - 1 });
    const stale = await planted({ digest: '0'.repeat(64) });
    expect((await fetch(otherRun)).status).toBe(410);
    expect((await post(otherRun, { action: 'approve' })).status).toBe(410);
    expect((await post(expired, { action: 'approve' })).status).toBe(410);
    const staleAnswer = await post(stale, { action: 'approve' });
    expect(staleAnswer.status).toBe(409);
    expect(await staleAnswer.text()).toContain('review it again');
    expect((await links.get(linkHash(tokenOf(stale))))?.consumedAt).toBeUndefined();
    await stillWaiting();
  });

  it('a recipient the policy refuses (not listed; the uploader) gets 403, audited on the run, and the link is spent', async () => {
    const uploader = twin.deps.auth.tokens[0]?.name as string;
    const unlisted = await planted({ recipient: 'dave' });
    const own = await planted({ recipient: uploader });
    expect((await post(unlisted, { action: 'approve' })).status).toBe(403);
    expect((await post(own, { action: 'approve' })).status).toBe(403);
    const status = await client.status(WEB_DEMO);
    expect(status.phase).toBe('workflowSuspending');
    expect(status.decisions).toEqual([
      expect.objectContaining({
        by: 'dave',
        outcome: 'refused',
        reason: expect.stringMatching(/not an approver/),
        audit: expect.objectContaining({ channel: 'link' }),
      }),
      expect.objectContaining({
        by: uploader,
        outcome: 'refused',
        reason: expect.stringMatching(/self-approval/),
        audit: expect.objectContaining({ channel: 'link' }),
      }),
    ]);
    expect((await post(unlisted, { action: 'approve' })).status).toBe(410);
    expect((await post(own, { action: 'approve' })).status).toBe(410);
  });

  it('registry approval defaults changed since the page and the message: the page POST and the link POST get 409, nothing decided', async () => {
    const page = `${base}/apps/${WEB_DEMO.namespace}/${WEB_DEMO.name}/review`;
    const signedIn = await post(`${page}/session`, { token: BOB.token });
    expect(signedIn.status).toBe(303);
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const html = await (await fetch(page, { headers: { cookie } })).text();
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html)?.[1] ?? '';
    const form = { csrf: field('csrf'), step: field('step'), digest: field('digest'), action: 'approve' };
    const carol = urlOf('carol');
    const { policyVersion } = await minted('carol');
    // The form shows the policy version the decision is bound to, the one the links were minted under.
    const shownPolicy = (text: string) => /policy (sha256:[0-9a-f]{16})\): if/.exec(text)?.[1];
    expect(shownPolicy(html)).toBe(policyVersion);

    const registry = twin.deps.registry;
    const changed: ClusterRegistry = { ...(await registry()), approval: { approvers: ['bob', 'group:ops'], required: 1, timeout: '4h' } };
    twin.deps.registry = async () => changed;
    try {
      const onPage = await post(`${page}/decision`, form, { cookie });
      expect(onPage.status).toBe(409);
      const byLink = await post(carol, { action: 'approve' });
      expect(byLink.status).toBe(409);
      expect(await byLink.text()).toContain('approval defaults');
      expect((await minted('carol')).consumedAt).toBeUndefined();
      // The page's form now shows the new version; the link stays bound to the old one.
      const now = shownPolicy(await (await fetch(page, { headers: { cookie } })).text());
      expect(now).toMatch(/^sha256:[0-9a-f]{16}$/);
      expect(now).not.toBe(policyVersion);
      await stillWaiting();
    } finally {
      twin.deps.registry = registry;
    }
    // The defaults back as they were, the same link opens again: it was refused for the policy alone, and not spent.
    expect((await fetch(carol)).status).toBe(200);
  });

  it('of two concurrent POSTs of one link exactly one decides; the run continues; the link cannot be used again', async () => {
    const url = urlOf('bob');
    const { digest } = await minted('bob');
    const answers = await Promise.all([post(url, { action: 'approve', comment: 'ok' }), post(url, { action: 'approve', comment: 'ok' })]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 410]);
    const status = await waitForPhase(client, 'running');
    expect(status.decisions.filter((d) => d.outcome !== 'refused')).toEqual([
      expect.objectContaining({
        kind: 'approve',
        by: 'bob',
        comment: 'ok',
        step: message.step,
        audit: expect.objectContaining({ channel: 'link', digest, source: '127.0.0.1' }),
      }),
    ]);
    expect((await post(url, { action: 'approve' })).status).toBe(410);
    expect((await fetch(url)).status).toBe(410);
    // Carol's link is of no use any more: the step no longer waits.
    expect((await post(urlOf('carol'), { action: 'approve' })).status).toBe(410);
  }, 60_000);

  it('a rejection through a link (with its comment) fails the run, audited with channel link', async () => {
    const before = await client.status(WEB_DEMO);
    const bumped = variantOfWebDemo({ 'app.yaml': bumpVersion('version-reject-by-link') });
    const packed = await packBundle(bumped);
    await client.upload(packed.app, packed);
    rmSync(join(bumped, '..'), { recursive: true, force: true });
    const waiting = await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.runId !== before.runId && s.phase === 'workflowSuspending',
      60_000,
      'the new run waiting for approval',
    );
    message = await waitingMessage(waiting.runId);
    const url = urlOf('carol');
    const { digest } = await minted('carol');
    const answer = await post(url, { action: 'reject', comment: 'not during the freeze' });
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('Rejected step');
    const failed = await waitForPhase(client, 'workflowFailed');
    expect(failed.runId).toBe(waiting.runId);
    expect(failed.decisions).toEqual([
      expect.objectContaining({
        kind: 'reject',
        by: 'carol',
        comment: 'not during the freeze',
        step: message.step,
        audit: expect.objectContaining({ channel: 'link', digest, source: '127.0.0.1' }),
      }),
    ]);
    // Spent, and bob's link of the same message has nothing left to decide.
    expect((await post(url, { action: 'reject', comment: 'again' })).status).toBe(410);
    expect((await post(urlOf('bob'), { action: 'approve' })).status).toBe(410);
  }, 90_000);
});
