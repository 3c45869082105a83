import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '#shared/delivery/approval/auth.ts';
import type { HttpTriggerEvent, HttpTriggerResponse } from '#shared/platform/triggers/http.ts';
import { createApprovalHandler } from '#functions/approval/handler.ts';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import { startTestTwin, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';

/**
 * The approval handler with FC HTTP trigger events built from the samples in events/, against the
 * local twin's store and clusters: authentication, authorisation and the HTTP error contract.
 */
const sample = (name: string) => JSON.parse(readFileSync(`events/${name}`, 'utf8')) as HttpTriggerEvent;

describe('approval function', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  let handler: ReturnType<typeof createApprovalHandler>;
  let token: string;
  let secret: string;

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin());
    twin.deps.auth.tokens.push({ name: 'dashboard', token: 'viewer-token-for-tests-0123456789', scope: 'viewer' });
    token = twin.endpoints.token;
    secret = twin.deps.auth.hmacSecret ?? '';
    handler = createApprovalHandler(async () => twin.deps);
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
  });
  afterAll(async () => cleanup?.());

  const invoke = async (
    event: HttpTriggerEvent,
    requestId = `req-${Math.random()}`,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response: HttpTriggerResponse = await handler(Buffer.from(JSON.stringify(event)), { requestId });
    expect(response.headers['content-type']).toBe('application/json');
    return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> };
  };
  const withHeaders = (event: HttpTriggerEvent, headers: Record<string, string>): HttpTriggerEvent => ({ ...event, headers });
  const approveEvent = (headers: Record<string, string>, body = sample('http-approve.json').body) => ({
    ...withHeaders(sample('http-approve.json'), { 'Content-Type': 'application/json', ...headers }),
    body,
  });
  const signedApprove = (timestamp: number, body: string) =>
    approveEvent(
      {
        'X-Tricenter-Timestamp': String(timestamp),
        'X-Tricenter-Signature': signRequest(secret, timestamp, 'POST', '/apps/demo/web-demo/approve', body),
      },
      body,
    );

  it('serves status to a bearer token (GET sample)', async () => {
    const { status, body } = await invoke(withHeaders(sample('http-status.json'), { Authorization: `Bearer ${token}` }));
    expect(status).toBe(200);
    expect(body).toMatchObject({ phase: 'workflowSuspending', publishVersion: 'version8' });
  });

  it.each([
    ['missing credentials', {}],
    ['a wrong token', { Authorization: 'Bearer not-the-token' }],
    ['a bad signature', { 'X-Tricenter-Timestamp': String(Date.now()), 'X-Tricenter-Signature': 'v1=deadbeef' }],
    ['an old timestamp', { 'X-Tricenter-Timestamp': String(Date.now() - 6 * 60_000), 'X-Tricenter-Signature': 'v1=00' }],
  ])('refuses %s with 401 and a JSON error', async (_label, headers) => {
    const { status, body } = await invoke(approveEvent(headers));
    expect(status).toBe(401);
    expect(body).toMatchObject({ error: 'UNAUTHORIZED', message: expect.any(String) });
    expect((await client.status(WEB_DEMO)).phase).toBe('workflowSuspending');
  });

  it('refuses a viewer token on a decision with 403', async () => {
    const { status } = await invoke(approveEvent({ Authorization: 'Bearer viewer-token-for-tests-0123456789' }));
    expect(status).toBe(403);
  });

  it('answers 404 for an unknown application and an unknown action, 400 for a malformed body', async () => {
    const unknownApp = {
      ...withHeaders(sample('http-status.json'), { Authorization: `Bearer ${token}` }),
      rawPath: '/apps/demo/nope',
      requestContext: { http: { method: 'GET', path: '/apps/demo/nope' } },
    };
    expect((await invoke(unknownApp)).status).toBe(404);
    const unknownAction = {
      ...approveEvent({ Authorization: `Bearer ${token}` }),
      rawPath: '/apps/demo/web-demo/destroy',
      requestContext: { http: { method: 'POST', path: '/apps/demo/web-demo/destroy' } },
    };
    expect((await invoke(unknownAction)).status).toBe(404);
    expect((await invoke(approveEvent({ Authorization: `Bearer ${token}` }, '{"comment": 42}'))).status).toBe(400);
  });

  it('answers 405 with Allow for a known path and another method, 404 for a path off the table', async () => {
    const at = (method: string, rawPath: string) => ({
      ...withHeaders(sample('http-status.json'), { Authorization: `Bearer ${token}` }),
      rawPath,
      requestContext: { http: { method, path: rawPath } },
    });
    const wrongMethod = await handler(Buffer.from(JSON.stringify(at('DELETE', '/apps/demo/web-demo/bundle'))), { requestId: 'req-405' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, PUT');
    expect(JSON.parse(wrongMethod.body)).toMatchObject({ error: 'METHOD_NOT_ALLOWED' });
    expect((await invoke(at('GET', '/apps/demo/web-demo/runs/extra'))).status).toBe(404);
    expect((await invoke(at('GET', '/apps/Demo/web-demo'))).status).toBe(404);
    expect((await invoke(at('GET', '/apps/demo/web%2Fdemo'))).status).toBe(404);
    expect((await invoke(at('GET', '/apps/demo/web%E0%A4%A'))).status).toBe(400);
    expect((await client.status(WEB_DEMO)).phase).toBe('workflowSuspending');
  });

  it('accepts a signed approval once, records who and why, and refuses its replay', async () => {
    const body = JSON.stringify({ comment: 'canary is fine', by: 'release-bot' });
    const event = signedApprove(Date.now(), body);
    const first = await invoke(event);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ action: 'approve', by: 'release-bot' });
    const replay = await invoke(event);
    expect(replay.status).toBe(401);
    expect(String(replay.body.message)).toMatch(/replayed/);
    const status = await client.status(WEB_DEMO);
    expect(status.decisions).toEqual([expect.objectContaining({ kind: 'approve', by: 'release-bot', comment: 'canary is fine' })]);
    await waitForPhase(client, 'running');
  });

  it('of two approvals at once exactly one wins; the other gets 409', async () => {
    const { variantOfWebDemo, bumpVersion } = await import('../e2e/bundles.ts');
    const packed = await packBundle(variantOfWebDemo({ 'app.yaml': bumpVersion('version9') }));
    await client.upload(packed.app, packed);
    const { waitFor } = await import('../e2e/helpers.ts');
    await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === 'version9' && s.phase === 'workflowSuspending',
      20_000,
      'version9 at the gate',
    );
    const results = await Promise.all(
      [1, 2].map((i) =>
        invoke(approveEvent({ Authorization: `Bearer ${token}` }, JSON.stringify({ comment: `approval ${i}` })), `race-${i}`),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const loser = results.find((r) => r.status === 409);
    expect(String(loser?.body.message)).toMatch(/cannot approve/);
    expect((await client.status(WEB_DEMO)).decisions.filter((d) => d.kind === 'approve')).toHaveLength(1);
  });
});
