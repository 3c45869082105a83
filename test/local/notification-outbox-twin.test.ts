import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import type { ReceivedMessage } from '#local/webhook-receiver.ts';
import { startTestTwin, waitFor, waitForPhase } from '../e2e/helpers.ts';

/**
 * The twin's notification outbox: while its webhook receiver cannot be reached (the twin's fault
 * injector fails the channel's sends, as a receiver that is down does), the "waiting for approval"
 * message is queued in state.db; once it is up again, a later timer tick sends it, once.
 */
describe('local twin: a message the receiver missed arrives after it is up again', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  let down = true;
  const received = async (): Promise<ReceivedMessage[]> => {
    const response = await fetch(`${twin.endpoints.webhookReceiverUrl}messages.json`);
    return ((await response.json()) as { messages: ReceivedMessage[] }).messages;
  };
  const waitingMessages = (messages: ReceivedMessage[]) =>
    messages.filter((m) => (m.body as { kind?: string }).kind === 'waiting-for-approval');
  const outboxRows = () => {
    const db = new Database(twin.endpoints.store, { readonly: true });
    try {
      return (
        db.prepare('SELECT key, state, body FROM notification_outbox').all() as Array<{ key: string; state: string; body: string }>
      ).map((row) => ({ key: row.key, state: row.state, entry: JSON.parse(row.body) as { attempts: number; lastError: string } }));
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin({ faults: { notifierDown: () => down } }));
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
  });
  afterAll(async () => cleanup?.());

  it('queues the message while the receiver is down and delivers it once after the next ticks', async () => {
    const queued = await waitFor(
      async () => outboxRows(),
      (rows) => rows.length > 0,
      20_000,
      'the queued message',
    );
    expect(queued).toEqual([
      expect.objectContaining({
        state: 'pending',
        key: expect.stringMatching(/\/waiting-for-approval\/deploy-cluster2-beijing\/local-webhook$/),
      }),
    ]);
    expect(queued[0]?.entry.lastError).toMatch(/could not be reached/);
    expect(waitingMessages(await received())).toEqual([]);

    down = false;
    const messages = await waitFor(received, (m) => waitingMessages(m).length > 0, 30_000, 'the late waiting message');
    const [late] = waitingMessages(messages);
    expect(late?.signatureValid).toBe(true);
    expect(late?.body).toMatchObject({ step: 'deploy-cluster2-beijing', link: expect.stringContaining('/apps/demo/web-demo/review') });
    // Sent late: the one-time links were not stored, so the message carries none and says so.
    expect((late?.body as { links?: unknown }).links).toBeUndefined();
    expect(String((late?.body as { summary?: string }).summary)).toContain('one-time links were not delivered');
    const rows = await waitFor(
      async () => outboxRows(),
      (r) => r.every((row) => row.state === 'sent'),
      10_000,
      'the row marked sent',
    );
    expect(rows).toHaveLength(1);
    // Marked sent: no later tick can send it again.
    expect(waitingMessages(await received())).toHaveLength(1);
  });
});
