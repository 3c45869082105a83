import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JsonObject } from './fieldpath.ts';
import { matches } from './registry.ts';
import type { ResourceType } from './resources.ts';
import type { FieldSelector, LabelSelector } from './selectors.ts';
import { gone } from './status.ts';
import type { ObjectStore, StoreEvent, WatchEventType } from './store.ts';

/**
 * `?watch=1`: a chunked stream of `{"type","object"}` lines. Without a resourceVersion (or "0")
 * it starts with ADDED for what exists; with one it replays the changes after it, or answers an
 * ERROR 410 event when the history is too short. Selectors filter as on a real server: an object
 * that stops matching is seen as DELETED, one that starts matching as ADDED.
 */
export interface WatchRequest {
  store: ObjectStore;
  type: ResourceType;
  namespace: string | undefined;
  labels: LabelSelector;
  fields: FieldSelector;
  resourceVersion: string;
  timeoutSeconds: number;
  /** How each event's object is sent: as stored, or (for `kubectl get -w`) as a one-row Table. */
  render?: (obj: JsonObject) => unknown;
}

function keyOf(obj: JsonObject): string {
  const m = obj.metadata as JsonObject;
  return `${String(m.namespace ?? '')}/${String(m.name)}`;
}

export function serveWatch(w: WatchRequest, req: IncomingMessage, res: ServerResponse): void {
  const sameResource = (e: StoreEvent): boolean =>
    e.resource === w.type && (w.namespace === undefined || (e.object.metadata as JsonObject).namespace === w.namespace);
  const visible = new Set(
    w.store
      .list(w.type, w.namespace)
      .filter((o) => matches(o, w.labels, w.fields))
      .map(keyOf),
  );
  const pending: string[] = [];
  let ready = false;

  const write = (type: WatchEventType | 'ERROR', object: unknown): void => {
    const rendered = type === 'ERROR' || !w.render ? object : w.render(object as JsonObject);
    const line = `${JSON.stringify({ type, object: rendered })}\n`;
    if (ready) res.write(line);
    else pending.push(line);
  };
  const deliver = (e: StoreEvent): void => {
    if (!sameResource(e)) return;
    const key = keyOf(e.object);
    const matchesNow = e.type !== 'DELETED' && matches(e.object, w.labels, w.fields);
    const wasVisible = visible.has(key);
    if (e.type === 'DELETED') {
      if (wasVisible || matches(e.object, w.labels, w.fields)) write('DELETED', e.object);
      visible.delete(key);
    } else if (matchesNow) {
      write(wasVisible && e.type === 'MODIFIED' ? 'MODIFIED' : 'ADDED', e.object);
      visible.add(key);
    } else if (wasVisible) {
      write('DELETED', e.object);
      visible.delete(key);
    }
  };

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  // Clients (client-go's reflector) wait for the headers before they trust the watch: send them now, not with the first event.
  res.flushHeaders();
  const from = w.resourceVersion === '' || w.resourceVersion === '0' ? undefined : Number(w.resourceVersion);
  if (from === undefined || Number.isNaN(from)) {
    for (const obj of w.store.list(w.type, w.namespace)) if (matches(obj, w.labels, w.fields)) write('ADDED', obj);
  } else {
    const history = w.store.eventsSince(from);
    if (!history) {
      write('ERROR', gone(`too old resource version: ${from} (${w.store.resourceVersion()})`).toStatus());
      ready = true;
      res.end(pending.join(''));
      return;
    }
    // Objects replayed from history are judged against what they were then, not what they are now.
    visible.clear();
    for (const obj of w.store.list(w.type, w.namespace)) {
      const rv = Number((obj.metadata as JsonObject).resourceVersion);
      if (rv <= from && matches(obj, w.labels, w.fields)) visible.add(keyOf(obj));
    }
    const replayed = new Set<string>();
    for (const e of history) {
      const key = keyOf(e.object);
      const firstSeen = !replayed.has(key);
      replayed.add(key);
      if (firstSeen && e.type === 'MODIFIED' && !visible.has(key) && matches(e.object, w.labels, w.fields)) {
        // Existed before `from` and changed since: a modification, as etcd's history would tell it.
        visible.add(key);
        write('MODIFIED', e.object);
        continue;
      }
      deliver(e);
    }
  }
  ready = true;
  if (pending.length) res.write(pending.join(''));
  const unsubscribe = w.store.subscribe(deliver);
  const timer = w.timeoutSeconds > 0 ? setTimeout(() => res.end(), w.timeoutSeconds * 1000) : undefined;
  const close = (): void => {
    unsubscribe();
    if (timer) clearTimeout(timer);
  };
  req.on('close', close);
  res.on('close', close);
}
