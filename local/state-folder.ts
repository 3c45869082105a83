import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { TricenterError } from '#shared/platform/errors.ts';
import type { Logger } from '#shared/platform/log.ts';
import { GtmStateError } from '#sandbox/gtm/persistence.ts';
import { SandboxStateError } from '#sandbox/kube/journal.ts';

/**
 * The local twin's state folder (default `.tricenter`), kept across restarts so that a twin that
 * crashed (or was stopped) resumes its runs, approvals, bucket, GTM and simulated clusters:
 *
 *   twin.json         the manifest: format, what the clusters are, secrets (tokens, HMAC, GTM key), ports
 *   lock              `{"pid": N}` of the `local up` using the folder
 *   state.db          the run store (SQLite)          bucket/    the folder bucket
 *   gtm-state.json    the GTM emulator's instance     sandbox/objects.db   the simulated clusters
 *
 * Nothing here is ever wiped except on request (`--fresh`): a folder that cannot be resumed
 * (damaged file, other format, other kind of clusters) is refused with the file named and what
 * to do.
 */
const STATE_FORMAT = 1;
export const MANIFEST_FILE = 'twin.json';
export const LOCK_FILE = 'lock';
export const RUN_STORE_FILE = 'state.db';
const BUCKET_DIR = 'bucket';
export const GTM_STATE_FILE = 'gtm-state.json';
export const SANDBOX_STATE_FILE = join('sandbox', 'objects.db');
const ENDPOINTS_FILE = 'endpoints.json';

/** What `--fresh` removes (logs stay). */
const STATE_ENTRIES = [
  MANIFEST_FILE,
  RUN_STORE_FILE,
  `${RUN_STORE_FILE}-wal`,
  `${RUN_STORE_FILE}-shm`,
  BUCKET_DIR,
  GTM_STATE_FILE,
  SANDBOX_STATE_FILE,
  `${SANDBOX_STATE_FILE}-wal`,
  `${SANDBOX_STATE_FILE}-shm`,
  ENDPOINTS_FILE,
];

export class StateFolderError extends TricenterError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONFLICT', message, options);
  }
}

const FRESH_HINT = 'start with --fresh to wipe the state folder (or move it away to keep it)';

const clustersSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sandbox') }),
  z.object({ kind: z.literal('kubeconfig'), path: z.string() }),
]);
const manifestSchema = z.object({
  format: z.literal(STATE_FORMAT),
  createdAt: z.number(),
  clusters: clustersSchema,
  approval: z.object({
    port: z.number().int().min(0).max(65535).optional(),
    tokens: z
      .array(
        z.object({
          name: z.string().min(1),
          token: z.string().min(16),
          scope: z.enum(['viewer', 'approver']),
          groups: z.array(z.string().min(1)).optional(),
          ossPrincipals: z.array(z.string().min(1)).optional(),
        }),
      )
      .min(1),
    hmacSecret: z.string().min(16),
  }),
  gtm: z.object({ accessKeyId: z.string().min(1), accessKeySecret: z.string().min(16) }),
});

export type StateManifest = z.infer<typeof manifestSchema>;
export type StateClusters = StateManifest['clusters'];

/** A new manifest with fresh secrets. */
function newManifest(clusters: StateClusters, tokenName: string, now: number): StateManifest {
  return {
    format: STATE_FORMAT,
    createdAt: now,
    clusters,
    approval: {
      tokens: [{ name: tokenName, token: randomBytes(24).toString('base64url'), scope: 'approver' }],
      hmacSecret: randomBytes(24).toString('base64url'),
    },
    gtm: { accessKeyId: 'local-access-key', accessKeySecret: randomBytes(18).toString('base64url') },
  };
}

/**
 * The folder's manifest, or undefined for a folder that holds no state (a first start).
 * Throws StateFolderError for a damaged manifest, another format, state files without a manifest,
 * and a folder that was used with the other kind of clusters.
 */
export function readManifest(dir: string, clusters: StateClusters): StateManifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    const leftovers = STATE_ENTRIES.filter((entry) => entry !== ENDPOINTS_FILE && existsSync(join(dir, entry)));
    if (leftovers.length === 0) return undefined;
    throw new StateFolderError(
      `state folder ${dir} holds ${leftovers.join(', ')} but no ${MANIFEST_FILE} (written by an older tricenter, or ${MANIFEST_FILE} was deleted): it cannot be resumed; ${FRESH_HINT}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new StateFolderError(
      `state file ${path} is not valid JSON (${err instanceof Error ? err.message : String(err)}): it is truncated or damaged; ${FRESH_HINT}`,
      { cause: err },
    );
  }
  const format = typeof raw === 'object' && raw !== null ? (raw as { format?: unknown }).format : undefined;
  if (format !== STATE_FORMAT) {
    throw new StateFolderError(
      `state folder ${dir} has format ${JSON.stringify(format)} (in ${path}); this tricenter reads format ${STATE_FORMAT}: use the tricenter that wrote it, or ${FRESH_HINT}`,
    );
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StateFolderError(
      `state file ${path} is damaged (${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unexpected content'}); ${FRESH_HINT}`,
    );
  }
  const manifest = parsed.data;
  if (manifest.clusters.kind !== clusters.kind) {
    const was = manifest.clusters.kind === 'sandbox' ? 'simulated clusters' : `the clusters of ${manifest.clusters.path}`;
    throw new StateFolderError(
      `state folder ${dir} was used with ${was}; its runs do not describe these clusters: use another --dir, or ${FRESH_HINT}`,
    );
  }
  return manifest;
}

/** The locked state folder a twin runs on, and what it held. */
export interface StateFolder {
  dir: string;
  manifest: StateManifest;
  resumed: boolean;
  /** Writes the manifest again (after the approval API got its port). */
  save(): void;
}

export interface StateFolderOptions {
  /** Absolute. */
  dir: string;
  fresh: boolean;
  /** The name of the approval token a new manifest gets. */
  tokenName: string;
  now: number;
  logger: Logger;
}

/**
 * Locks the state folder, wipes it when asked, reads (or creates) its manifest, and starts the
 * twin on it; the lock goes when the twin stops or fails to start.
 */
export async function withStateFolder<T extends { stop(): Promise<void> }>(
  options: StateFolderOptions,
  clusters: StateClusters,
  start: (folder: StateFolder) => Promise<T>,
): Promise<T> {
  const { dir } = options;
  const lock = lockStateFolder(dir);
  try {
    if (options.fresh) wipeState(dir);
    const saved = readManifest(dir, clusters);
    const manifest = saved ?? newManifest(clusters, options.tokenName, options.now);
    // A new one is written before anything else: the other state files are only ever found beside a manifest.
    if (!saved) writeManifest(dir, manifest);
    options.logger.info(saved ? 'resuming the state folder' : 'new state folder', { dir, fresh: options.fresh });
    const started = await start({ dir, manifest, resumed: saved !== undefined, save: () => writeManifest(dir, manifest) });
    return {
      ...started,
      stop: async () => {
        await started.stop();
        lock.release();
      },
    };
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** The sandbox's and the emulator's own state errors, with what to do about them. */
export function explainStateError(err: unknown): never {
  if (err instanceof SandboxStateError || err instanceof GtmStateError)
    throw new StateFolderError(`${err.message}; ${FRESH_HINT}`, { cause: err });
  throw err;
}

/** Writes the manifest atomically (temporary file, then rename), readable by its owner only: it holds secrets. */
function writeManifest(dir: string, manifest: StateManifest): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, MANIFEST_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

/** Removes every state file of the folder (what `--fresh` asks for); the lock and logs stay. */
function wipeState(dir: string): void {
  for (const entry of STATE_ENTRIES) rmSync(join(dir, entry), { recursive: true, force: true });
}

/**
 * Checks the run store's SQLite file before it is opened: a damaged file is refused with its name
 * (SQLite would otherwise fail on the first query, deep inside a handler), and so is a missing or
 * empty one when the manifest says the twin ran before (opening it would start an empty store).
 */
export function checkRunStoreFile(path: string, mustExist: boolean): void {
  if (!existsSync(path) || statSync(path).size === 0) {
    if (mustExist)
      throw new StateFolderError(
        `state file ${path} is missing or empty, but ${MANIFEST_FILE} says the twin ran before: its runs are lost; ${FRESH_HINT}`,
      );
    return;
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
    const runs = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'runs'").get() as { n: number };
    if (runs.n === 0) throw new Error('it has no runs table');
  } catch (err) {
    throw new StateFolderError(
      `state file ${path} cannot be read as the run store (${err instanceof Error ? err.message : String(err)}); ${FRESH_HINT}`,
      { cause: err },
    );
  } finally {
    db?.close();
  }
}

export interface StateLock {
  /** Removes the lock file if it is still this process's. */
  release(): void;
}

interface LockHolder {
  pid: number;
}

/**
 * Takes the folder's lock file: one `local up` per state folder. The file is made complete under
 * a temporary name and linked into place, so it either exists with its pid or not at all. A lock
 * whose pid is dead (a twin killed with -9) is taken over: moved aside, checked to be the one we
 * judged dead (another process may have taken it over meanwhile: then it is put back), removed.
 */
export function lockStateFolder(dir: string): StateLock {
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, LOCK_FILE);
  const temp = join(dir, `.${LOCK_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(temp, `${JSON.stringify({ pid: process.pid })}\n`);
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      if (tryLink(temp, lockPath)) return { release: () => releaseLock(lockPath) };
      const holder = readHolder(lockPath);
      if (holder === 'absent') continue;
      if (holder === 'unreadable') {
        throw new StateFolderError(
          `lock file ${lockPath} is not a tricenter lock: if no tricenter uses ${dir}, delete ${lockPath} and start again`,
        );
      }
      if (isAlive(holder.pid)) {
        throw new StateFolderError(
          `state folder ${dir} is in use by another tricenter local up (pid ${holder.pid}, see ${lockPath}): stop it first, or use another --dir`,
        );
      }
      const aside = join(dir, `.${LOCK_FILE}.stale.${process.pid}.${randomBytes(4).toString('hex')}`);
      try {
        renameSync(lockPath, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = readHolder(aside);
      if (typeof moved === 'object' && moved.pid !== holder.pid) tryLink(aside, lockPath);
      rmSync(aside, { force: true });
    }
    throw new StateFolderError(`could not take the lock ${lockPath}: other processes keep taking it`);
  } finally {
    rmSync(temp, { force: true });
  }
}

function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function readHolder(path: string): LockHolder | 'absent' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { pid?: unknown };
    return typeof parsed.pid === 'number' && Number.isInteger(parsed.pid) && parsed.pid > 0 ? { pid: parsed.pid } : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseLock(lockPath: string): void {
  const holder = readHolder(lockPath);
  if (typeof holder === 'object' && holder.pid === process.pid) rmSync(lockPath, { force: true });
}
