import { afterAll, describe, expect, it } from 'vitest';
import { SqliteApprovalLinkStore } from '#shared/delivery/adapters/local/sqlite-approval-links.ts';
import type { ApprovalLink, ApproverToken } from '#shared/delivery/model/approval-link.ts';
import type { Notification, Notifier } from '#shared/delivery/ports/notifier.port.ts';
import type { ApprovalLinkStore } from '#shared/delivery/ports/approval-link-store.port.ts';
import { linkHash, notificationsFor, notify, type ApprovalLinkMinting, type StepPreview } from '#shared/delivery/usecases/notify.ts';
import { createRun, next } from '#shared/delivery/workflow/decider.ts';
import type { Run } from '#shared/delivery/workflow/run.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { deployStep, plan } from '../workflow/plans.ts';

/**
 * "Waiting for approval" with one-time links and the diff: who gets a link (the step's policy over
 * the token configuration, groups expanded; never a viewer, an unlisted approver or the uploader),
 * what is stored (the hash, never the token), the expiry (never past the approval timeout), and a
 * preview that fails or hangs: the message still goes, with the page link and no links.
 */
const NOW = 1_764_790_000_000;
const HOUR = 3_600_000;
const TOKENS: ApproverToken[] = [
  { name: 'alice', scope: 'approver', groups: ['ops'] },
  { name: 'bob', scope: 'approver' },
  { name: 'carol', scope: 'approver', groups: ['ops'], ossPrincipals: ['2001'] },
  { name: 'dave', scope: 'approver', groups: ['dev'] },
  { name: 'watcher', scope: 'viewer', groups: ['ops'] },
];
const stores: SqliteApprovalLinkStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
});

function waitingRun(options: { uploadedBy?: string; timeoutMs?: number } = {}): { run: Run; messages: Notification[] } {
  const step = {
    ...deployStep('prod', ['cluster2-beijing', 'cluster1-hangzhou'], { needsApproval: true }),
    approval: {
      approvers: ['group:ops', 'bob'],
      required: 1,
      onTimeout: 'fail' as const,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    },
  };
  const created = createRun(
    { id: 'run-1', releaseId: 'r', plan: plan([step], 'version9'), ...(options.uploadedBy ? { uploadedBy: options.uploadedBy } : {}) },
    NOW,
  );
  const started = next(created, { type: 'started' }, NOW);
  const link = () => 'http://approval.test/apps/demo/web-demo/review';
  return { run: started.run, messages: started.effects.flatMap((e) => notificationsFor(started.run, e, link)) };
}

const preview = (runId = 'run-1'): StepPreview => ({
  runId,
  step: 'prod',
  digest: 'f'.repeat(64),
  policyVersion: 'p/1',
  clusters: [
    {
      cluster: 'cluster2-beijing',
      objects: [
        {
          ref: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'demo', name: 'web' },
          action: 'change',
          liveVersion: '12',
          fields: [
            { path: 'spec.template.spec.containers[web].image', before: 'nginx:1.25', after: 'nginx:1.27', notable: true },
            { path: 'spec.replicas', before: 2, after: 3, notable: true },
            { path: 'metadata.labels.tier', before: 'a', after: 'b', notable: false },
          ],
        },
        { ref: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'demo', name: 'cfg' }, action: 'add', liveVersion: '', fields: [] },
        { ref: { apiVersion: 'v1', kind: 'Service', namespace: 'demo', name: 'old' }, action: 'prune', liveVersion: '3', fields: [] },
      ],
    },
    { cluster: 'cluster1-hangzhou', objects: [], error: 'cluster unreachable' },
  ],
});

function harness(overrides: Partial<ApprovalLinkMinting> = {}) {
  const store = new SqliteApprovalLinkStore({ path: ':memory:' });
  stores.push(store);
  const sent: Notification[] = [];
  // A channel that carries every approver's link (channel-recipients.test.ts has channels that carry some).
  const notifier: Notifier = { name: 'capture', recipients: ['group:ops', 'group:dev', 'bob'], send: async (n) => void sent.push(n) };
  const logger = memoryLogger();
  const links: ApprovalLinkMinting = {
    store,
    tokens: () => TOKENS,
    url: (token) => `http://approval.test/links/${token}`,
    preview: async () => preview(),
    now: () => NOW,
    ttlMs: 24 * HOUR,
    ...overrides,
  };
  return { store, sent, logger, deps: { notifiers: [notifier], logger, links, sleep: async () => {} } };
}

const tokenOf = (url: string): string => url.split('/links/')[1] ?? '';

describe('waiting-for-approval messages with one-time links', () => {
  it('carries the diff per cluster and one link per recipient the policy allows; only hashes are stored', async () => {
    const { store, sent, logger, deps } = harness();
    const { run, messages } = waitingRun();
    await notify(deps, messages, run);
    const [message] = sent;
    expect(message?.link).toBe('http://approval.test/apps/demo/web-demo/review');
    expect(message?.diff).toEqual([
      {
        cluster: 'cluster2-beijing',
        added: 1,
        changed: 1,
        pruned: 1,
        notable: [
          'Deployment web: spec.template.spec.containers[web].image nginx:1.25 → nginx:1.27',
          'Deployment web: spec.replicas 2 → 3',
        ],
      },
      { cluster: 'cluster1-hangzhou', added: 0, changed: 0, pruned: 0, notable: [], error: 'cluster unreachable' },
    ]);
    // group:ops expands to alice and carol; bob by name; dave (dev) is not listed; watcher is a viewer.
    expect(message?.links?.map((l) => l.recipient)).toEqual(['alice', 'bob', 'carol']);
    const tokens = (message?.links ?? []).map((l) => tokenOf(l.url));
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(tokens).size).toBe(3);
    for (const [i, token] of tokens.entries()) {
      const stored = (await store.get(linkHash(token))) as ApprovalLink;
      expect(stored).toEqual({
        hash: linkHash(token),
        app: { namespace: 'demo', name: 'web-demo' },
        runId: 'run-1',
        step: 'prod',
        recipient: message?.links?.[i]?.recipient,
        digest: 'f'.repeat(64),
        policyVersion: 'p/1',
        createdAt: NOW,
        expiresAt: NOW + 24 * HOUR,
      });
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(JSON.stringify(logger.lines)).not.toContain(token);
    }
  });

  it('never mints one for the uploader (by token or by OSS principal), and never past the approval timeout', async () => {
    for (const uploadedBy of ['token:carol', 'oss:2001']) {
      const { sent, deps } = harness();
      const { run, messages } = waitingRun({ uploadedBy, timeoutMs: 2 * HOUR });
      await notify(deps, messages, run);
      expect(sent[0]?.links?.map((l) => l.recipient)).toEqual(['alice', 'bob']);
      for (const l of sent[0]?.links ?? []) expect(l.expiresAt).toBe(NOW + 2 * HOUR);
    }
  });

  it('a preview that fails or hangs: the message goes with the page link, says why, and carries no link', async () => {
    const cases: Array<[string, Partial<ApprovalLinkMinting>, RegExp]> = [
      ['fails', { preview: async () => Promise.reject(new Error('apiserver said no')) }, /could not be computed \(apiserver said no\)/],
      ['hangs', { preview: () => new Promise<never>(() => {}), previewTimeoutMs: 20 }, /took longer than/],
      ['another run', { preview: async () => preview('run-0') }, /no longer waits/],
    ];
    for (const [what, overrides, reason] of cases) {
      const { store, sent, deps } = harness(overrides);
      const { run, messages } = waitingRun();
      await notify(deps, messages, run);
      expect(sent, what).toHaveLength(1);
      expect(sent[0]?.link, what).toContain('/review');
      expect(sent[0]?.diffUnavailable, what).toMatch(reason);
      expect(sent[0]?.links, what).toBeUndefined();
      expect(await store.consume('0'.repeat(64), NOW), what).toEqual({ outcome: 'unknown' });
    }
  });

  it('a store that refuses the links: the message still goes, with the diff and the page link', async () => {
    const broken: ApprovalLinkStore = {
      put: async () => Promise.reject(new Error('store down')),
      get: async () => undefined,
      consume: async () => ({ outcome: 'unknown' }),
    };
    const { sent, logger, deps } = harness({ store: broken });
    const { run, messages } = waitingRun();
    await notify(deps, messages, run);
    expect(sent[0]?.links).toBeUndefined();
    expect(sent[0]?.diff).toHaveLength(2);
    expect(logger.lines.some((l) => l.msg === 'one-time links not minted: the message carries the review page link')).toBe(true);
  });

  it('mints nothing when no channel is configured, and nothing for messages other than waiting-for-approval', async () => {
    const { deps } = harness();
    let previews = 0;
    const counting = {
      ...deps,
      notifiers: [],
      links: {
        ...deps.links,
        preview: async () => {
          previews++;
          return preview();
        },
      },
    };
    const { run, messages } = waitingRun();
    await notify(counting, messages, run);
    const approved = next(run, { type: 'approved', by: 'alice', decisionId: 'd1' }, NOW + 1);
    await notify(
      { ...deps, links: counting.links },
      approved.effects.flatMap((e) => notificationsFor(approved.run, e)),
      approved.run,
    );
    expect(previews).toBe(0);
  });
});
