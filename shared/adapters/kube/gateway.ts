import type { KubeConfig } from '@kubernetes/client-node';
import { TricenterError } from '../../core/errors.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import { objectRef, refKey, type KubeObject, type ObjectRef } from '../../model/kube.ts';
import { FIELD_MANAGER, ownerSelector, type AppRef } from '../../model/ownership.ts';
import type { ApplyResult, ClusterGateway, HealthReport, WorkloadStatus } from '../../ports/cluster-gateway.port.ts';
import { APPLY_PATCH, createClusterClient, type ClusterClient, type RawResponse, type RequestCounts } from './client.ts';
import type { ClusterConnections } from './connections.ts';
import { classifyHttpStatus, classifyKubeError, parseStatus, type RequestDescription } from './errors.ts';
import { evaluateHealth, ingressAddressesOf, workloadStatus } from './health.ts';
import { OWNED_KINDS, applyTiers, identityKey, isOwnedBy, managersOverridden, ownerOf, prepareForApply } from './manifests.ts';

/**
 * The ClusterGateway over @kubernetes/client-node: any kubeconfig, real clusters and the sandbox alike.
 *
 * Listing what we own (listOwned, prune, workloads): one list per kind across all namespaces with
 * the ownership label selector. When the user may not list cluster-wide (403), it lists per
 * namespace instead, over the namespaces it knows of: the application's namespace, the namespaces
 * of the objects being kept, and those this gateway applied to. Every listed object's labels are
 * checked again before a delete, so an object without our labels is never deleted, even by a server
 * that ignored the selector.
 */

export interface KubeGatewayOptions {
  connections: ClusterConnections;
  logger?: Logger;
  /** Bound on every request to an API server; default 10 s. */
  requestTimeoutMs?: number;
  /** Requests in flight per cluster within one apply tier, health check or prune; default 8. */
  concurrency?: number;
}

export interface KubeGateway extends ClusterGateway {
  /** Requests sent to a cluster so far, by action (discovery counted apart). */
  requestCounts(cluster: string): RequestCounts | undefined;
  /** Drops every client and its kept-alive connections. */
  close(): void;
}

interface LiveObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; uid?: string; labels?: Record<string, string> };
}

async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function createKubeGateway(options: KubeGatewayOptions): KubeGateway {
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const concurrency = options.concurrency ?? 8;
  const clients = new Map<string, { kubeConfig: KubeConfig; client: ClusterClient }>();

  const clientFor = async (cluster: string): Promise<ClusterClient> => {
    const kubeConfig = await options.connections.kubeConfig(cluster);
    const known = clients.get(cluster);
    if (known?.kubeConfig === kubeConfig) return known.client;
    known?.client.close();
    const client = createClusterClient(kubeConfig, timeoutMs);
    clients.set(cluster, { kubeConfig, client });
    return client;
  };

  /** Runs one request; any failure (network or HTTP) leaves as a classified TricenterError. */
  const call = async (
    client: ClusterClient,
    req: RequestDescription,
    send: () => Promise<RawResponse>,
    accept: (status: number) => boolean = (status) => status >= 200 && status < 300,
  ): Promise<RawResponse> => {
    let response: RawResponse;
    try {
      response = await send();
    } catch (err) {
      throw classifyKubeError(err, req, timeoutMs);
    }
    if (!accept(response.status)) throw classifyHttpStatus(response.status, response.body, req);
    return response;
  };

  const resourceOf = async (client: ClusterClient, cluster: string, ref: { apiVersion: string; kind: string }, target: string) => {
    let resource;
    try {
      resource = await client.lookup(ref.apiVersion, ref.kind);
    } catch (err) {
      throw classifyKubeError(err, { cluster, action: 'discover', target: ref.apiVersion }, timeoutMs);
    }
    if (!resource) {
      throw new TricenterError('INVALID_OBJECT', `${target}: the API server of cluster ${cluster} does not serve kind ${ref.kind} in ${ref.apiVersion}`);
    }
    return resource;
  };

  /** Reads one object; undefined when it does not exist. */
  const read = async (client: ClusterClient, cluster: string, ref: ObjectRef): Promise<unknown> => {
    const response = await call(
      client,
      { cluster, action: 'read', target: refKey(ref) },
      async () => client.send('get', 'GET', await client.pathOf(ref, 'read')),
      (s) => s === 200 || s === 404,
    );
    return response.status === 404 ? undefined : response.body;
  };

  /**
   * The objects of one apply tier as they are now (by refKey; absent = does not exist), to tell
   * "changed" and whose fields a forced apply takes. Nothing is read in a namespace this apply has
   * just created; objects carrying the ownership labels are read with one list per kind, namespace
   * and application; any other object with one read.
   */
  const currentStates = async (client: ClusterClient, cluster: string, tier: KubeObject[], freshNamespaces: Set<string>): Promise<Map<string, unknown>> => {
    const states = new Map<string, unknown>();
    const groups = new Map<string, { apiVersion: string; kind: string; namespace: string; selector: string; refs: ObjectRef[] }>();
    const singles: ObjectRef[] = [];
    for (const manifest of tier) {
      const ref = objectRef(manifest);
      if (ref.namespace && freshNamespaces.has(ref.namespace)) continue;
      const app = ownerOf(manifest.metadata.labels);
      if (!app || !ref.namespace) {
        singles.push(ref);
        continue;
      }
      const selector = ownerSelector(app);
      const key = `${ref.apiVersion} ${ref.kind} ${ref.namespace} ${selector}`;
      const group = groups.get(key) ?? { apiVersion: ref.apiVersion, kind: ref.kind, namespace: ref.namespace, selector, refs: [] };
      group.refs.push(ref);
      groups.set(key, group);
    }
    const lists = [...groups.values()].filter((group) => {
      if (group.refs.length > 1) return true;
      singles.push(...group.refs);
      return false;
    });
    await mapLimit(lists, concurrency, async (group) => {
      const target = `${group.apiVersion} ${group.kind} in ${group.namespace}`;
      const query = { labelSelector: group.selector };
      const response = await call(client, { cluster, action: 'list', target }, async () => client.send('list', 'GET', await client.pathOf(group, 'list'), { query }));
      for (const item of (response.body as { items?: LiveObject[] }).items ?? []) {
        const name = item.metadata?.name;
        if (name) states.set(refKey({ apiVersion: group.apiVersion, kind: group.kind, namespace: group.namespace, name }), item);
      }
    });
    await mapLimit(singles, concurrency, async (ref) => {
      const live = await read(client, cluster, ref);
      if (live !== undefined) states.set(refKey(ref), live);
    });
    return states;
  };

  /** Creates the namespace unless it exists; true when this call created it (so it is empty). */
  const ensureNamespace = async (client: ClusterClient, cluster: string, namespace: string): Promise<boolean> => {
    const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
    const response = await call(
      client,
      { cluster, action: 'create', target: `namespace ${namespace}` },
      async () => client.send('create', 'POST', await client.pathOf({ apiVersion: 'v1', kind: 'Namespace' }, 'list'), { body }),
      (status) => status === 201 || status === 200 || status === 409,
    );
    client.knownNamespaces.add(namespace);
    return response.status === 201;
  };

  /** Server-side applies one object; "changed" compares its resourceVersion before and after. */
  const applyOne = async (
    client: ClusterClient,
    cluster: string,
    manifest: KubeObject,
    states: Map<string, unknown>,
  ): Promise<{ ref: ObjectRef; changed: boolean; created: boolean }> => {
    const ref = objectRef(manifest);
    const key = refKey(ref);
    const beforeObject = states.get(key);
    const before = (beforeObject as LiveObject | undefined)?.metadata?.resourceVersion ?? '';
    const query = { fieldManager: FIELD_MANAGER, force: 'true' };
    const send = async () => client.send('apply', 'PATCH', await client.pathOf(ref, 'read'), { query, body: manifest, contentType: APPLY_PATCH });
    const req = { cluster, action: 'apply', target: key };
    let response = await call(client, req, send, () => true);
    const missingNamespace = parseStatus(response.body)?.details?.kind === 'namespaces';
    if (response.status === 404 && missingNamespace && ref.namespace) {
      // The namespace was deleted behind our back since this client created it: create it again, once.
      client.knownNamespaces.delete(ref.namespace);
      await ensureNamespace(client, cluster, ref.namespace);
      response = await call(client, req, send, () => true);
    }
    if (response.status < 200 || response.status >= 300) throw classifyHttpStatus(response.status, response.body, req);
    const after = (response.body as LiveObject).metadata?.resourceVersion ?? '';
    const changed = response.status === 201 || before === '' || after !== before;
    if (beforeObject !== undefined) {
      const overridden = managersOverridden(beforeObject, response.body, FIELD_MANAGER);
      if (overridden.length > 0) logger.warn('forced apply took fields over from other managers', { cluster, object: key, managers: overridden });
    }
    return { ref, changed, created: response.status === 201 };
  };

  /**
   * Kinds to look at for owned objects: the ones we deploy plus any kind being kept; unserved kinds
   * skipped. Never Namespaces: deleting one deletes everything in it, owned by us or not.
   */
  const ownedKinds = async (client: ClusterClient, cluster: string, extra: ObjectRef[]) => {
    const wanted = new Map<string, { apiVersion: string; kind: string }>();
    for (const kind of [...OWNED_KINDS, ...extra.map(({ apiVersion, kind }) => ({ apiVersion, kind }))]) {
      if (kind.kind !== 'Namespace') wanted.set(`${kind.apiVersion} ${kind.kind}`, kind);
    }
    const kinds: Array<{ apiVersion: string; kind: string; namespaced: boolean }> = [];
    for (const kind of wanted.values()) {
      let resource;
      try {
        resource = await client.lookup(kind.apiVersion, kind.kind);
      } catch (err) {
        throw classifyKubeError(err, { cluster, action: 'discover', target: kind.apiVersion }, timeoutMs);
      }
      const listable = resource && (!resource.verbs?.length || resource.verbs.includes('list'));
      if (resource && listable) kinds.push({ ...kind, namespaced: resource.namespaced });
    }
    return kinds;
  };

  const listOwnedObjects = async (
    cluster: string,
    app: AppRef,
    keep: ObjectRef[] = [],
    onlyKind?: string,
  ): Promise<Array<{ ref: ObjectRef; uid?: string; live: unknown }>> => {
    const client = await clientFor(cluster);
    const selector = ownerSelector(app);
    const kinds = (await ownedKinds(client, cluster, keep)).filter((k) => onlyKind === undefined || k.kind === onlyKind);
    const namespaces = [...new Set([app.namespace, ...keep.map((ref) => ref.namespace).filter((ns): ns is string => Boolean(ns)), ...client.knownNamespaces])];
    const listIn = async (kind: { apiVersion: string; kind: string }, namespace?: string) => {
      const response = await call(
        client,
        { cluster, action: 'list', target: `${kind.apiVersion} ${kind.kind}${namespace ? ` in ${namespace}` : ''}` },
        async () => client.send('list', 'GET', await client.pathOf({ ...kind, ...(namespace ? { namespace } : {}) }, 'list'), { query: { labelSelector: selector } }),
        (status) => (status >= 200 && status < 300) || status === 403 || status === 404,
      );
      if (response.status === 404) return { forbidden: false, items: [] as LiveObject[] };
      return { forbidden: response.status === 403, items: ((response.body as { items?: LiveObject[] }).items ?? []) as LiveObject[] };
    };
    const perKind = await mapLimit(kinds, concurrency, async (kind) => {
      const everywhere = await listIn(kind);
      if (!everywhere.forbidden) return { kind, items: everywhere.items };
      if (!kind.namespaced) throw classifyHttpStatus(403, undefined, { cluster, action: 'list', target: `${kind.apiVersion} ${kind.kind}` });
      const lists = await mapLimit(namespaces, concurrency, async (namespace) => {
        const inNamespace = await listIn(kind, namespace);
        if (inNamespace.forbidden) throw classifyHttpStatus(403, undefined, { cluster, action: 'list', target: `${kind.apiVersion} ${kind.kind} in ${namespace}` });
        return inNamespace.items;
      });
      return { kind, items: lists.flat() };
    });
    const owned: Array<{ ref: ObjectRef; uid?: string; live: unknown }> = [];
    for (const { kind, items } of perKind) {
      for (const item of items) {
        const metadata = item.metadata ?? {};
        if (!metadata.name || !isOwnedBy(metadata.labels, app)) continue;
        const ref: ObjectRef = { apiVersion: kind.apiVersion, kind: kind.kind, name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}) };
        owned.push({ ref, live: item, ...(metadata.uid ? { uid: metadata.uid } : {}) });
      }
    }
    return owned;
  };

  const gateway: KubeGateway = {
    async apply(cluster, manifests): Promise<ApplyResult> {
      const client = await clientFor(cluster);
      const prepared: KubeObject[] = [];
      for (const manifest of manifests) {
        const resource = await resourceOf(client, cluster, manifest, refKey(objectRef(manifest)));
        const namespace = resource.namespaced ? (manifest.metadata.namespace ?? client.contextNamespace) : undefined;
        prepared.push(prepareForApply(manifest, namespace));
      }
      const declared = new Set(prepared.filter((m) => m.kind === 'Namespace').map((m) => m.metadata.name));
      const missing = [...new Set(prepared.map((m) => m.metadata.namespace).filter((ns): ns is string => Boolean(ns)))].filter(
        (ns) => !declared.has(ns) && !client.knownNamespaces.has(ns),
      );
      const created = await mapLimit(missing, concurrency, (namespace) => ensureNamespace(client, cluster, namespace));
      const freshNamespaces = new Set(missing.filter((_, i) => created[i]));
      const objects: ApplyResult['objects'] = [];
      for (const tier of applyTiers(prepared)) {
        const states = await currentStates(client, cluster, tier, freshNamespaces);
        const applied = await mapLimit(tier, concurrency, (manifest) => applyOne(client, cluster, manifest, states));
        objects.push(...applied.map(({ ref, changed }) => ({ ref, changed })));
        tier.forEach((manifest, i) => {
          if (manifest.kind !== 'Namespace') return;
          client.knownNamespaces.add(manifest.metadata.name);
          if (applied[i]?.created) freshNamespaces.add(manifest.metadata.name);
        });
      }
      const changed = objects.filter((o) => o.changed).length;
      logger.info('applied', { cluster, objects: objects.length, changed });
      return { cluster, objects };
    },

    async health(cluster, refs): Promise<HealthReport> {
      const client = await clientFor(cluster);
      const objects = await mapLimit(refs, concurrency, async (ref) => {
        await resourceOf(client, cluster, ref, refKey(ref));
        return evaluateHealth(ref, await read(client, cluster, ref));
      });
      return { cluster, healthy: objects.every((o) => o.healthy), objects };
    },

    async listOwned(cluster, app) {
      return (await listOwnedObjects(cluster, app)).map((o) => o.ref);
    },

    async prune(cluster, app, keep) {
      const client = await clientFor(cluster);
      const kept = new Set(keep.map(identityKey));
      const doomed = (await listOwnedObjects(cluster, app, keep)).filter((o) => !kept.has(identityKey(o.ref)));
      const deleted = await mapLimit(doomed, concurrency, async ({ ref, uid }) => {
        // The uid precondition makes sure we delete the object we listed, not a namesake created since.
        const body = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', ...(uid ? { preconditions: { uid } } : {}) };
        const response = await call(
          client,
          { cluster, action: 'delete', target: refKey(ref) },
          async () => client.send('delete', 'DELETE', await client.pathOf(ref, 'read'), { body }),
          (status) => (status >= 200 && status < 300) || status === 404 || status === 409,
        );
        if (response.status === 409) {
          logger.warn('prune skipped an object replaced since it was listed', { cluster, object: refKey(ref) });
          return undefined;
        }
        return ref;
      });
      const pruned = deleted.filter((ref): ref is ObjectRef => ref !== undefined);
      if (pruned.length > 0) logger.info('pruned', { cluster, app: `${app.namespace}/${app.name}`, objects: pruned.map(refKey) });
      return pruned;
    },

    async ingressAddresses(cluster, ingress) {
      const client = await clientFor(cluster);
      const ref: ObjectRef = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: ingress.namespace, name: ingress.name };
      await resourceOf(client, cluster, ref, refKey(ref));
      return ingressAddressesOf(await read(client, cluster, ref));
    },

    async workloads(cluster, app): Promise<WorkloadStatus[]> {
      const owned = await listOwnedObjects(cluster, app, [], 'Deployment');
      return owned.map((o) => workloadStatus(o.ref, o.live));
    },

    requestCounts(cluster) {
      const counts = clients.get(cluster)?.client.counts;
      return counts ? { ...counts } : undefined;
    },

    close() {
      for (const { client } of clients.values()) client.close();
      clients.clear();
    },
  };
  return gateway;
}
