import { errorMessage, isTricenterError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/log.ts';
import type { AppRef } from '../model/ownership.ts';
import type { Notification, Notifier } from '../ports/notifier.port.ts';
import type { Effect, Run } from '../workflow/run.ts';

/**
 * Tells people about a run from the decider's effects: a step waits for approval (with the review
 * page's link and what the step deploys where), a reminder, the step approved or rejected, the run
 * ended (succeeded, failed, timed out, terminated). Every channel gets each message on its own,
 * side by side; a channel that fails is retried a few times (a refusal that says retrying will not
 * help is not) and then given up, logged by its name only. Nothing here ever throws: the workflow
 * has already moved on and never waits for a chat robot.
 */
export interface NotifyDeps {
  notifiers: readonly Notifier[];
  logger: Logger;
  /** The review page of an application, when the approval endpoint is known. */
  reviewLink?: (app: AppRef) => string;
  /** Waits between attempts (tests pass one that does not wait). */
  sleep?: (ms: number) => Promise<void>;
  /** Delays before the 2nd, 3rd... attempt (default 0.5 s, 2 s). */
  retryDelaysMs?: readonly number[];
}

const DEFAULT_RETRY_DELAYS_MS = [500, 2000];

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

/** Sends every message to every channel; resolves when each was delivered or given up. Never rejects. */
export async function notify(deps: NotifyDeps, notifications: readonly Notification[]): Promise<void> {
  if (notifications.length === 0 || deps.notifiers.length === 0) return;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const delays = deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const deliveries = deps.notifiers.flatMap((notifier) =>
    notifications.map(async (notification) => {
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
