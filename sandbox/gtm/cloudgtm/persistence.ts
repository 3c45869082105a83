import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { GtmStateError } from '../persistence.ts';
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

/** The saved 3.0 instance, or undefined when there is no file (a first start). */
export function readCloudGtmState(path: string, options: { mustExist?: boolean } = {}): CloudGtmSnapshot | undefined {
  if (!existsSync(path)) {
    if (options.mustExist) throw new GtmStateError(path, 'is missing, but the state folder says GTM was saved there');
    return undefined;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new GtmStateError(path, `is not valid JSON (${err instanceof Error ? err.message : String(err)}): it is truncated or damaged`, {
      cause: err,
    });
  }
  const format = typeof raw === 'object' && raw !== null ? (raw as { format?: unknown }).format : undefined;
  if (format === 1) throw new GtmStateError(path, 'holds a GTM 2.0 instance: start it with --gtm-version 2.0 to resume it');
  if (format !== CLOUD_GTM_STATE_FORMAT)
    throw new GtmStateError(
      path,
      `has format ${JSON.stringify(format)}; this tricenter reads ${JSON.stringify(CLOUD_GTM_STATE_FORMAT)} for GTM 3.0`,
    );
  const parsed = snapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GtmStateError(path, `is damaged: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected content'}`);
  }
  return raw as CloudGtmSnapshot;
}

export function writeCloudGtmState(path: string, snapshot: CloudGtmSnapshot): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(snapshot));
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
