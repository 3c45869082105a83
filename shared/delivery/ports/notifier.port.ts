import type { AppRef } from '../model/ownership.ts';

/**
 * Where people hear about runs that wait for them: chat robots (DingTalk, Feishu) and generic
 * webhooks. A notification is one message to one channel; `send` resolves once the channel took
 * it and rejects with a TricenterError when it did not (`retryable` when trying again may help).
 * Delivery is never on the workflow's path: the notify use case retries and then gives up, logged.
 */
export interface Notifier {
  /** The channel's name, for logs (never its URL or secret). */
  readonly name: string;
  send(notification: Notification): Promise<void>;
}

type NotificationKind = 'waiting-for-approval' | 'reminder' | 'approved' | 'rejected' | 'timed-out' | 'succeeded' | 'failed' | 'terminated';

export interface Notification {
  kind: NotificationKind;
  app: AppRef;
  runId: string;
  publishVersion: string;
  /** The step the message is about (the one waiting for approval), when there is one. */
  step?: string;
  /** The step's clusters. */
  clusters?: string[];
  /** The review page (`/apps/{ns}/{name}/review` on the approval endpoint), when known. */
  link?: string;
  /** One line a person reads: what happened, or what the step still waits for. */
  summary: string;
}
