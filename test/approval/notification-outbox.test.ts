import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqliteApprovalLinkStore } from '#shared/delivery/adapters/local/sqlite-approval-links.ts';
import { SqliteNotificationOutbox } from '#shared/delivery/adapters/local/sqlite-notification-outbox.ts';
import { SignedWebhookNotifier } from '#shared/delivery/adapters/notify/webhook-notifiers.ts';
import type { NotificationOutbox } from '#shared/delivery/ports/notification-outbox.port.ts';
import type { Notification } from '#shared/delivery/ports/notifier.port.ts';
import { notificationsFor, notify, type NotifyDeps } from '#shared/delivery/usecases/notify.ts';
import { redeliverNotifications, type RedeliveryDeps } from '#shared/delivery/usecases/redeliver-notifications.ts';
import { createRun, next } from '#shared/delivery/workflow/decider.ts';
import type { Run } from '#shared/delivery/workflow/run.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { deployStep, plan } from '../workflow/plans.ts';

/**
 * The notification outbox (issue 16, item 4): a message a channel did not take after notify's
 * in-process attempts is queued, and the deploy-step timer's rounds send it again, at the HTTP
 * level (msw answering 500, then 200): exactly once, by one of two concurrent rounds, dropped when
 * its step no longer waits, given up after 24 h, and never with a one-time link's token stored.
 */
const HOOK = 'https://hooks.example.test/tricenter/ops';
const HOOK_SECRET = 'webhook-secret-0123456789abcdef';
const START = 1_764_790_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
const dir = mkdtempSync(join(tmpdir(), 'tricenter-outbox-usecase-'));
const closers: Array<{ close(): void }> = [];
afterAll(() => {
  server.close();
  for (const c of closers) c.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The webhook: answers `status()` and records the bodies it took (2xx) and every request. */
function hook(status: () => number) {
  const taken: Array<Record<string, unknown>> = [];
  let requests = 0;
  server.use(
    http.post(HOOK, async ({ request }) => {
      requests += 1;
      const code = status();
      if (code < 300) taken.push((await request.json()) as Record<string, unknown>);
      return new HttpResponse(code < 300 ? 'ok' : 'down', { status: code });
    }),
  );
  return { taken, requests: () => requests };
}

function waitingRun(): { run: Run; messages: Notification[] } {
  const step = deployStep('prod', ['cluster2-beijing'], { needsApproval: true });
  const created = createRun({ id: 'run-1', releaseId: 'r', plan: plan([step], 'version9') }, START);
  const started = next(created, { type: 'started' }, START);
  const review = () => 'http://approval.test/apps/demo/web-demo/review';
  return { run: started.run, messages: started.effects.flatMap((e) => notificationsFor(started.run, e, review)) };
}

let files = 0;
function harness() {
  const clock = new ManualClock(START);
  const path = join(dir, `state-${++files}.db`);
  const outbox = new SqliteNotificationOutbox({ path });
  const second = new SqliteNotificationOutbox({ path });
  closers.push(outbox, second);
  const logger = memoryLogger();
  const notifier = new SignedWebhookNotifier({ name: 'ops-hook', url: HOOK, secret: HOOK_SECRET, now: () => clock.now() });
  const runs = new Map<string, Run>();
  const notifyDeps: NotifyDeps = {
    notifiers: [notifier],
    logger,
    sleep: async () => {},
    outbox: { store: outbox, now: () => clock.now() },
  };
  const round = (store: NotificationOutbox = outbox, notifiers = [notifier]): RedeliveryDeps => ({
    store: { getRun: async (id) => runs.get(id) },
    logger,
    notifications: { notifiers, outbox: { store, now: () => clock.now() } },
  });
  return { clock, path, outbox, second, logger, notifier, runs, notifyDeps, round };
}

describe('notification outbox: sent again by the timer', () => {
  it('a channel answering 500, then recovering, gets the message exactly once on a later round', async () => {
    const h = harness();
    let status = 500;
    const seen = hook(() => status);
    const { run, messages } = waitingRun();
    h.runs.set(run.id, run);
    await notify(h.notifyDeps, messages, run);
    expect(seen.requests()).toBe(3);
    expect(seen.taken).toEqual([]);
    expect(h.logger.lines.map((l) => l.msg)).toContain('notification failed: queued to be sent again later');

    // Not due yet; then due but still down: rescheduled, nothing taken.
    expect(await redeliverNotifications(h.round())).toMatchObject({ due: 0, sent: 0 });
    h.clock.advance(MINUTE);
    expect(await redeliverNotifications(h.round())).toMatchObject({ due: 1, rescheduled: 1 });
    expect(seen.requests()).toBe(4);

    status = 200;
    h.clock.advance(MINUTE - 1);
    expect(await redeliverNotifications(h.round())).toMatchObject({ due: 0 });
    h.clock.advance(1);
    expect(await redeliverNotifications(h.round())).toMatchObject({ due: 1, sent: 1 });
    expect(seen.taken).toHaveLength(1);
    expect(seen.taken[0]).toMatchObject({ kind: 'waiting-for-approval', runId: 'run-1', step: 'prod' });

    for (let i = 0; i < 3; i++) {
      h.clock.advance(HOUR);
      expect(await redeliverNotifications(h.round())).toMatchObject({ due: 0, sent: 0 });
    }
    expect(seen.taken).toHaveLength(1);
    const entry = await h.outbox.get('run-1/waiting-for-approval/prod/ops-hook');
    expect(entry).toMatchObject({ state: 'sent', attempts: 2, settledAt: START + 2 * MINUTE });
    // The same effect failing again later is not queued a second time.
    status = 500;
    await notify(h.notifyDeps, messages, run);
    h.clock.advance(HOUR);
    expect(await redeliverNotifications(h.round())).toMatchObject({ due: 0 });
  });

  it('two concurrent rounds (two timer instances, two connections) send it once', async () => {
    const h = harness();
    let status = 503;
    const seen = hook(() => status);
    const { run } = waitingRun();
    h.runs.set(run.id, run);
    const ended: Notification = { kind: 'failed', app: run.app, runId: run.id, publishVersion: 'version9', summary: 'step prod failed' };
    await notify(h.notifyDeps, [ended], run);
    status = 200;
    h.clock.advance(MINUTE);
    const rounds = await Promise.all([redeliverNotifications(h.round(h.outbox)), redeliverNotifications(h.round(h.second))]);
    expect(seen.taken).toHaveLength(1);
    expect(rounds.map((r) => r?.sent ?? 0).reduce((a, b) => a + b)).toBe(1);
    expect(rounds.map((r) => r?.skipped ?? 0).reduce((a, b) => a + b)).toBe(1);
  });

  it('drops a "waiting for approval" message whose step no longer waits, and still sends the end of the run', async () => {
    const h = harness();
    let status = 500;
    const seen = hook(() => status);
    const { run, messages } = waitingRun();
    await notify(h.notifyDeps, messages, run);
    const ended: Notification = { kind: 'succeeded', app: run.app, runId: run.id, publishVersion: 'version9', summary: 'done' };
    await notify(h.notifyDeps, [ended], run);
    // Meanwhile the step was approved and the run went on to its end.
    const moved = structuredClone(run);
    for (const step of moved.steps) {
      step.phase = 'succeeded';
      delete step.awaiting;
    }
    h.runs.set(run.id, moved);
    status = 200;
    h.clock.advance(MINUTE);
    expect(await redeliverNotifications(h.round())).toMatchObject({ due: 2, sent: 1, dropped: 1 });
    expect(seen.taken.map((b) => b.kind)).toEqual(['succeeded']);
    expect(await h.outbox.get('run-1/waiting-for-approval/prod/ops-hook')).toMatchObject({
      state: 'dropped',
      lastError: 'step prod no longer waits for approval',
    });
  });

  it('gives up after 24 h of failures, logged and kept visible, and never tries again', async () => {
    const h = harness();
    const seen = hook(() => 502);
    const { run, messages } = waitingRun();
    h.runs.set(run.id, run);
    await notify(h.notifyDeps, messages, run);
    let rounds = 0;
    while (rounds < 200) {
      h.clock.advance(30 * MINUTE);
      rounds += 1;
      const round = await redeliverNotifications(h.round());
      if (round?.givenUp) break;
    }
    // 1 min, 2, 4, 8, 16, then every 30 min until 24 h from the first failure.
    expect(h.clock.now() - START).toBeGreaterThanOrEqual(24 * HOUR);
    expect(h.clock.now() - START).toBeLessThan(24 * HOUR + 30 * MINUTE);
    const entry = await h.outbox.get('run-1/waiting-for-approval/prod/ops-hook');
    expect(entry).toMatchObject({ state: 'given-up', lastError: expect.stringContaining('notifier ops-hook: the webhook answered 502') });
    expect(h.logger.lines.filter((l) => String(l.msg).startsWith('notification given up for good'))).toHaveLength(1);
    const requests = seen.requests();
    h.clock.advance(24 * HOUR);
    expect(await redeliverNotifications(h.round())).toMatchObject({ due: 0 });
    expect(seen.requests()).toBe(requests);
    expect(seen.taken).toEqual([]);
  });

  it('does not send a message found older than the bound (the timer stopped for two days): given up, logged', async () => {
    const h = harness();
    let status = 500;
    const seen = hook(() => status);
    const { run } = waitingRun();
    h.runs.set(run.id, run);
    const ended: Notification = { kind: 'failed', app: run.app, runId: run.id, publishVersion: 'version9', summary: 'boom' };
    await notify(h.notifyDeps, [ended], run);
    status = 200;
    h.clock.advance(48 * HOUR);
    const requests = seen.requests();
    expect(await redeliverNotifications(h.round())).toMatchObject({ due: 1, givenUp: 1, sent: 0 });
    expect(seen.requests()).toBe(requests);
    expect(await h.outbox.get('run-1/failed/-/ops-hook')).toMatchObject({
      state: 'given-up',
      lastError: 'not sent within 1440 min: notifier ops-hook: the webhook answered 500',
    });
    expect(h.logger.lines.map((l) => l.msg)).toContain('notification given up for good: too old');
  });

  it('queues each reminder of a step once: the same reminder effect twice is one entry, the next reminder another', async () => {
    const h = harness();
    const seen = hook(() => 500);
    const { run } = waitingRun();
    h.runs.set(run.id, run);
    const reminder: Notification = {
      kind: 'reminder',
      app: run.app,
      runId: run.id,
      publishVersion: 'version9',
      step: 'prod',
      summary: 'still waiting',
    };
    const at = (remindAt: number): Run => ({ ...run, steps: run.steps.map((s) => ({ ...s, remindAt })) });
    await notify(h.notifyDeps, [reminder], at(START + HOUR));
    await notify(h.notifyDeps, [reminder], at(START + HOUR));
    await notify(h.notifyDeps, [reminder], at(START + 2 * HOUR));
    expect(seen.requests()).toBe(9);
    h.clock.advance(MINUTE);
    expect((await h.outbox.listDue(h.clock.now(), 10)).map((e) => e.key)).toEqual([
      `run-1/reminder/prod@${START + HOUR}/ops-hook`,
      `run-1/reminder/prod@${START + 2 * HOUR}/ops-hook`,
    ]);
    expect(h.logger.lines.map((l) => l.msg)).toContain('notification failed: already queued');
  });

  it('an outbox that cannot be written or read breaks nothing: notify and the round resolve, logged', async () => {
    const h = harness();
    hook(() => 500);
    const { run, messages } = waitingRun();
    h.runs.set(run.id, run);
    const fail = async (): Promise<never> => {
      throw new Error('disk I/O error');
    };
    const store: NotificationOutbox = { add: fail, listDue: fail, claim: fail, settle: fail, reschedule: fail, get: fail };
    await expect(notify({ ...h.notifyDeps, outbox: { store, now: () => h.clock.now() } }, messages, run)).resolves.toBeUndefined();
    expect(h.logger.lines.map((l) => l.msg)).toContain('notification given up: the outbox could not be written');
    await expect(redeliverNotifications(h.round(store))).resolves.toMatchObject({ due: 0 });
    expect(h.logger.lines.map((l) => l.msg)).toContain('notification outbox could not be read: the next round tries again');
  });

  it('queues nothing for a refusal that retrying will not fix (400), and gives up an entry whose channel is gone', async () => {
    const h = harness();
    let status = 400;
    hook(() => status);
    const { run, messages } = waitingRun();
    h.runs.set(run.id, run);
    await notify(h.notifyDeps, messages, run);
    h.clock.advance(HOUR);
    expect(await h.outbox.listDue(h.clock.now(), 10)).toEqual([]);

    status = 500;
    const ended: Notification = { kind: 'failed', app: run.app, runId: run.id, publishVersion: 'version9', summary: 'boom' };
    await notify(h.notifyDeps, [ended], run);
    h.clock.advance(HOUR);
    expect(await redeliverNotifications(h.round(h.outbox, []))).toMatchObject({ due: 1, givenUp: 1 });
    expect(await h.outbox.get('run-1/failed/-/ops-hook')).toMatchObject({
      state: 'given-up',
      lastError: 'the channel is no longer configured',
    });
  });

  it('stores no one-time link: not its token in the stored bytes, and the late message says so', async () => {
    const h = harness();
    let status = 500;
    const seen = hook(() => status);
    const links = new SqliteApprovalLinkStore({ path: ':memory:' });
    closers.push(links);
    const tokens: string[] = [];
    const { run, messages } = waitingRun();
    h.runs.set(run.id, run);
    const notifier = new SignedWebhookNotifier({
      name: 'ops-hook',
      url: HOOK,
      secret: HOOK_SECRET,
      now: () => h.clock.now(),
      recipients: ['alice'],
    });
    await notify(
      {
        ...h.notifyDeps,
        notifiers: [notifier],
        links: {
          store: links,
          tokens: () => [{ name: 'alice', scope: 'approver' }],
          url: (token) => {
            tokens.push(token);
            return `http://approval.test/links/${token}`;
          },
          preview: async () => ({ runId: 'run-1', step: 'prod', digest: 'f'.repeat(64), policyVersion: 'p/1', clusters: [] }),
          now: () => h.clock.now(),
        },
      },
      messages,
      run,
    );
    expect(tokens).toHaveLength(1);
    const token = tokens[0] ?? 'none';
    h.outbox.close();
    h.second.close();
    const stored = readdirSync(dir)
      .filter((f) => f.startsWith(`state-${files}.db`))
      .map((f) => readFileSync(join(dir, f)));
    expect(stored.length).toBeGreaterThan(0);
    for (const bytes of stored) {
      expect(bytes.includes(Buffer.from(token))).toBe(false);
      expect(bytes.includes(Buffer.from('/links/'))).toBe(false);
    }
    expect(bytes(stored).includes(Buffer.from('run-1/waiting-for-approval/prod/ops-hook'))).toBe(true);
    for (const line of h.logger.lines) expect(JSON.stringify(line)).not.toContain(token);

    const reopened = new SqliteNotificationOutbox({ path: h.path });
    closers.push(reopened);
    status = 200;
    h.clock.advance(MINUTE);
    expect(await redeliverNotifications(h.round(reopened, [notifier]))).toMatchObject({ sent: 1 });
    const late = seen.taken[0] ?? {};
    expect(late.links).toBeUndefined();
    expect(late.link).toBe('http://approval.test/apps/demo/web-demo/review');
    expect(String(late.summary)).toMatch(/one-time links were not delivered; decide on the review page/);
    expect(JSON.stringify(late)).not.toContain(token);
  });
});

const bytes = (chunks: Buffer[]): Buffer => Buffer.concat(chunks);
