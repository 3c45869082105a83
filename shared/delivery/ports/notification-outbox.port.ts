import type { OutboxState } from '../model/outbox-entry.ts';
import type { Notification } from './notifier.port.ts';

/**
 * Messages a channel did not take after notify's in-process attempts, kept to be sent again by the
 * deploy-step timer (usecases/redeliver-notifications.ts). One row per run, effect and channel
 * (`key`): adding is create-if-absent, so a retried effect is not queued twice. Every change after
 * that is conditional on the row's `version`: of two timer instances that list the same row, one
 * claims it and the other's claim fails. A row that was sent, dropped or given up stays as a
 * tombstone (state and last error, visible in the table), so the same effect retried later is not
 * queued again; only failed messages ever land here.
 */
export interface NotificationOutbox {
  /** Stores a new pending entry (version 1); false, and nothing written, when one with that key exists in any state. */
  add(entry: NewOutboxEntry): Promise<boolean>;
  /** Pending entries whose `dueAt` is at or before `now`, oldest due first, at most `limit`. */
  listDue(now: number, limit: number): Promise<OutboxEntry[]>;
  /**
   * Claims a pending entry for one attempt: only if it still has `entry.version`. The claimed
   * entry is due again at `leaseUntil` (a claimant that dies leaves it to a later round), with one
   * more attempt counted. Undefined when another claimant got there first or it is no longer pending.
   */
  claim(entry: OutboxEntry, leaseUntil: number): Promise<OutboxEntry | undefined>;
  /** Ends a claimed entry (sent, dropped, given up): only if it still has `claimed.version`. */
  settle(claimed: OutboxEntry, state: Exclude<OutboxState, 'pending'>, now: number, lastError?: string): Promise<boolean>;
  /** Puts a claimed entry back, due at `dueAt`: only if it still has `claimed.version`. */
  reschedule(claimed: OutboxEntry, dueAt: number, lastError: string): Promise<boolean>;
  /** The entry as stored, in any state; undefined when unknown. */
  get(key: string): Promise<OutboxEntry | undefined>;
}

export type { OutboxState } from '../model/outbox-entry.ts';

/** What notify writes: the message as the channel gets it, without one-time link URLs (they carry tokens). */
export interface NewOutboxEntry {
  /** `<runId>/<kind>/<step>/<channel>` (reminders: the step's next reminder time too). */
  key: string;
  /** The channel's name (Notifier.name): the message goes to that channel only. */
  channel: string;
  message: Notification;
  createdAt: number;
  dueAt: number;
  /** Why the in-process attempts failed (an error message, never a URL or secret). */
  lastError: string;
}

export interface OutboxEntry extends NewOutboxEntry {
  state: OutboxState;
  /** Redelivery attempts claimed so far. */
  attempts: number;
  version: number;
  /** When the entry left `pending`. */
  settledAt?: number;
}
