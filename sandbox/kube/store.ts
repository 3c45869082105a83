import type { JsonObject } from './fieldpath.ts';
import type { ClusterJournal } from './journal.ts';
import type { ResourceType } from './resources.ts';

/**
 * One cluster's objects, like etcd behind kube-apiserver: a single resourceVersion counter for
 * every write, lists in key order, and a bounded history of changes so that a watch can resume
 * from a resourceVersion (or learn it is too old: 410 Expired, as from a compacted etcd).
 * With a journal, every write is saved before it is visible, and a restarted store continues
 * from the saved objects and revision; its history starts empty, as after an etcd compaction.
 */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: WatchEventType;
  resource: ResourceType;
  object: JsonObject;
  resourceVersion: number;
}

const HISTORY_LIMIT = 5000;

function resourceKey(type: ResourceType): string {
  return `${type.group}/${type.plural}`;
}

function objectKey(obj: JsonObject): string {
  const metadata = obj.metadata as JsonObject;
  return `${String(metadata.namespace ?? '')}/${String(metadata.name)}`;
}

export class ObjectStore {
  private revision = 1;
  private readonly objects = new Map<string, Map<string, JsonObject>>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  /** Watches from before this revision cannot be resumed (the history before a restart is gone). */
  private readonly historyStart: number = 0;

  constructor(private readonly journal?: ClusterJournal) {
    const saved = journal?.loadObjects();
    if (!saved) return;
    this.revision = saved.revision;
    this.historyStart = saved.revision;
    for (const { resource, key, object } of saved.objects) this.bucketOf(resource).set(key, object);
  }

  /** True when nothing was ever stored (not even restored from a journal). */
  isEmpty(): boolean {
    return this.objects.size === 0;
  }

  resourceVersion(): number {
    return this.revision;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): JsonObject | undefined {
    const found = this.objects.get(resourceKey(type))?.get(`${namespace ?? ''}/${name}`);
    return found ? structuredClone(found) : undefined;
  }

  list(type: ResourceType, namespace?: string): JsonObject[] {
    const all = this.objects.get(resourceKey(type));
    if (!all) return [];
    return [...all.entries()]
      .filter(([key]) => namespace === undefined || key.startsWith(`${namespace}/`))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, obj]) => structuredClone(obj));
  }

  /** Stores a new or changed object under the next resourceVersion and tells the watchers. */
  put(type: ResourceType, obj: JsonObject): JsonObject {
    const key = objectKey(obj);
    const bucket = this.bucketOf(resourceKey(type));
    const existed = bucket.has(key);
    const revision = this.revision + 1;
    (obj.metadata as JsonObject).resourceVersion = String(revision);
    this.journal?.putObject(resourceKey(type), key, obj, revision);
    this.revision = revision;
    bucket.set(key, structuredClone(obj));
    this.emit({ type: existed ? 'MODIFIED' : 'ADDED', resource: type, object: structuredClone(obj), resourceVersion: this.revision });
    return obj;
  }

  remove(type: ResourceType, obj: JsonObject): JsonObject {
    const revision = this.revision + 1;
    this.journal?.removeObject(resourceKey(type), objectKey(obj), revision);
    this.objects.get(resourceKey(type))?.delete(objectKey(obj));
    this.revision = revision;
    const gone = structuredClone(obj);
    (gone.metadata as JsonObject).resourceVersion = String(this.revision);
    this.emit({ type: 'DELETED', resource: type, object: structuredClone(gone), resourceVersion: this.revision });
    return gone;
  }

  /** Changes after `resourceVersion`, or undefined when the history no longer reaches back that far. */
  eventsSince(resourceVersion: number): StoreEvent[] | undefined {
    if (resourceVersion < this.historyStart) return undefined;
    const oldest = this.history[0];
    if (resourceVersion < this.revision && oldest && oldest.resourceVersion > resourceVersion + 1) return undefined;
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private bucketOf(resource: string): Map<string, JsonObject> {
    let bucket = this.objects.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) this.history.splice(0, this.history.length - HISTORY_LIMIT);
    for (const listener of this.listeners) listener(event);
  }
}
