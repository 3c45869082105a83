/**
 * What each change of a notification outbox entry writes (ports/notification-outbox.port.ts), the
 * same for every adapter: the adapter only makes the write conditional on the version read.
 */
export type OutboxState = 'pending' | 'sent' | 'dropped' | 'given-up';

/** The fields the changes compute on; the entry's other fields are carried through unchanged. */
interface OutboxRecord {
  state: OutboxState;
  dueAt: number;
  attempts: number;
  version: number;
  lastError: string;
  settledAt?: number;
}

/** A new entry as `add` stores it: pending, no attempt yet, version 1. */
export function freshOutboxEntry<E extends Omit<OutboxRecord, 'state' | 'attempts' | 'version'>>(
  fresh: E,
): E & Pick<OutboxRecord, 'state' | 'attempts' | 'version'> {
  return { ...fresh, state: 'pending', attempts: 0, version: 1 };
}

/** The entry claimed for one attempt, due again at `leaseUntil`; undefined when it is no longer pending. */
export function claimedOutboxEntry<E extends OutboxRecord>(entry: E, leaseUntil: number): E | undefined {
  if (entry.state !== 'pending') return undefined;
  return { ...entry, dueAt: leaseUntil, attempts: entry.attempts + 1, version: entry.version + 1 };
}

/** The claimed entry ended (sent, dropped, given up) at `now`. */
export function settledOutboxEntry<E extends OutboxRecord>(
  claimed: E,
  state: Exclude<OutboxState, 'pending'>,
  now: number,
  lastError?: string,
): E {
  return {
    ...claimed,
    state,
    settledAt: now,
    ...(lastError !== undefined ? { lastError } : {}),
    version: claimed.version + 1,
  };
}

/** The claimed entry put back, due at `dueAt`. */
export function rescheduledOutboxEntry<E extends OutboxRecord>(claimed: E, dueAt: number, lastError: string): E {
  return { ...claimed, state: 'pending', dueAt, lastError, version: claimed.version + 1 };
}
