import { createHash, randomBytes } from 'node:crypto';
import { errorMessage, isTricenterError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/log.ts';
import {
  channelRecipients,
  DEFAULT_LINK_TTL_MS,
  linkExpiry,
  linkRecipients,
  type ApprovalLink,
  type ApproverToken,
} from '../model/approval-link.ts';
import type { AppRef } from '../model/ownership.ts';
import type { ObjectPreview } from '../model/preview.ts';
import type { ApprovalLinkStore } from '../ports/approval-link-store.port.ts';
import type { NotificationOutbox } from '../ports/notification-outbox.port.ts';
import type { ClusterDiffSummary, Notification, Notifier } from '../ports/notifier.port.ts';
import type { Effect, Run } from '../workflow/run.ts';

/**
 * Tells people about a run from the decider's effects: a step waits for approval (with the review
 * page's link and what the step deploys where), a reminder, the step approved or rejected, the run
 * ended (succeeded, failed, timed out, terminated). Every channel gets each message on its own,
 * side by side; a channel that fails is retried a few times (a refusal that says retrying will not
 * help is not) and then given up, logged by its name only. Nothing here ever throws: the workflow
 * has already moved on and never waits for a chat robot.
 *
 * A "waiting for approval" message also carries, when `links` is configured, a summary of the
 * diff per cluster (the review page's preview, bounded in time) and one one-time link per
 * recipient (model/approval-link.ts): minted here, stored as hashes, the tokens only in the message.
 * A link goes only to the channels whose `recipients` name its recipient (whoever reads a channel
 * can use what it carries), and is minted only for recipients some channel carries.
 */
export interface NotifyDeps {
  notifiers: readonly Notifier[];
  logger: Logger;
  /** The review page of an application, when the approval endpoint is known. */
  reviewLink?: (app: AppRef) => string;
  /** One-time links and the diff summary in "waiting for approval" messages; absent: the page link only. */
  links?: ApprovalLinkMinting;
  /** Waits between attempts (tests pass one that does not wait). */
  sleep?: (ms: number) => Promise<void>;
  /** Delays before the 2nd, 3rd... attempt (default 0.5 s, 2 s). */
  retryDelaysMs?: readonly number[];
  /**
   * Where a message goes that a channel did not take after these attempts, for the deploy-step
   * timer to send again (usecases/redeliver-notifications.ts); absent: it is given up, logged.
   */
  outbox?: OutboxSettings;
}

export interface OutboxSettings {
  store: NotificationOutbox;
  now: () => number;
  /** The first redelivery is due this long after the message was given up here (default 1 min). */
  firstRetryMs?: number;
  /** Redelivery gives up this long after the message was queued (default 24 h). */
  giveUpAfterMs?: number;
}

export const DEFAULT_OUTBOX_FIRST_RETRY_MS = 60_000;

const DEFAULT_RETRY_DELAYS_MS = [500, 2000];
const DEFAULT_PREVIEW_TIMEOUT_MS = 10_000;
const NOTABLE_PER_CLUSTER = 5;

/** What a waiting step would change, as the review page computes it, with the digest a decision must match. */
export interface StepPreview {
  runId: string;
  step: string;
  digest: string;
  policyVersion: string;
  clusters: Array<{ cluster: string; objects: ObjectPreview[]; error?: string }>;
}

export interface ApprovalLinkMinting {
  store: ApprovalLinkStore;
  /** The approval token configuration as it is now (names, scopes, groups): recipients are chosen from it. */
  tokens: () => readonly ApproverToken[];
  /** The URL a token is opened at: `<approval endpoint>/links/<token>`. */
  url: (token: string) => string;
  /** The waiting step's preview (the approval services' review model; injected, use cases do not import them). */
  preview: (app: AppRef, step: string) => Promise<StepPreview | undefined>;
  now: () => number;
  /** How long a link lives (default 24 h), never beyond the step's approval timeout. */
  ttlMs?: number;
  /** The preview gets this long (default 10 s); then the message goes without diff and links. */
  previewTimeoutMs?: number;
}

/** The messages an effect stands for (none for most effects). */
export function notificationsFor(run: Run, effect: Effect, reviewLink?: (app: AppRef) => string): Notification[] {
  const base = { app: run.app, runId: run.id, publishVersion: run.publishVersion };
  const stepInfo = (name: string) => {
    const step = run.steps.find((s) => s.name === name);
    const clusters = step?.tasks.map((t) => t.cluster) ?? [];
    return { step: name, ...(clusters.length > 0 ? { clusters } : {}) };
  };
  const link = reviewLink ? { link: reviewLink(run.app) } : {};
  switch (effect.type) {
    case 'request-approval': {
      const policy = run.steps.find((s) => s.name === effect.step)?.approval;
      const who = policy
        ? `${policy.required} approval${policy.required === 1 ? '' : 's'}${policy.approvers ? ` from ${policy.approvers.join(', ')}` : ''}`
        : 'an approval';
      return [{ kind: 'waiting-for-approval', ...base, ...stepInfo(effect.step), ...link, summary: `waiting for ${who}` }];
    }
    case 'remind-approval':
      return [{ kind: 'reminder', ...base, ...stepInfo(effect.step), ...link, summary: `still waiting for ${effect.missing}` }];
    case 'approval-decided':
      return [{ kind: effect.decision, ...base, ...stepInfo(effect.step), summary: `${effect.decision} by ${effect.by}` }];
    case 'finish': {
      // A rejection was told by its approval-decided message already.
      if (effect.phase === 'workflowFailed' && /^rejected by /.test(effect.reason)) return [];
      const kind =
        effect.phase === 'running'
          ? 'succeeded'
          : /not approved within its approval timeout/.test(effect.reason)
            ? 'timed-out'
            : effect.phase === 'workflowTerminated'
              ? 'terminated'
              : 'failed';
      return [{ kind, ...base, summary: effect.reason }];
    }
    default:
      return [];
  }
}

/**
 * Sends every message to every channel; resolves when each was delivered or given up. Never rejects.
 * With `run` (the run the messages are about), "waiting for approval" messages get their diff and links first.
 */
export async function notify(deps: NotifyDeps, messages: readonly Notification[], run?: Run): Promise<void> {
  if (messages.length === 0 || deps.notifiers.length === 0) return;
  const { links } = deps;
  // The token configuration is read once, so every channel's recipients expand alike.
  const tokens = links?.tokens() ?? [];
  const carries = new Map(deps.notifiers.map((notifier) => [notifier, channelRecipients(notifier.recipients, tokens)]));
  const carried = new Set([...carries.values()].flatMap((names) => [...names]));
  const notifications =
    links && run
      ? await Promise.all(
          messages.map((m) =>
            m.kind === 'waiting-for-approval' ? withDiffAndLinks(deps, { ...links, tokens: () => tokens }, run, m, carried) : m,
          ),
        )
      : messages;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const delays = deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const deliveries = deps.notifiers.flatMap((notifier) =>
    notifications.map(async (message) => {
      const notification = forChannel(message, carries.get(notifier) ?? new Set());
      for (let attempt = 1; ; attempt++) {
        try {
          await notifier.send(notification);
          deps.logger.info('notification sent', { channel: notifier.name, kind: notification.kind, runId: notification.runId });
          return;
        } catch (err) {
          const retryable = !isTricenterError(err) || err.retryable;
          const delay = delays[attempt - 1];
          const fields = { channel: notifier.name, kind: notification.kind, attempt, error: errorMessage(err) };
          if (!retryable || delay === undefined) {
            if (retryable && deps.outbox) return queueForLater(deps, deps.outbox, notifier.name, notification, run, errorMessage(err));
            deps.logger.warn('notification given up', fields);
            return;
          }
          deps.logger.info('notification failed, retrying', fields);
          await sleep(delay);
        }
      }
    }),
  );
  await Promise.all(deliveries);
}

/**
 * Writes a message the channel did not take to the outbox, once per run, effect and channel. What is
 * stored carries no one-time link (a link URL holds its token): the message says so and keeps the
 * review page's link. Never throws; a failed write is logged, by the channel's name only.
 */
async function queueForLater(
  deps: NotifyDeps,
  outbox: OutboxSettings,
  channel: string,
  message: Notification,
  run: Run | undefined,
  lastError: string,
): Promise<void> {
  const key = `${outboxKey(message, run)}/${channel}`;
  const fields = { channel, kind: message.kind, runId: message.runId, error: lastError };
  try {
    const now = outbox.now();
    const added = await outbox.store.add({
      key,
      channel,
      message: withoutLinks(message),
      createdAt: now,
      dueAt: now + (outbox.firstRetryMs ?? DEFAULT_OUTBOX_FIRST_RETRY_MS),
      lastError,
    });
    deps.logger.warn(added ? 'notification failed: queued to be sent again later' : 'notification failed: already queued', fields);
  } catch (err) {
    deps.logger.warn('notification given up: the outbox could not be written', { ...fields, outboxError: errorMessage(err) });
  }
}

/**
 * What identifies the effect a message stands for: its run, kind and step; a reminder also the
 * time of the step's next reminder, which the same transition always sets alike and the next
 * reminder moves on.
 */
function outboxKey(message: Notification, run: Run | undefined): string {
  const base = `${message.runId}/${message.kind}/${message.step ?? '-'}`;
  if (message.kind !== 'reminder') return base;
  const remindAt = run?.steps.find((s) => s.name === message.step)?.remindAt;
  return `${base}@${remindAt ?? '-'}`;
}

/** The message as stored for later: its one-time links left out, and said so. */
function withoutLinks(message: Notification): Notification {
  if (message.links === undefined) return message;
  const { links: _tokens, ...rest } = message;
  return { ...rest, summary: `${rest.summary} (sent late: its one-time links were not delivered; decide on the review page)` };
}

/** The message as one channel gets it: only the links of the recipients it carries. */
function forChannel(message: Notification, recipients: ReadonlySet<string>): Notification {
  if (message.links === undefined) return message;
  const { links, ...rest } = message;
  const own = links.filter((l) => recipients.has(l.recipient));
  return own.length > 0 ? { ...rest, links: own } : rest;
}

/**
 * The message with the step's diff per cluster and a link per recipient some channel carries. The links are bound to
 * the digest of the very preview the message shows; without a preview (failed, too slow, the step
 * moved on) there is nothing to bind them to, and the message says so and keeps the page link.
 * Never throws; the tokens never reach a log.
 */
async function withDiffAndLinks(
  deps: NotifyDeps,
  links: ApprovalLinkMinting,
  run: Run,
  message: Notification,
  carried: ReadonlySet<string>,
): Promise<Notification> {
  const step = run.steps.find((s) => s.name === message.step);
  if (!step) return message;
  const timeoutMs = links.previewTimeoutMs ?? DEFAULT_PREVIEW_TIMEOUT_MS;
  let preview: StepPreview | undefined;
  try {
    preview = await within(links.preview(run.app, step.name), timeoutMs);
  } catch (err) {
    deps.logger.warn('no diff for the approval message', { step: step.name, error: errorMessage(err) });
    return { ...message, diffUnavailable: `the diff could not be computed (${errorMessage(err)}): see the review page` };
  }
  if (!preview || preview.runId !== run.id || preview.step !== step.name)
    return { ...message, diffUnavailable: 'the step no longer waits for approval: see the review page' };
  const withDiff: Notification = { ...message, diff: preview.clusters.map(summarizeDiff) };
  const now = links.now();
  const expiresAt = linkExpiry(now, links.ttlMs ?? DEFAULT_LINK_TTL_MS, step.deadline);
  const recipients = linkRecipients(step.approval, links.tokens(), run.uploadedBy).filter((name) => carried.has(name));
  if (recipients.length === 0 || expiresAt <= now) return withDiff;
  const bound = { app: run.app, runId: run.id, step: step.name, digest: preview.digest, policyVersion: preview.policyVersion };
  try {
    const minted = await Promise.all(
      recipients.map(async (recipient) => {
        const token = randomBytes(32).toString('base64url');
        const link: ApprovalLink = { hash: linkHash(token), ...bound, recipient, createdAt: now, expiresAt };
        if (!(await links.store.put(link))) throw new Error('a link with the same hash exists already');
        return { recipient, url: links.url(token), expiresAt };
      }),
    );
    deps.logger.info('one-time links minted', { step: step.name, recipients, expiresAt });
    return { ...withDiff, links: minted };
  } catch (err) {
    deps.logger.warn('one-time links not minted: the message carries the review page link', { step: step.name, error: errorMessage(err) });
    return withDiff;
  }
}

/** Hex SHA-256 of a link's token: all a store ever keeps of it. */
export function linkHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const shorten = (value: unknown): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
};

/** One cluster's diff as a message (and the link's confirm page) shows it. */
export function summarizeDiff(cluster: StepPreview['clusters'][number]): ClusterDiffSummary {
  const count = (action: ObjectPreview['action']) => cluster.objects.filter((o) => o.action === action).length;
  const notable = cluster.objects.flatMap((o) =>
    o.fields
      .filter((f) => f.notable)
      .map(
        (f) =>
          `${o.ref.kind} ${o.ref.name}: ${f.path} ${f.before === undefined ? '' : `${shorten(f.before)} → `}${f.after === undefined ? 'removed' : shorten(f.after)}`,
      ),
  );
  return {
    cluster: cluster.cluster,
    added: count('add'),
    changed: count('change'),
    pruned: count('prune'),
    notable:
      notable.length > NOTABLE_PER_CLUSTER
        ? [...notable.slice(0, NOTABLE_PER_CLUSTER), `… ${notable.length - NOTABLE_PER_CLUSTER} more`]
        : notable,
    ...(cluster.error ? { error: cluster.error } : {}),
  };
}
