import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { AddressHealth, GtmInstanceConfig, GtmMonitor, GtmPool, GtmStore, GtmStrategy } from './state.ts';

/**
 * The emulator's instance on disk, so that a restarted local twin finds the pools, monitors,
 * strategies and health verdicts GTM held before: an atomic JSON snapshot (written to a temporary
 * file, then renamed over the old one) after every write action and every health transition. A
 * reader sees the previous snapshot or the next one, never half of one. A file that cannot be read,
 * or that another format wrote, is refused with its name; it is never replaced silently.
 */
const GTM_STATE_FORMAT = 1;

export interface GtmSnapshot {
  format: typeof GTM_STATE_FORMAT;
  instanceId: string;
  createdAt: number;
  config: GtmInstanceConfig;
  pools: GtmPool[];
  monitors: GtmMonitor[];
  strategies: GtmStrategy[];
  health: Array<[string, AddressHealth]>;
}

export class GtmStateError extends Error {
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`GTM emulator state file ${path} ${problem}`, options);
    this.name = 'GtmStateError';
  }
}

const withId = z.looseObject({ id: z.string() });
// The envelope is checked; the records inside are the emulator's own, written by `snapshotOf`.
const snapshotSchema = z.object({
  format: z.literal(GTM_STATE_FORMAT),
  instanceId: z.string().min(1),
  createdAt: z.number(),
  config: z.looseObject({ ttl: z.number(), cnameType: z.string(), alertConfig: z.array(z.unknown()) }),
  pools: z.array(withId.extend({ addresses: z.array(z.looseObject({ addr: z.string() })) })),
  monitors: z.array(withId.extend({ poolId: z.string() })),
  strategies: z.array(withId),
  health: z.array(z.tuple([z.string(), z.looseObject({ healthy: z.boolean() })])),
});

export function snapshotOf(store: GtmStore): GtmSnapshot {
  return {
    format: GTM_STATE_FORMAT,
    instanceId: store.instanceId,
    createdAt: store.createdAt,
    config: store.config,
    pools: [...store.pools.values()],
    monitors: [...store.monitors.values()],
    strategies: [...store.strategies.values()],
    health: [...store.health.entries()],
  };
}

export function restoreInto(store: GtmStore, snapshot: GtmSnapshot): void {
  store.config = snapshot.config;
  for (const pool of snapshot.pools) store.pools.set(pool.id, pool);
  for (const monitor of snapshot.monitors) store.monitors.set(monitor.id, monitor);
  for (const strategy of snapshot.strategies) store.strategies.set(strategy.id, strategy);
  for (const [key, health] of snapshot.health) store.health.set(key, health);
}

/** A generation's snapshot file: its format tag, the envelope it must have, and the other generation's tag. */
export interface SnapshotFileFormat {
  format: number | string;
  /** What "this tricenter reads ..." says of it. */
  reads: string;
  schema: z.ZodType;
  /** The other generation's format tag, refused with the --gtm-version that resumes it. */
  other: { format: number | string; gtmVersion: string };
}

const GTM_FILE: SnapshotFileFormat = {
  format: GTM_STATE_FORMAT,
  reads: `format ${GTM_STATE_FORMAT}`,
  schema: snapshotSchema,
  other: { format: 'cloudgtm/1', gtmVersion: '3.0' },
};

/** The saved instance, or undefined when there is no file (a first start). */
export function readGtmState(path: string, options: { mustExist?: boolean } = {}): GtmSnapshot | undefined {
  return readSnapshotFile(path, GTM_FILE, options) as GtmSnapshot | undefined;
}

export function writeGtmState(path: string, snapshot: GtmSnapshot): void {
  writeSnapshotFile(path, snapshot);
}

/**
 * A snapshot of either generation, or undefined when there is no file: refused with the file's name
 * when it is unreadable, of the other generation or another format, or not the envelope it must be.
 */
export function readSnapshotFile(path: string, file: SnapshotFileFormat, options: { mustExist?: boolean }): unknown {
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
  const { gtmVersion } = file.other;
  if (format === file.other.format)
    throw new GtmStateError(path, `holds a GTM ${gtmVersion} instance: start it with --gtm-version ${gtmVersion} to resume it`);
  if (format !== file.format) throw new GtmStateError(path, `has format ${JSON.stringify(format)}; this tricenter reads ${file.reads}`);
  const parsed = file.schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GtmStateError(path, `is damaged: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected content'}`);
  }
  return raw;
}

/** Written to a temporary file, then renamed over the old one: a reader sees one snapshot or the next, never half. */
export function writeSnapshotFile(path: string, snapshot: unknown): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(snapshot));
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
