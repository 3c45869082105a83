import { DEFAULT_INGEST_STALE_AFTER_MS } from '#shared/delivery/model/records.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';

/**
 * The run store as the local twin's handlers see it: an ingest claimed before this process started
 * was claimed by a process that is dead (the state folder's lock admits one twin at a time, so it
 * was killed mid-ingest), and is taken over at once instead of after the usual stale delay, which
 * exists for cloud instances that may still be running. Claims this process makes keep the usual
 * rule. Everything else goes to the store unchanged.
 */
export function withEarlierClaimsStale(store: RunStore, startedAt: number): RunStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'claimIngest') {
        const claimIngest: RunStore['claimIngest'] = (key, now, options = {}) =>
          // Stale when claimedAt + staleAfterMs <= now: with this bound, exactly the claims made before startedAt.
          target.claimIngest(key, now, {
            staleAfterMs: Math.min(options.staleAfterMs ?? DEFAULT_INGEST_STALE_AFTER_MS, Math.max(0, now - startedAt + 1)),
          });
        return claimIngest;
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
