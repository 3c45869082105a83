import { errorMessage, isTricenterError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/log.ts';
import type { NotificationOutbox, OutboxEntry } from '../ports/notification-outbox.port.ts';
import type { Notifier } from '../ports/notifier.port.ts';
import type { RunStore } from '../ports/run-store.port.ts';
import { isEnded } from '../workflow/run.ts';
import { DEFAULT_OUTBOX_FIRST_RETRY_MS, type OutboxSettings } from './notify.ts';

/**
 * Sends again what a channel did not take (notify.ts queued it in the outbox), once per deploy-step
 * timer round: each due entry is claimed (conditional on its version, so of two timer instances
 * one sends it), sent once to its channel, then marked sent, or put back with a growing delay
 * (1 min, 2, 4... at most 30 min), or given up for good when the channel refuses it (retrying will
 * not help), is no longer configured, or has not been sent within `giveUpAfterMs` (24 h: a message
 * found older than that is not sent at all). A "waiting for
 * approval" or reminder message whose step no longer waits (decided, timed out, the run ended) is
 * dropped rather than sent late; decisions and ends of runs are always sent. Logs name the channel,
 * the run and the kind, never a URL or secret. Never throws: the sweep has run, drift comes next.
 */
export interface RedeliveryDeps {
  store: Pick<RunStore, 'getRun'>;
  logger: Logger;
  notifications?: { notifiers: readonly Notifier[]; outbox?: OutboxSettings };
}

export interface RedeliveryRound {
  due: number;
  sent: number;
  rescheduled: number;
  dropped: number;
  givenUp: number;
  /** Entries another round claimed first, or whose claim could not be settled (it is due again after its lease). */
  skipped: number;
}

const DEFAULT_OUTBOX_GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000;
const MAX_RETRY_DELAY_MS = 30 * 60 * 1000;
/** A claimant that dies leaves its entry due again after this long (longer than one send may take). */
const LEASE_MS = 5 * 60 * 1000;
const ROUND_LIMIT = 50;

export async function redeliverNotifications(deps: RedeliveryDeps): Promise<RedeliveryRound | undefined> {
  const outbox = deps.notifications?.outbox;
  if (!outbox) return undefined;
  const round: RedeliveryRound = { due: 0, sent: 0, rescheduled: 0, dropped: 0, givenUp: 0, skipped: 0 };
  let due: OutboxEntry[];
  try {
    due = await outbox.store.listDue(outbox.now(), ROUND_LIMIT);
  } catch (err) {
    deps.logger.warn('notification outbox could not be read: the next round tries again', { error: errorMessage(err) });
    return round;
  }
  round.due = due.length;
  const notifiers = deps.notifications?.notifiers ?? [];
  await Promise.all(
    due.map(async (entry) => {
      try {
        round[await redeliver(deps, outbox, notifiers, entry)] += 1;
      } catch (err) {
        round.skipped += 1;
        deps.logger.warn('notification redelivery failed: due again after its lease', { ...fieldsOf(entry), error: errorMessage(err) });
      }
    }),
  );
  if (round.due > 0) deps.logger.info('notification outbox round', { ...round });
  return round;
}

async function redeliver(
  deps: RedeliveryDeps,
  outbox: OutboxSettings,
  notifiers: readonly Notifier[],
  entry: OutboxEntry,
): Promise<Exclude<keyof RedeliveryRound, 'due'>> {
  const store: NotificationOutbox = outbox.store;
  const claimed = await store.claim(entry, outbox.now() + LEASE_MS);
  if (!claimed) return 'skipped';
  const fields = fieldsOf(claimed);
  const settle = async (state: 'sent' | 'dropped' | 'given-up', reason?: string) => {
    if (!(await store.settle(claimed, state, outbox.now(), reason))) {
      deps.logger.warn('notification outbox entry changed meanwhile: not settled', { ...fields, state });
    }
  };
  const notifier = notifiers.find((n) => n.name === claimed.channel);
  if (!notifier) {
    await settle('given-up', 'the channel is no longer configured');
    deps.logger.warn('notification given up for good: the channel is no longer configured', fields);
    return 'givenUp';
  }
  const giveUpAfterMs = outbox.giveUpAfterMs ?? DEFAULT_OUTBOX_GIVE_UP_AFTER_MS;
  if (outbox.now() - claimed.createdAt >= giveUpAfterMs) {
    // Not sent for so long (the timer stopped, say): too late to be news.
    await settle('given-up', `not sent within ${Math.round(giveUpAfterMs / 60_000)} min: ${claimed.lastError}`);
    deps.logger.warn('notification given up for good: too old', { ...fields, attempts: claimed.attempts });
    return 'givenUp';
  }
  const moved = await movedOn(deps, claimed);
  if (moved) {
    await settle('dropped', moved);
    deps.logger.info('notification dropped: the run has moved on', { ...fields, reason: moved });
    return 'dropped';
  }
  try {
    await notifier.send(claimed.message);
  } catch (err) {
    const error = errorMessage(err);
    const retryable = !isTricenterError(err) || err.retryable;
    const now = outbox.now();
    if (!retryable || now - claimed.createdAt >= giveUpAfterMs) {
      await settle('given-up', error);
      deps.logger.warn('notification given up for good', { ...fields, attempts: claimed.attempts, error });
      return 'givenUp';
    }
    const delay = Math.min(MAX_RETRY_DELAY_MS, (outbox.firstRetryMs ?? DEFAULT_OUTBOX_FIRST_RETRY_MS) * 2 ** (claimed.attempts - 1));
    if (!(await store.reschedule(claimed, now + delay, error))) return 'skipped';
    deps.logger.info('notification failed again: rescheduled', { ...fields, attempts: claimed.attempts, delayMs: delay, error });
    return 'rescheduled';
  }
  await settle('sent');
  deps.logger.info('notification sent late', { ...fields, attempts: claimed.attempts });
  return 'sent';
}

/** Why a message about a waiting step is no longer worth sending; undefined when it is (or it is not about a waiting step). */
async function movedOn(deps: RedeliveryDeps, entry: OutboxEntry): Promise<string | undefined> {
  const { kind, runId, step } = entry.message;
  if (kind !== 'waiting-for-approval' && kind !== 'reminder') return undefined;
  const run = await deps.store.getRun(runId);
  if (!run) return 'the run is gone';
  if (isEnded(run)) return `the run ended (${run.phase})`;
  const state = run.steps.find((s) => s.name === step);
  if (state?.phase !== 'suspended' || state.awaiting !== 'approval') return `step ${step ?? '-'} no longer waits for approval`;
  return undefined;
}

function fieldsOf(entry: OutboxEntry) {
  return { channel: entry.channel, kind: entry.message.kind, runId: entry.message.runId, step: entry.message.step };
}
