import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import { LABEL_APP_NAME, LABEL_APP_NAMESPACE, LABEL_MANAGED_BY, MANAGED_BY } from '#shared/delivery/model/ownership.ts';
import { rawRequest } from '../helpers/kube-raw.ts';
import { startTestTwin, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';
import { launchChromium, skipBrowser } from './chromium.ts';

/**
 * The review page in a real browser: Debian's chromium driven by playwright-core (no browser is
 * ever downloaded). Without chromium the suite skips with one line; TRICENTER_REQUIRE_BROWSER=1
 * (CI) makes that a failure. Run against the local twin with the seed's `auto: false` step.
 */

const VIEWER = { name: 'watcher', token: 'viewer-token-0123456789abcdef', scope: 'viewer' as const };

describe.skipIf(skipBrowser)('review page in Chromium', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    browser = await launchChromium();
    ({ twin, client, cleanup } = await startTestTwin());
    twin.deps.auth.tokens.push({ ...VIEWER });
    url = `${twin.endpoints.approvalUrl.replace(/\/$/, '')}/apps/${WEB_DEMO.namespace}/${WEB_DEMO.name}/review`;
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await cleanup?.();
  });

  async function signedIn(token: string, viewport = { width: 1200, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(url);
    await page.fill('input[name="token"]', token);
    await page.click('button[type="submit"]');
    await page.waitForSelector('h1');
    return { context, page };
  }

  async function stillWaiting(): Promise<void> {
    const status = await client.status(WEB_DEMO);
    expect(status.phase).toBe('workflowSuspending');
    expect(status.decisions).toEqual([]);
  }

  it('following every link and loading every page of the review decides nothing (what a link prefetch does)', async () => {
    const { context, page } = await signedIn(twin.endpoints.token);
    // Scripts run in the page are strings: this project type-checks without the DOM library.
    const links = (await page.evaluate("[...document.querySelectorAll('a[href]')].map((a) => a.href)")) as string[];
    for (const href of [url, `${url}/decision`, `${url}/decision?action=approve`, `${url}/session`, ...links]) {
      await page.goto(href);
    }
    await stillWaiting();
    await context.close();
  });

  it('a viewer sees the diff but no decision form, and cannot approve', async () => {
    const { context, page } = await signedIn(VIEWER.token);
    expect(await page.locator('section.cluster').count()).toBeGreaterThan(0);
    expect(await page.locator('form.decide').count()).toBe(0);
    await expect(page.textContent('body')).resolves.toContain('viewer token');
    // Its own CSRF token in a hand-made form: still 403 (a fetch would not even leave the page: the CSP has no connect-src).
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/decision')),
      page.evaluate(`(() => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = location.pathname + '/decision';
        const csrf = document.querySelector('input[name="csrf"]').value;
        for (const [name, value] of Object.entries({ csrf, action: 'approve', digest: 'x' })) {
          const input = document.createElement('input');
          input.name = name;
          input.value = value;
          form.append(input);
        }
        document.body.append(form);
        form.submit();
      })()`),
    ]);
    const status = response.status();
    expect(status).toBe(403);
    await stillWaiting();
    await context.close();
  });

  it('fits a 390 px phone: no horizontal overflow; the reject button waits for a comment', async () => {
    const { context, page } = await signedIn(twin.endpoints.token, { width: 390, height: 844 });
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.isDisabled('button.reject')).toBe(true);
    await page.fill('textarea[name="comment"]', 'why not');
    expect(await page.isDisabled('button.reject')).toBe(false);
    // The README's picture is refreshed on request only, so a test run never changes a tracked file.
    const shot = await page.screenshot({ fullPage: true });
    expect(shot.byteLength).toBeGreaterThan(1000);
    if (process.env.TRICENTER_UPDATE_SCREENSHOTS === '1') writeFileSync('docs/review-page.png', shot);
    await context.close();
  });

  it('a page that went stale (the cluster changed after it was rendered) gets 409 and asks to review again; nothing is decided', async () => {
    const { context, page } = await signedIn(twin.endpoints.token);
    const status = await client.status(WEB_DEMO);
    const cluster = status.steps.find((s) => s.awaiting === 'approval')?.clusters[0]?.cluster as string;
    // Another actor leaves an object of the application on the pending cluster: the step would now prune it.
    const config = new KubeConfig();
    config.loadFromFile(twin.endpoints.kubeconfig);
    config.setCurrentContext(cluster);
    const stray = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'stray',
        namespace: WEB_DEMO.namespace,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_APP_NAMESPACE]: WEB_DEMO.namespace, [LABEL_APP_NAME]: WEB_DEMO.name },
      },
    };
    for (const [path, body] of [
      ['/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: WEB_DEMO.namespace } }],
      [`/api/v1/namespaces/${WEB_DEMO.namespace}/configmaps`, stray],
    ] as const) {
      const created = await rawRequest(config, { method: 'POST', path, body });
      expect([201, 409]).toContain(created.status);
    }
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/decision')), page.click('button.approve')]);
    expect(response.status()).toBe(409);
    await expect(page.textContent('body')).resolves.toContain('Review again');
    await stillWaiting();
    // Reviewed again, the page shows the prune.
    await page.click('a');
    await expect(page.locator(`section.cluster[data-cluster="${cluster}"]`).textContent()).resolves.toContain('prune');
    const deleted = await rawRequest(config, { method: 'DELETE', path: `/api/v1/namespaces/${WEB_DEMO.namespace}/configmaps/stray` });
    expect(deleted.status).toBe(200);
    await context.close();
  });

  it('signs in, shows the diff for each cluster of the pending step, approves, and the run continues', async () => {
    const { context, page } = await signedIn(twin.endpoints.token);
    const status = await client.status(WEB_DEMO);
    const pending = status.steps.find((s) => s.awaiting === 'approval');
    for (const { cluster } of pending?.clusters ?? []) {
      const section = page.locator(`section.cluster[data-cluster="${cluster}"]`);
      await expect(section.textContent()).resolves.toMatch(/added|changed/);
    }
    await page.fill('textarea[name="comment"]', 'diff reviewed');
    await Promise.all([page.waitForURL(url), page.click('button.approve')]);
    await waitForPhase(client, 'running');
    await page.reload();
    await expect(page.textContent('body')).resolves.toContain('diff reviewed');
    await context.close();
  }, 60_000);
});
