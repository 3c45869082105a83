import { createHmac } from 'node:crypto';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DingTalkNotifier, FeishuNotifier, SignedWebhookNotifier } from '#shared/delivery/adapters/notify/webhook-notifiers.ts';
import { signRequest } from '#shared/delivery/approval/auth.ts';
import type { Notification } from '#shared/delivery/ports/notifier.port.ts';
import { notificationsFor, notify } from '#shared/delivery/usecases/notify.ts';
import { createRun, next } from '#shared/delivery/workflow/decider.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { deployStep, plan } from '../workflow/plans.ts';

/**
 * Notifications at the HTTP level (msw): the DingTalk and Feishu signed-robot formats byte for byte,
 * the generic webhook signed like the approval API, retries that give up without throwing, and
 * secrets that never reach a log line.
 */
const SECRET = 'SECdeadbeefcafe0123456789-robot-secret';
const ACCESS_TOKEN = 'access-token-in-the-url-0123456789';
const NOW = 1_764_790_000_123;
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const waiting: Notification = {
  kind: 'waiting-for-approval',
  app: { namespace: 'demo', name: 'web-demo' },
  runId: 'run-1',
  publishVersion: 'version9',
  step: 'prod',
  clusters: ['cluster2-beijing'],
  link: 'http://127.0.0.1:8080/apps/demo/web-demo/review',
  summary: 'waiting for 2 approvals from group:ops, bob',
};

interface Seen {
  url: URL;
  headers: Headers;
  body: string;
}

function capture(url: string, answer: () => Response): Seen[] {
  const seen: Seen[] = [];
  server.use(
    http.post(url, async ({ request }) => {
      seen.push({ url: new URL(request.url), headers: request.headers, body: await request.text() });
      return answer();
    }),
  );
  return seen;
}

describe('DingTalk custom robot', () => {
  it('signs with timestamp (ms) and sign = urlencoded base64 HMAC-SHA256(secret, "timestamp\\nsecret")', async () => {
    const seen = capture('https://oapi.dingtalk.com/robot/send', () => HttpResponse.json({ errcode: 0, errmsg: 'ok' }));
    await new DingTalkNotifier({
      name: 'ops-dingtalk',
      url: `https://oapi.dingtalk.com/robot/send?access_token=${ACCESS_TOKEN}`,
      secret: SECRET,
      now: () => NOW,
    }).send(waiting);
    const [request] = seen;
    const expected = createHmac('sha256', SECRET).update(`${NOW}\n${SECRET}`).digest('base64');
    expect(request?.url.searchParams.get('access_token')).toBe(ACCESS_TOKEN);
    expect(request?.url.searchParams.get('timestamp')).toBe(String(NOW));
    expect(request?.url.searchParams.get('sign')).toBe(expected);
    // On the wire the sign is urlencoded (base64's + / = escaped).
    expect(request?.url.search).toContain(`sign=${encodeURIComponent(expected)}`);
    const body = JSON.parse(request?.body ?? '{}');
    expect(body.msgtype).toBe('markdown');
    expect(body.markdown.text).toContain('review: http://127.0.0.1:8080/apps/demo/web-demo/review');
    expect(body.markdown.text).toContain('step prod on cluster2-beijing');
    expect(body.markdown.text).toContain('release version9');
  });

  it('takes a 200 with errcode as a refusal that retrying does not fix', async () => {
    capture('https://oapi.dingtalk.com/robot/send', () => HttpResponse.json({ errcode: 310000, errmsg: 'sign not match' }));
    const send = new DingTalkNotifier({
      name: 'ops-dingtalk',
      url: 'https://oapi.dingtalk.com/robot/send',
      secret: SECRET,
      now: () => NOW,
    }).send(waiting);
    await expect(send).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/errcode 310000: sign not match/) });
  });
});

describe('Feishu custom bot', () => {
  it('puts timestamp (s) and sign = base64 HMAC-SHA256(key "timestamp\\nsecret", empty message) in the JSON body', async () => {
    const seen = capture('https://open.feishu.cn/open-apis/bot/v2/hook/:id', () => HttpResponse.json({ code: 0, msg: 'success' }));
    await new FeishuNotifier({
      name: 'ops-feishu',
      url: 'https://open.feishu.cn/open-apis/bot/v2/hook/abc',
      secret: SECRET,
      now: () => NOW,
    }).send(waiting);
    const body = JSON.parse(seen[0]?.body ?? '{}');
    const seconds = Math.floor(NOW / 1000);
    expect(body.timestamp).toBe(String(seconds));
    expect(body.sign).toBe(createHmac('sha256', `${seconds}\n${SECRET}`).update('').digest('base64'));
    expect(body.msg_type).toBe('text');
    expect(body.content.text).toContain('Waiting for approval: demo/web-demo');
  });

  it('takes a 200 with a non-zero code as a refusal', async () => {
    capture('https://open.feishu.cn/open-apis/bot/v2/hook/:id', () =>
      HttpResponse.json({ code: 19021, msg: 'sign match fail or timestamp is not within one hour from current time' }),
    );
    const send = new FeishuNotifier({
      name: 'f',
      url: 'https://open.feishu.cn/open-apis/bot/v2/hook/abc',
      secret: SECRET,
      now: () => NOW,
    }).send(waiting);
    await expect(send).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/code 19021/) });
  });
});

describe('generic signed webhook', () => {
  it('signs like the approval API: v1=HMAC over "timestamp.POST.path.body"', async () => {
    const seen = capture('https://hooks.example.com/tricenter/events', () => new HttpResponse(null, { status: 204 }));
    await new SignedWebhookNotifier({
      name: 'hook',
      url: 'https://hooks.example.com/tricenter/events',
      secret: SECRET,
      now: () => NOW,
    }).send(waiting);
    const [request] = seen;
    expect(request?.headers.get('x-tricenter-timestamp')).toBe(String(NOW));
    expect(request?.headers.get('x-tricenter-signature')).toBe(signRequest(SECRET, NOW, 'POST', '/tricenter/events', request?.body ?? ''));
    expect(JSON.parse(request?.body ?? '{}')).toMatchObject({ kind: 'waiting-for-approval', step: 'prod', link: waiting.link });
  });
});

describe('notify use case', () => {
  const url = 'https://oapi.dingtalk.com/robot/send';
  const robot = () =>
    new DingTalkNotifier({ name: 'ops-dingtalk', url: `${url}?access_token=${ACCESS_TOKEN}`, secret: SECRET, now: () => NOW });

  it('retries a 5xx and delivers; the log never holds the secret, the access token or the signature', async () => {
    let calls = 0;
    const seen = capture(url, () => (++calls < 3 ? new HttpResponse('busy', { status: 503 }) : HttpResponse.json({ errcode: 0 })));
    const logger = memoryLogger();
    const slept: number[] = [];
    await notify({ notifiers: [robot()], logger, sleep: async (ms) => void slept.push(ms) }, [waiting]);
    expect(seen).toHaveLength(3);
    expect(slept).toEqual([500, 2000]);
    expect(logger.lines.at(-1)).toMatchObject({ msg: 'notification sent', channel: 'ops-dingtalk' });
    const text = JSON.stringify(logger.lines);
    const sign = seen[0]?.url.searchParams.get('sign') ?? 'no sign';
    for (const secret of [SECRET, ACCESS_TOKEN, sign, encodeURIComponent(sign)]) expect(text).not.toContain(secret);
  });

  it('gives up after its attempts, and on an unreachable robot, without throwing', async () => {
    capture(url, () => new HttpResponse('down', { status: 500 }));
    server.use(http.post('https://unreachable.example.com/hook', () => HttpResponse.error()));
    const logger = memoryLogger();
    const unreachable = new SignedWebhookNotifier({
      name: 'gone',
      url: `https://unreachable.example.com/hook?token=${ACCESS_TOKEN}`,
      secret: SECRET,
      now: () => NOW,
    });
    await expect(notify({ notifiers: [robot(), unreachable], logger, sleep: async () => {} }, [waiting])).resolves.toBeUndefined();
    const givenUp = logger.lines.filter((l) => l.msg === 'notification given up').map((l) => l.channel);
    expect(givenUp.sort()).toEqual(['gone', 'ops-dingtalk']);
    expect(JSON.stringify(logger.lines)).not.toContain(ACCESS_TOKEN);
    expect(JSON.stringify(logger.lines)).not.toContain(SECRET);
  });

  it("turns the decider's effects into messages: waiting (with link and clusters), approved, and the end", () => {
    const gated = plan([deployStep('prod', ['cluster2-beijing'], { needsApproval: true })], 'version9');
    const started = next(createRun({ id: 'run-1', releaseId: 'r', plan: gated }, 0), { type: 'started' }, 0);
    const link = () => 'http://twin/apps/demo/web-demo/review';
    const waitingMessages = started.effects.flatMap((e) => notificationsFor(started.run, e, link));
    expect(waitingMessages).toEqual([
      {
        kind: 'waiting-for-approval',
        app: { namespace: 'demo', name: 'web-demo' },
        runId: 'run-1',
        publishVersion: 'version9',
        step: 'prod',
        clusters: ['cluster2-beijing'],
        link: link(),
        summary: 'waiting for an approval',
      },
    ]);
    const approved = next(started.run, { type: 'approved', by: 'alice', decisionId: 'd1' }, 1);
    expect(approved.effects.flatMap((e) => notificationsFor(approved.run, e)).map((n) => [n.kind, n.summary])).toEqual([
      ['approved', 'approved by alice'],
    ]);
    const rejected = next(started.run, { type: 'rejected', by: 'bob', comment: 'no', decisionId: 'd2' }, 1);
    expect(rejected.effects.flatMap((e) => notificationsFor(rejected.run, e)).map((n) => n.kind)).toEqual(['rejected']);
  });
});

describe('notifier configuration', () => {
  it('builds one notifier per entry, by type', async () => {
    const { parseNotifierConfig } = await import('#shared/delivery/adapters/notify/config.ts');
    const notifiers = parseNotifierConfig(
      JSON.stringify([
        { type: 'dingtalk', name: 'ops', url: `https://oapi.dingtalk.com/robot/send?access_token=${ACCESS_TOKEN}`, secret: SECRET },
        { type: 'feishu', name: 'dev', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', secret: SECRET },
        { type: 'webhook', name: 'audit', url: 'https://hooks.example.com/t', secret: SECRET },
      ]),
      () => NOW,
    );
    expect(notifiers.map((n) => [n.constructor.name, n.name])).toEqual([
      ['DingTalkNotifier', 'ops'],
      ['FeishuNotifier', 'dev'],
      ['SignedWebhookNotifier', 'audit'],
    ]);
    expect(parseNotifierConfig('', () => NOW)).toEqual([]);
  });

  it.each([
    ['not JSON', `[{"secret": "${SECRET}"`, /TRICENTER_NOTIFIERS: not JSON/],
    [
      'a short secret',
      JSON.stringify([{ type: 'webhook', name: 'a', url: 'https://h.example.com', secret: 'short' }]),
      /TRICENTER_NOTIFIERS\[0\]\.secret/,
    ],
    [
      'an unknown type',
      JSON.stringify([{ type: 'slack', name: 'a', url: 'https://h.example.com', secret: SECRET }]),
      /TRICENTER_NOTIFIERS\[0\]\.type/,
    ],
    [
      'a bad URL',
      JSON.stringify([{ type: 'webhook', name: 'a', url: `ftp://x?access_token=${ACCESS_TOKEN}`, secret: SECRET }]),
      /TRICENTER_NOTIFIERS\[0\]\.url: malformed/,
    ],
    [
      'a name used twice',
      JSON.stringify([
        { type: 'webhook', name: 'a', url: 'https://h.example.com', secret: SECRET },
        { type: 'feishu', name: 'a', url: 'https://h.example.com', secret: SECRET },
      ]),
      /TRICENTER_NOTIFIERS\[1\]\.name: "a" is used twice/,
    ],
  ])('refuses %s naming the entry and field, never echoing a secret or URL', async (_label, text, says) => {
    const { parseNotifierConfig } = await import('#shared/delivery/adapters/notify/config.ts');
    let message = '';
    try {
      parseNotifierConfig(text, () => NOW);
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(says);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain(ACCESS_TOKEN);
  });
});
