import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { JsonObject } from './fieldpath.ts';

/**
 * Where simulated clusters keep their objects across restarts, like etcd's disk: one SQLite file
 * for every cluster of a sandbox. Each write goes through before the API answers (write-through,
 * in the same synchronous call as the in-memory change), so whatever a client was told was stored
 * is still there after a SIGKILL. The resourceVersion counter is saved with every write, so it
 * keeps growing across restarts (clients compare resourceVersions).
 *
 * Format: `PRAGMA user_version` = SANDBOX_STATE_FORMAT. A file of another format, or one that
 * is not a SQLite database, is refused with the file named; nothing is ever wiped here.
 */
const SANDBOX_STATE_FORMAT = 1;

interface SavedObject {
  /** The store's resource key, `<group>/<plural>`. */
  resource: string;
  key: string;
  object: JsonObject;
}

/** One cluster's part of the file: what its ObjectStore and Controllers write and read back. */
export interface ClusterJournal {
  /** The saved revision and objects; undefined for a cluster that was never written. */
  loadObjects(): { revision: number; objects: SavedObject[] } | undefined;
  putObject(resource: string, key: string, object: JsonObject, revision: number): void;
  removeObject(resource: string, key: string, revision: number): void;
  /** The pod template each Deployment serves (what ReplicaSets remember on a real cluster). */
  loadServing(): Map<string, JsonObject>;
  setServing(key: string, template: JsonObject | undefined): void;
}

/** A state file that cannot be used as it is: the message names the file and what to do. */
export class SandboxStateError extends Error {
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`sandbox state file ${path} ${problem}`, options);
    this.name = 'SandboxStateError';
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS clusters (name TEXT PRIMARY KEY, revision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (cluster TEXT NOT NULL, resource TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (cluster, resource, key));
CREATE TABLE IF NOT EXISTS serving (cluster TEXT NOT NULL, key TEXT NOT NULL, template TEXT NOT NULL, PRIMARY KEY (cluster, key));
`;

export interface SandboxStateOptions {
  /** The file must already hold a sandbox (a resumed twin): an empty or missing file is an error, not a fresh start. */
  mustExist?: boolean;
}

export class SandboxStateFile {
  private readonly db: Database.Database;

  private constructor(
    readonly path: string,
    db: Database.Database,
  ) {
    this.db = db;
  }

  static open(path: string, options: SandboxStateOptions = {}): SandboxStateFile {
    if (options.mustExist && (!existsSync(path) || statSync(path).size === 0)) {
      throw new SandboxStateError(path, 'is missing or empty, but the state folder says the clusters were saved there');
    }
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      const check = db.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new Error(String(check));
      const format = Number(db.pragma('user_version', { simple: true }));
      const hasTables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'objects'").get() as {
        n: number;
      };
      if (format === 0 && hasTables.n === 0) {
        if (options.mustExist) throw new SandboxStateError(path, 'holds no clusters, but the state folder says they were saved there');
        db.exec(SCHEMA);
        db.pragma(`user_version = ${SANDBOX_STATE_FORMAT}`);
      } else if (format !== SANDBOX_STATE_FORMAT) {
        throw new SandboxStateError(path, `has format ${format}; this tricenter reads format ${SANDBOX_STATE_FORMAT}`);
      }
      db.pragma('journal_mode = WAL');
      // A SIGKILL loses nothing a committed transaction wrote; only a power cut could lose the last few.
      db.pragma('synchronous = NORMAL');
      return new SandboxStateFile(path, db);
    } catch (err) {
      db?.close();
      if (err instanceof SandboxStateError) throw err;
      throw new SandboxStateError(path, `cannot be read (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  }

  cluster(name: string): ClusterJournal {
    const db = this.db;
    const revisionOf = db.prepare('SELECT revision FROM clusters WHERE name = ?');
    const objectsOf = db.prepare('SELECT resource, key, body FROM objects WHERE cluster = ?');
    const upsertObject = db.prepare(
      'INSERT INTO objects (cluster, resource, key, body) VALUES (?, ?, ?, ?) ON CONFLICT (cluster, resource, key) DO UPDATE SET body = excluded.body',
    );
    const deleteObject = db.prepare('DELETE FROM objects WHERE cluster = ? AND resource = ? AND key = ?');
    const saveRevision = db.prepare(
      'INSERT INTO clusters (name, revision) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET revision = excluded.revision',
    );
    const servingOf = db.prepare('SELECT key, template FROM serving WHERE cluster = ?');
    const upsertServing = db.prepare(
      'INSERT INTO serving (cluster, key, template) VALUES (?, ?, ?) ON CONFLICT (cluster, key) DO UPDATE SET template = excluded.template',
    );
    const deleteServing = db.prepare('DELETE FROM serving WHERE cluster = ? AND key = ?');
    const put = db.transaction((resource: string, key: string, object: JsonObject, revision: number) => {
      upsertObject.run(name, resource, key, JSON.stringify(object));
      saveRevision.run(name, revision);
    });
    const remove = db.transaction((resource: string, key: string, revision: number) => {
      deleteObject.run(name, resource, key);
      saveRevision.run(name, revision);
    });
    return {
      loadObjects: () => {
        const row = revisionOf.get(name) as { revision: number } | undefined;
        if (!row) return undefined;
        const rows = objectsOf.all(name) as Array<{ resource: string; key: string; body: string }>;
        return {
          revision: row.revision,
          objects: rows.map((r) => ({
            resource: r.resource,
            key: r.key,
            object: this.parse(r.body, `object ${r.key} of cluster ${name}`),
          })),
        };
      },
      putObject: (resource, key, object, revision) => put(resource, key, object, revision),
      removeObject: (resource, key, revision) => remove(resource, key, revision),
      loadServing: () =>
        new Map(
          (servingOf.all(name) as Array<{ key: string; template: string }>).map((r) => [
            r.key,
            this.parse(r.template, `serving template ${r.key} of cluster ${name}`),
          ]),
        ),
      setServing: (key, template) => {
        if (template === undefined) deleteServing.run(name, key);
        else upsertServing.run(name, key, JSON.stringify(template));
      },
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private parse(text: string, what: string): JsonObject {
    try {
      return JSON.parse(text) as JsonObject;
    } catch (err) {
      throw new SandboxStateError(this.path, `holds an unreadable ${what}`, { cause: err });
    }
  }
}
