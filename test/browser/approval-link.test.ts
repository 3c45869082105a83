import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import type { ApprovalLinkStore } from '#shared/delivery/ports/approval-link-store.port.ts';
import type { Notification } from '#shared/delivery/ports/notifier.port.ts';
import { linkHash } from '#shared/delivery/usecases/notify.ts';
import { startTestTwin, waitFor, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';
import { launchChromium, skipBrowser } from './chromium.ts';

/**
 * A one-time approval link from a chat message, in Debian's chromium (playwright-core, no browser
 * downloaded; skipped with one line without chromium unless TRICENTER_REQUIRE_BROWSER=1): what a
 * link unfurler's prefetch does decides nothing; a person opens the link, approves, the run goes
 * on; the same link in a second tab, or opened again, decides nothing more.
 */

const BOB = { name: 'bob', token: 'bob-approver-token-0123456789', scope: 'approver' as const };

describe.skipIf(skipBrowser)('one-time approval link in Chromium', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  let browser: Browser;
  let link: string;

  beforeAll(async () => {
    browser = await launchChromium();
    ({ twin, client, cleanup } = await startTestTwin());
    // The twin's own token uploads (and may not approve its upload): bob is who the link is for.
    twin.deps.auth.tokens.push({ ...BOB });
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
    const receiver = twin.endpoints.webhookReceiverUrl as string;
    const messages = await waitFor(
      async () => ((await (await fetch(`${receiver}messages.json`)).json()) as { messages: Array<{ body: Notification }> }).messages,
      (all) => all.some((m) => m.body.kind === 'waiting-for-approval'),
      20_000,
      'the waiting-for-approval message',
    );
    link = messages.find((m) => m.body.kind === 'waiting-for-approval')?.body.links?.find((l) => l.recipient === 'bob')?.url ?? '';
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await cleanup?.();
  });

  async function stillWaiting(): Promise<void> {
    const status = await client.status(WEB_DEMO);
    expect(status.phase).toBe('workflowSuspending');
    expect(status.decisions).toEqual([]);
    const stored = await (twin.deps.links as ApprovalLinkStore).get(linkHash(link.split('/links/')[1] ?? ''));
    expect(stored?.consumedAt).toBeUndefined();
  }

  it('a prefetch of the link (an unfurler fetching it, a page loading it without a click) decides nothing', async () => {
    expect(link).toMatch(/\/links\/[A-Za-z0-9_-]{43}$/);
    const context = await browser.newContext({ userAgent: 'Slackbot-LinkExpanding 1.1 (+https://api.slack.com/robots)' });
    for (let i = 0; i < 3; i++) expect((await context.request.get(link)).status()).toBe(200);
    expect((await context.request.head(link)).status()).toBe(200);
    const page = await context.newPage();
    await page.goto(link);
    await expect(page.textContent('h1')).resolves.toContain(`${WEB_DEMO.namespace}/${WEB_DEMO.name}`);
    await stillWaiting();
    await context.close();
  });

  it('opened and approved, the run continues; the same link in a second tab or opened again decides nothing', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const [first, second] = [await context.newPage(), await context.newPage()];
    await first.goto(link);
    await second.goto(link);
    const clusters = await first.locator('ul.clusters > li').count();
    expect(clusters).toBeGreaterThan(0);
    await expect(first.textContent('body')).resolves.toContain('You decide as bob');
    await first.fill('textarea[name="comment"]', 'approved from chat');
    const [approved] = await Promise.all([first.waitForResponse((r) => r.request().method() === 'POST'), first.click('button.approve')]);
    expect(approved.status()).toBe(200);
    await expect(first.textContent('#outcome')).resolves.toContain('Approved');
    const status = await waitForPhase(client, 'running');
    expect(status.decisions).toEqual([
      expect.objectContaining({
        kind: 'approve',
        by: 'bob',
        comment: 'approved from chat',
        audit: expect.objectContaining({ channel: 'link' }),
      }),
    ]);
    const [again] = await Promise.all([second.waitForResponse((r) => r.request().method() === 'POST'), second.click('button.approve')]);
    expect(again.status()).toBe(410);
    const reopened = await first.goto(link);
    expect(reopened?.status()).toBe(410);
    expect((await client.status(WEB_DEMO)).decisions).toHaveLength(1);
    await context.close();
  }, 60_000);
});
