import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import type { ReceivedMessage } from '#local/webhook-receiver.ts';
import { startTestTwin, waitFor, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';

/** The twin notifies its own webhook receiver: what chat robots would have been sent, readable at its URL. */
describe('local twin: notifications to the webhook receiver', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  const received = async (): Promise<ReceivedMessage[]> => {
    const response = await fetch(`${twin.endpoints.webhookReceiverUrl}messages.json`);
    return ((await response.json()) as { messages: ReceivedMessage[] }).messages;
  };
  const kinds = (messages: ReceivedMessage[]) => messages.map((m) => (m.body as { kind?: string }).kind);

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin());
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
  });
  afterAll(async () => cleanup?.());

  it('gets "waiting for approval" with the review page link, the step and its clusters, signed', async () => {
    const messages = await waitFor(received, (m) => kinds(m).includes('waiting-for-approval'), 10_000, 'the waiting message');
    const waiting = messages.find((m) => (m.body as { kind?: string }).kind === 'waiting-for-approval');
    expect(waiting?.signatureValid).toBe(true);
    expect(waiting?.body).toMatchObject({
      app: WEB_DEMO,
      step: 'deploy-cluster2-beijing',
      clusters: ['cluster2-beijing'],
      link: `${twin.endpoints.approvalUrl.replace(/\/$/, '')}/apps/demo/web-demo/review`,
      publishVersion: 'version8',
    });
    const html = await (await fetch(twin.endpoints.webhookReceiverUrl ?? '')).text();
    expect(html).toContain('Waiting for approval: demo/web-demo');
  });

  it('gets "approved" and then "succeeded" as the run moves on', async () => {
    await client.decide(WEB_DEMO, 'approve', 'fine');
    const messages = await waitFor(received, (m) => kinds(m).includes('succeeded'), 30_000, 'the end of the run');
    expect(kinds(messages)).toEqual(expect.arrayContaining(['waiting-for-approval', 'approved', 'succeeded']));
    expect(messages.every((m) => m.signatureValid)).toBe(true);
  });

  it('marks a forged (unsigned) post as such, answers 401, and escapes what it shows', async () => {
    const forged = await fetch(`${twin.endpoints.webhookReceiverUrl}hooks/tricenter`, {
      method: 'POST',
      body: JSON.stringify({ text: '<script>alert(1)</script>' }),
    });
    expect(forged.status).toBe(401);
    const html = await (await fetch(twin.endpoints.webhookReceiverUrl ?? '')).text();
    expect(html).toContain('BAD SIGNATURE');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;');
  });
});
