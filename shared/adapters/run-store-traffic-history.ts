import { ConflictError } from '../core/errors.ts';
import type { AppRef } from '../model/ownership.ts';
import type { RunStore } from '../ports/run-store.port.ts';
import type { StoredTrafficRecord, TrafficHistoryStore, TrafficRecord } from '../ports/traffic-history.port.ts';

/**
 * The traffic history kept in the application's record of the run store (Tablestore in the cloud,
 * SQLite locally): no extra table to provision, and the same code in both places. Writes are
 * conditional on the record's version; a workflow write in between makes one traffic round go
 * unrecorded (the reconciler logs it), which only delays an address removal by a round.
 */
export class RunStoreTrafficHistory implements TrafficHistoryStore {
  constructor(private readonly store: RunStore) {}

  async get(app: AppRef): Promise<StoredTrafficRecord | undefined> {
    const record = await this.store.getApp(app);
    return record?.traffic ? { record: record.traffic, version: record.version } : undefined;
  }

  async put(app: AppRef, traffic: TrafficRecord, expectedVersion: number | null): Promise<number> {
    const record = await this.store.getApp(app);
    if (!record) throw new ConflictError(`application ${app.namespace}/${app.name} has no record: traffic follows a release`);
    const current = record.traffic ? record.version : null;
    if (current !== expectedVersion && !(expectedVersion === null && !record.traffic)) {
      throw new ConflictError(`traffic history of ${app.namespace}/${app.name} changed meanwhile (expected version ${expectedVersion ?? 'none'})`);
    }
    const saved = await this.store.saveApp({ ...record, traffic }, record.version);
    return saved.version;
  }
}
