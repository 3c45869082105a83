import { ConflictError } from '../../core/errors.ts';
import { appKey, type AppRef } from '../../model/ownership.ts';
import type { StoredTrafficRecord, TrafficHistoryStore, TrafficRecord } from '../../ports/traffic-history.port.ts';

/**
 * An in-memory TrafficHistoryStore for planner and reconcile tests and the traffic bench. The
 * functions keep the history in the run store's app record (RunStoreTrafficHistory).
 * Documents are copied in and out, so callers never share state with the store.
 */
export class MemoryTrafficHistoryStore implements TrafficHistoryStore {
  private readonly rows = new Map<string, StoredTrafficRecord>();

  async get(app: AppRef): Promise<StoredTrafficRecord | undefined> {
    const row = this.rows.get(appKey(app));
    return row && structuredClone(row);
  }

  async put(app: AppRef, record: TrafficRecord, expectedVersion: number | null): Promise<number> {
    const key = appKey(app);
    const current = this.rows.get(key)?.version ?? null;
    if (current !== expectedVersion) throw new ConflictError(`traffic history of ${key} is at version ${current ?? 'none'}, not ${expectedVersion ?? 'none'}`);
    const version = (current ?? 0) + 1;
    this.rows.set(key, { record: structuredClone(record), version });
    return version;
  }
}
