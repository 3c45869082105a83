import { z } from 'zod';
import { readSnapshotFile, type SnapshotFileFormat, writeSnapshotFile } from '../persistence.ts';
import type { CloudAddress, CloudGtmStore, CloudPool, InstanceConfig, MonitorTemplate, TaskHealth } from './model.ts';

/**
 * The GTM 3.0 instance on disk, like the 2.0 one (../persistence.ts): an atomic JSON snapshot
 * after every write action and every health transition; a restarted emulator resumes from it. A
 * file of the other generation is refused with what to do, never read as this one.
 */
const CLOUD_GTM_STATE_FORMAT = 'cloudgtm/1';

export interface CloudGtmSnapshot {
  format: typeof CLOUD_GTM_STATE_FORMAT;
  instanceId: string;
  createdAt: number;
  templates: MonitorTemplate[];
  addresses: CloudAddress[];
  pools: CloudPool[];
  configs: InstanceConfig[];
  health: Array<[string, TaskHealth]>;
  sticky: Array<[string, string]>;
}

const withId = z.looseObject({ id: z.string() });
// The envelope is checked; the records inside are the emulator's own, written by `cloudSnapshotOf`.
const snapshotSchema = z.object({
  format: z.literal(CLOUD_GTM_STATE_FORMAT),
  instanceId: z.string().min(1),
  createdAt: z.number(),
  templates: z.array(withId),
  addresses: z.array(withId.extend({ address: z.string(), healthTasks: z.array(z.looseObject({ templateId: z.string() })) })),
  pools: z.array(withId.extend({ addresses: z.array(withId) })),
  configs: z.array(withId.extend({ pools: z.array(withId) })),
  health: z.array(z.tuple([z.string(), z.looseObject({ healthy: z.boolean() })])),
  sticky: z.array(z.tuple([z.string(), z.string()])),
});

export function cloudSnapshotOf(store: CloudGtmStore): CloudGtmSnapshot {
  return {
    format: CLOUD_GTM_STATE_FORMAT,
    instanceId: store.instanceId,
    createdAt: store.createdAt,
    templates: [...store.templates.values()],
    addresses: [...store.addresses.values()],
    pools: [...store.pools.values()],
    configs: [...store.configs.values()],
    health: [...store.health.entries()],
    sticky: [...store.sticky.entries()],
  };
}

export function restoreCloudInto(store: CloudGtmStore, snapshot: CloudGtmSnapshot): void {
  for (const template of snapshot.templates) store.templates.set(template.id, template);
  for (const address of snapshot.addresses) store.addresses.set(address.id, address);
  for (const pool of snapshot.pools) store.pools.set(pool.id, pool);
  for (const config of snapshot.configs) store.configs.set(config.id, config);
  for (const [key, health] of snapshot.health) store.health.set(key, health);
  for (const [owner, member] of snapshot.sticky) store.sticky.set(owner, member);
}

const CLOUD_GTM_FILE: SnapshotFileFormat = {
  format: CLOUD_GTM_STATE_FORMAT,
  reads: `${JSON.stringify(CLOUD_GTM_STATE_FORMAT)} for GTM 3.0`,
  schema: snapshotSchema,
  other: { format: 1, gtmVersion: '2.0' },
};

/** The saved 3.0 instance, or undefined when there is no file (a first start). */
export function readCloudGtmState(path: string, options: { mustExist?: boolean } = {}): CloudGtmSnapshot | undefined {
  return readSnapshotFile(path, CLOUD_GTM_FILE, options) as CloudGtmSnapshot | undefined;
}

export function writeCloudGtmState(path: string, snapshot: CloudGtmSnapshot): void {
  writeSnapshotFile(path, snapshot);
}
