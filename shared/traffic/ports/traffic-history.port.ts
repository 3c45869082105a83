import type { AppRef } from '../../delivery/model/ownership.ts';
import type { StoredTrafficRecord, TrafficRecord } from '../domain/types.ts';

/**
 * Where the traffic reconciler keeps, per application, what it must remember between runs: the
 * absence counters of the planner and a cache of GTM settings it verified recently. One JSON
 * document per application with an integer version, in a record of its own (never the workflow's
 * application record, so traffic and workflow writes do not conflict); every write is conditional.
 * Adapters: the run stores' `trafficHistory` (a table beside theirs in Tablestore and SQLite);
 * in memory for tests: shared/traffic/adapters/local/traffic-history-stores.ts.
 */
export interface TrafficHistoryStore {
  get(app: AppRef): Promise<StoredTrafficRecord | undefined>;
  /**
   * `expectedVersion` null creates the document (ConflictError when it exists); a number replaces
   * it only at that version (ConflictError otherwise). Returns the new version.
   */
  put(app: AppRef, record: TrafficRecord, expectedVersion: number | null): Promise<number>;
}
