import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cloudConfig } from '#functions/cloud.ts';
import { startLocalTwin } from '#local/twin.ts';
import { SqliteApprovalLinkStore } from '#shared/delivery/adapters/local/sqlite-approval-links.ts';
import { parseLinkTtl, parseNotifierConfig } from '#shared/delivery/adapters/notify/config.ts';
import type { ApprovalLink, ApproverToken } from '#shared/delivery/model/approval-link.ts';
import type { ApprovalLinkStore } from '#shared/delivery/ports/approval-link-store.port.ts';
import { linkHash, notificationsFor, notify, type StepPreview } from '#shared/delivery/usecases/notify.ts';
import { createRun, next } from '#shared/delivery/workflow/decider.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { deployStep, plan } from '../workflow/plans.ts';

/**
 * A one-time link decides as its recipient, so it goes only where its recipient reads it: a
 * channel's `recipients` (TRICENTER_NOTIFIERS) say whose links it carries, a channel without them
 * carries none, and a link is minted only for a recipient some channel carries. Checked on the
 * bytes each channel's webhook receives (msw), and at configuration: a recipient that is no
 * approver token is refused naming the entry and field.
 */
const NOW = 1_764_790_000_000;
const SECRET = 'SECdeadbeefcafe0123456789-robot-secret';
const TOKENS: ApproverToken[] = [
  { name: 'alice', scope: 'approver', groups: ['ops'] },
  { name: 'bob', scope: 'approver' },
  { name: 'carol', scope: 'approver', groups: ['ops'] },
  { name: 'dave', scope: 'approver', groups: ['dev'] },
  { name: 'watcher', scope: 'viewer', groups: ['ops', 'audit'] },
];
const TEAM = 'https://oapi.dingtalk.com/robot/send';
const BOB_INBOX = 'https://hooks.example.com/inbox/bob';
const OPS_ROOM = 'https://open.feishu.cn/open-apis/bot/v2/hook/ops';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());
const stores: SqliteApprovalLinkStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
});

/** Every body each webhook received, as bytes on the wire. */
function receivers(): Map<string, string[]> {
  const seen = new Map<string, string[]>([
    [TEAM, []],
    [BOB_INBOX, []],
    [OPS_ROOM, []],
  ]);
  const keep =
    (url: string) =>
    async ({ request }: { request: Request }) => {
      seen.get(url)?.push(await request.text());
      return url === TEAM
        ? HttpResponse.json({ errcode: 0 })
        : url === OPS_ROOM
          ? HttpResponse.json({ code: 0 })
          : new HttpResponse(null, { status: 204 });
    };
  server.use(http.post(TEAM, keep(TEAM)), http.post(BOB_INBOX, keep(BOB_INBOX)), http.post(OPS_ROOM, keep(OPS_ROOM)));
  return seen;
}

const channel = (type: string, name: string, url: string, recipients?: string[]) => ({
  type,
  name,
  url,
  secret: SECRET,
  ...(recipients ? { recipients } : {}),
});

/** A run whose step `prod` waits for one approval from group ops or bob (alice, bob, carol may decide; dave may not). */
function waitingRun() {
  const step = {
    ...deployStep('prod', ['cluster2-beijing'], { needsApproval: true }),
    approval: { approvers: ['group:ops', 'bob'], required: 1, onTimeout: 'fail' as const },
  };
  const started = next(createRun({ id: 'run-1', releaseId: 'r', plan: plan([step], 'version9') }, NOW), { type: 'started' }, NOW);
  const review = () => 'http://approval.test/apps/demo/web-demo/review';
  return { run: started.run, messages: started.effects.flatMap((e) => notificationsFor(started.run, e, review)) };
}

const preview: StepPreview = {
  runId: 'run-1',
  step: 'prod',
  digest: 'f'.repeat(64),
  policyVersion: 'sha256:0123456789abcdef',
  clusters: [],
};

async function send(config: unknown[]): Promise<{ seen: Map<string, string[]>; minted: ApprovalLink[] }> {
  const seen = receivers();
  const store = new SqliteApprovalLinkStore({ path: ':memory:' });
  stores.push(store);
  const minted: ApprovalLink[] = [];
  const recording: ApprovalLinkStore = {
    put: async (link) => {
      minted.push(link);
      return store.put(link);
    },
    get: (hash) => store.get(hash),
    consume: (hash, at) => store.consume(hash, at),
  };
  const { run, messages } = waitingRun();
  const notifiers = parseNotifierConfig(JSON.stringify(config), () => NOW, TOKENS);
  const links = {
    store: recording,
    tokens: () => TOKENS,
    url: (token: string) => `http://approval.test/links/${token}`,
    preview: async () => preview,
    now: () => NOW,
  };
  await notify({ notifiers, logger: memoryLogger(), links, sleep: async () => {} }, messages, run);
  return { seen, minted };
}

const LINK = /http:\/\/approval\.test\/links\/([A-Za-z0-9_-]{43})/g;
const tokensIn = (bodies: readonly string[]): string[] => bodies.flatMap((b) => [...b.matchAll(LINK)].map((m) => m[1] as string));

describe('which channel carries which one-time link', () => {
  it('a channel without recipients never sees a link; one for bob carries only bob’s; one for group:ops only alice’s and carol’s', async () => {
    const { seen, minted } = await send([
      channel('dingtalk', 'team', TEAM),
      channel('webhook', 'bob', BOB_INBOX, ['bob']),
      channel('feishu', 'ops', OPS_ROOM, ['group:ops']),
    ]);
    const tokenOf = new Map(
      minted.map((l) => [l.recipient, tokensIn([...seen.values()].flat()).find((t) => linkHash(t) === l.hash) ?? '']),
    );
    expect([...tokenOf.keys()].sort()).toEqual(['alice', 'bob', 'carol']);
    for (const token of tokenOf.values()) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const team = seen.get(TEAM) ?? [];
    expect(team).toHaveLength(1);
    expect(team[0]).toContain('review: http://approval.test/apps/demo/web-demo/review');
    expect(team[0]).not.toContain('/links/');
    expect(team[0]).not.toContain('decide once');
    for (const token of tokenOf.values()) expect(team[0]).not.toContain(token);

    const bob = seen.get(BOB_INBOX) ?? [];
    expect(tokensIn(bob)).toEqual([tokenOf.get('bob'), tokenOf.get('bob')]); // in `links` and in the text
    expect(JSON.parse(bob[0] ?? '{}').links.map((l: { recipient: string }) => l.recipient)).toEqual(['bob']);
    expect(bob[0]).not.toContain(tokenOf.get('alice'));
    expect(bob[0]).not.toContain(tokenOf.get('carol'));

    const ops = seen.get(OPS_ROOM) ?? [];
    expect(tokensIn(ops).sort()).toEqual([tokenOf.get('alice'), tokenOf.get('carol')].sort());
    expect(ops[0]).not.toContain(tokenOf.get('bob'));
  });

  it('mints a link only for a recipient some channel carries: none at all when no channel names any', async () => {
    const onlyBob = await send([channel('dingtalk', 'team', TEAM), channel('webhook', 'bob', BOB_INBOX, ['bob'])]);
    expect(onlyBob.minted.map((l) => l.recipient)).toEqual(['bob']);

    const none = await send([channel('dingtalk', 'team', TEAM), channel('feishu', 'ops', OPS_ROOM)]);
    expect(none.minted).toEqual([]);
    for (const bodies of none.seen.values()) for (const body of bodies) expect(body).not.toContain('/links/');
    expect(none.seen.get(TEAM)).toHaveLength(1);
    expect(none.seen.get(OPS_ROOM)).toHaveLength(1);
  });

  it('a channel for a recipient the step’s policy does not allow (dave) carries no link, and none is minted for him', async () => {
    const { seen, minted } = await send([channel('webhook', 'dave', BOB_INBOX, ['dave', 'group:dev'])]);
    expect(minted).toEqual([]);
    expect(seen.get(BOB_INBOX)?.[0]).not.toContain('/links/');
  });
});

describe('a channel’s recipients at configuration', () => {
  it.each([
    ['an unknown token', ['bob', 'mallory'], /TRICENTER_NOTIFIERS\[1\]\.recipients\[1\]: "mallory" names no token/],
    ['a viewer', ['watcher'], /TRICENTER_NOTIFIERS\[1\]\.recipients\[0\]: "watcher" is a viewer token/],
    ['a group no approver carries', ['group:audit'], /TRICENTER_NOTIFIERS\[1\]\.recipients\[0\]: "group:audit": no approver token/],
    ['an empty group', ['group:'], /TRICENTER_NOTIFIERS\[1\]\.recipients\[0\]: names an empty group/],
    ['an empty list', [], /TRICENTER_NOTIFIERS\[1\]\.recipients: list at least one recipient/],
  ])('refuses %s naming the entry and field, never a URL or secret', (_, recipients, says) => {
    const text = JSON.stringify([channel('dingtalk', 'team', TEAM), { ...channel('webhook', 'inbox', BOB_INBOX), recipients }]);
    expect(() => parseNotifierConfig(text, () => NOW, TOKENS)).toThrow(says);
    try {
      parseNotifierConfig(text, () => NOW, TOKENS);
    } catch (err) {
      expect(String(err)).not.toContain(SECRET);
      expect(String(err)).not.toContain(BOB_INBOX);
    }
  });

  it('refuses any recipient where no approval token configuration is given', () => {
    expect(() => parseNotifierConfig(JSON.stringify([channel('webhook', 'bob', BOB_INBOX, ['bob'])]), () => NOW)).toThrow(
      /TRICENTER_NOTIFIERS\[0\]\.recipients\[0\]: "bob" names no token/,
    );
  });

  it('keeps the recipients as written on the channel (expanded when a message goes)', () => {
    const [team, ops] = parseNotifierConfig(
      JSON.stringify([channel('dingtalk', 'team', TEAM), channel('feishu', 'ops', OPS_ROOM, ['group:ops', 'bob'])]),
      () => NOW,
      TOKENS,
    );
    expect(team?.recipients).toBeUndefined();
    expect(ops?.recipients).toEqual(['group:ops', 'bob']);
  });
});

describe('TRICENTER_APPROVAL_LINK_TTL', () => {
  it.each([
    ['', undefined],
    ['  ', undefined],
    ['8h', 8 * 3_600_000],
    ['1h30m', 90 * 60_000],
    ['45s', 45_000],
    ['720h', 720 * 3_600_000],
  ])('reads %j', (text, ms) => {
    expect(parseLinkTtl(text)).toBe(ms);
  });

  it.each(['tomorrow', '8', '1d', '-1h', '8h 30m', '0s', '721h', '1h30'])('refuses %j naming the variable', (text) => {
    expect(() => parseLinkTtl(text)).toThrow(/^TRICENTER_APPROVAL_LINK_TTL: /);
  });

  it('the cloud and the twin read it alike: a bad value refuses to start, naming the variable, before anything runs', async () => {
    const cloud = { TRICENTER_REGION: 'cn-beijing', TRICENTER_BUCKET: 'bundles', TRICENTER_OTS_INSTANCE: 'runs-prod' };
    expect(cloudConfig({ ...cloud, TRICENTER_APPROVAL_LINK_TTL: '8h' }).approvalLinkTtlMs).toBe(8 * 3_600_000);
    expect(cloudConfig(cloud).approvalLinkTtlMs).toBeUndefined();
    expect(() => cloudConfig({ ...cloud, TRICENTER_APPROVAL_LINK_TTL: 'tomorrow' })).toThrow(/TRICENTER_APPROVAL_LINK_TTL: "tomorrow"/);
    const parent = mkdtempSync(join(tmpdir(), 'tricenter-ttl-'));
    try {
      const dir = join(parent, 'state');
      const started = startLocalTwin({ dir, clustersFile: 'examples/web-demo/clusters.yaml', env: { TRICENTER_APPROVAL_LINK_TTL: '1d' } });
      await expect(started).rejects.toThrow(/^TRICENTER_APPROVAL_LINK_TTL: "1d" is not a duration/);
      expect(existsSync(dir)).toBe(false);
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
