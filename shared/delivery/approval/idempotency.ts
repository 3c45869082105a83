import { TricenterError } from '../../platform/errors.ts';
import type { RunStore } from '../ports/run-store.port.ts';

/**
 * `Idempotency-Key` of the approval API (draft-ietf-httpapi-idempotency-key-header): a key is bound
 * to the first request that used it — application, action and the run it acted on — in the run
 * store, shared by every function instance. The same request again is a replay; any other request
 * with that key is refused (422), never executed and never answered with the first one's result.
 */

/** A key reused for a different request. */
export class IdempotencyKeyReused extends TricenterError {
  constructor(key: string, boundTo: string, requested: string) {
    super('CONFLICT', `Idempotency-Key "${key}" was first used for ${boundTo}; it cannot be reused for ${requested}: send a new key`);
  }
}

const KEY = /^[\x21-\x7e]{1,128}$/;

export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!KEY.test(value))
    throw new TricenterError('VALIDATION', 'header Idempotency-Key: expected 1 to 128 visible ASCII characters (a UUID, say)');
  return value;
}

/** Binds `key` to `request` on its first use; refuses it when it is bound to another request. */
export async function bindIdempotencyKey(store: RunStore, key: string, request: string, now: number): Promise<void> {
  const claim = await store.claimIdempotencyKey(key, request, now);
  if (claim.request !== request) throw new IdempotencyKeyReused(key, claim.request, request);
}
