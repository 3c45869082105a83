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
  /**
   * Whose one-time approval links this channel may carry: token names or `group:<name>` (expanded
   * through the approval token configuration). Absent or empty: none, only the page link; a link
   * posted where others read it lets them decide as its recipient.
   */
  readonly recipients?: readonly string[];
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
  /** "Waiting for approval": one one-time link per recipient (each decides as that recipient, once). */
  links?: Array<{ recipient: string; url: string; expiresAt: number }>;
  /** "Waiting for approval": what the step would change on each of its clusters (the review page's preview). */
  diff?: ClusterDiffSummary[];
  /** Why the message carries no diff (the preview failed or took too long): the review page still has it. */
  diffUnavailable?: string;
}

/** One cluster's diff in a message: counts, and the images and replica counts that change. */
export interface ClusterDiffSummary {
  cluster: string;
  added: number;
  changed: number;
  pruned: number;
  /** `Deployment web: spec.replicas 2 → 3`, at most a few. */
  notable: string[];
  /** The preview failed on this cluster. */
  error?: string;
}
