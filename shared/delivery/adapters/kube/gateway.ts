import type { KubeConfig } from '@kubernetes/client-node';
import { errorMessage, isTricenterError, TricenterError } from '../../../platform/errors.ts';
import { systemClock, type Clock } from '../../../platform/clock.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import { checkRateLimit, DEFAULT_RATE_LIMIT, TokenBucket, type RateLimit } from '../../../platform/token-bucket.ts';
import { compareLive, withAppliedHash } from '../../model/applied-hash.ts';
import { keepApplyOnceFields } from '../../model/drift.ts';
import { detectDrift, type ObservedObject } from '../../model/drift.ts';
import type { ClusterProbe } from '../../model/fleet.ts';
import { previewObject, prunedObject, type ObjectPreview } from '../../model/preview.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../model/ownership.ts';
import { objectRef, refKey, type KubeObject, type ObjectRef } from '../../model/kube.ts';
import { isClusterScoped } from '../../model/scope.ts';
import {
  ANNOTATION_CONTENT_HASH,
  ANNOTATION_RESOURCE_POLICY,
  ANNOTATION_SHARED_BY,
  FIELD_MANAGER,
  LABEL_APP_NAME,
  LABEL_APP_NAMESPACE,
  LABEL_COMPONENT,
  decideOwnership,
  ownerOf,
  ownerSelector,
  parseSharedBy,
  type AppRef,
} from '../../model/ownership.ts';
import type { ApplyResult, ClusterGateway, HealthReport, WorkloadStatus } from '../../ports/cluster-gateway.port.ts';
import { APPLY_PATCH, MERGE_PATCH, createClusterClient, type ClusterClient, type RawResponse, type RequestCounts } from './client.ts';
import type { ClusterConnections } from './connections.ts';
import { classifyHttpStatus, classifyKubeError, parseStatus, type RequestDescription } from './errors.ts';
import { isReadOnly, missingReadOnly, prunePropagation, retainedBy } from './lifecycle.ts';
import { evaluateHealth, ingressAddressesOf, workloadStatus } from './health.ts';
import { OWNED_KINDS, applyTiers, identityKey, isOwnedBy, managersOverridden, prepareForApply } from './manifests.ts';

/**
 * The ClusterGateway over @kubernetes/client-node: any kubeconfig, real clusters and the sandbox alike.
 *
 * Apply reads what lives on the cluster first (one list per kind and namespace, or one read for a
 * lone object), checks ownership on every object, and writes only what differs from the live
 * object: each applied object carries the hash of what was applied (`tricenter.io/content-hash`),
 * and an object is left alone when that hash, its managedFields and every field we send match.
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
  /**
   * Requests per second and at once to each cluster that the registry gives no `rateLimit`
   * (one token bucket per cluster, shared by everything this gateway sends there); default DEFAULT_RATE_LIMIT.
   */
  rateLimit?: RateLimit;
  clock?: Clock;
}

interface LiveObject {
  metadata?: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

/** Tries to delete an owned object that keeps changing under us (a controller writing its status). */
const PRUNE_ATTEMPTS = 3;

/**
 * The next sharer becomes the owner (ownership labels) and the sharers lose us, conditional on the
 * resourceVersion listed: the object outlives this application while another one still uses it.
 */
function handOverPatch(resourceVersion: string | undefined, remaining: string[]) {
  const [namespace, name] = (remaining[0] as string).split('/');
  return {
    metadata: {
      resourceVersion,
      labels: { [LABEL_APP_NAMESPACE]: namespace, [LABEL_APP_NAME]: name },
      annotations: { [ANNOTATION_SHARED_BY]: remaining.join(',') },
    },
  };
}

/** Objects per page when listing what lives in a namespace. */
const LIST_PAGE_SIZE = 500;

/**
 * One object of an apply, after the ownership check: write it (as its owner) or join its sharers;
 * `unchanged` when the live object already is what the write would make it (nothing is sent).
 */
type PlannedWrite =
  | { mode: 'apply'; manifest: KubeObject; unchanged: boolean; why?: string }
  | { mode: 'join'; manifest: KubeObject; sharedBy: string; unchanged: boolean };
type RefusedWrite = { mode: 'refuse'; manifest: KubeObject; reason: string };

/** `ConfigMap demo/web (component web)`: how an object is named in a refusal. */
function describeObject(manifest: KubeObject): string {
  const { namespace, name } = manifest.metadata;
  const component = manifest.metadata.labels?.[LABEL_COMPONENT];
  return `${manifest.kind} ${namespace ? `${namespace}/` : ''}${name}${component ? ` (component ${component})` : ''}`;
}

/**
 * The ownership check of one prepared manifest against what lives on the cluster; the manifest gets
 * the sharers it must carry and the content hash of what is applied (applied-hash.ts), and is
 * unchanged when the live object already matches it: then neither a dry run nor an apply is sent.
 */
function planWrite(manifest: KubeObject, live: LiveObject | undefined): PlannedWrite | RefusedWrite {
  const app = ownerOf(manifest.metadata.labels);
  if (!app) return { mode: 'refuse', manifest, reason: 'carries no tricenter ownership labels, so it cannot be applied' };
  const decision = decideOwnership(app, manifest.metadata.annotations?.[ANNOTATION_RESOURCE_POLICY], live?.metadata);
  switch (decision.kind) {
    case 'refuse':
      return { mode: 'refuse', manifest, reason: decision.reason };
    case 'join':
      return { mode: 'join', manifest, sharedBy: decision.sharedBy, unchanged: decision.unchanged };
    case 'apply': {
      const annotations = { ...manifest.metadata.annotations };
      if (decision.sharedBy === undefined) delete annotations[ANNOTATION_SHARED_BY];
      else annotations[ANNOTATION_SHARED_BY] = decision.sharedBy;
      // Never an empty map (kube-apiserver 1.20 would rewrite managedFields on every apply of `annotations: {}`):
      // the content hash is always there.
      const declared = withAppliedHash({ ...manifest, metadata: { ...manifest.metadata, annotations } });
      // KubeVela's apply-once: the paths it lists keep the live values (an HPA's replicas); the hash stays the one of
      // what the release declares, so a value that moves under apply-once does not make the object look changed.
      const applied = keepApplyOnceFields(declared, live, 'update');
      if (applied === undefined) return { mode: 'apply', manifest: declared, unchanged: true };
      const comparison = compareLive(live, applied, declared.metadata.annotations?.[ANNOTATION_CONTENT_HASH]);
      return comparison.matches
        ? { mode: 'apply', manifest: applied, unchanged: true }
        : { mode: 'apply', manifest: applied, unchanged: false, why: comparison.reason };
    }
  }
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

export class KubeGateway implements ClusterGateway {
  private readonly connections: ClusterConnections;
  private readonly logger: Logger;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly clients = new Map<string, { kubeConfig: KubeConfig; client: ClusterClient }>();
  private readonly rateLimit: RateLimit;
  private readonly clock: Clock;
  /** Per cluster, kept when its client is rebuilt (a renewed kubeconfig does not reset the limit). */
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(options: KubeGatewayOptions) {
    this.connections = options.connections;
    this.logger = options.logger ?? silentLogger;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.concurrency = options.concurrency ?? 8;
    this.rateLimit = checkRateLimit(options.rateLimit ?? DEFAULT_RATE_LIMIT, 'kube gateway rateLimit');
    this.clock = options.clock ?? systemClock;
  }

  async verify(cluster: string, manifests: KubeObject[]): Promise<void> {
    await this.preflight(await this.clientFor(cluster), cluster, manifests);
  }

  async apply(cluster: string, manifests: KubeObject[]): Promise<ApplyResult> {
    const client = await this.clientFor(cluster);
    const { live, writes } = await this.preflight(client, cluster, manifests);

    // The preflight passed on every object: the real writes, tier by tier.
    const objects: ApplyResult['objects'] = [];
    for (const tier of applyTiers(writes, (write) => write.manifest.kind)) {
      const applied = await mapLimit(tier, this.concurrency, (write) => this.perform(client, cluster, write, live, false));
      objects.push(...applied);
      for (const write of tier) if (write.manifest.kind === 'Namespace') client.knownNamespaces.add(write.manifest.metadata.name);
    }
    const changed = objects.filter((o) => o.changed).length;
    this.logger.info('applied', {
      cluster,
      objects: objects.length,
      changed,
      unchanged: writes.filter((w) => w.unchanged).length,
      shared: writes.filter((w) => w.mode === 'join').length,
      // Why each object was written: an object that is written on every apply shows here.
      written: writes
        .flatMap((w) => (w.mode === 'apply' && !w.unchanged ? [`${refKey(objectRef(w.manifest))}: ${w.why}`] : []))
        .slice(0, 20),
    });
    return { cluster, objects };
  }

  async health(cluster: string, refs: ObjectRef[]): Promise<HealthReport> {
    const client = await this.clientFor(cluster);
    const objects = await mapLimit(refs, this.concurrency, async (ref) => {
      await this.resourceOf(client, cluster, ref, refKey(ref));
      return evaluateHealth(ref, await this.read(client, cluster, ref));
    });
    return { cluster, healthy: objects.every((o) => o.healthy), objects };
  }

  async listOwned(cluster: string, app: AppRef): Promise<ObjectRef[]> {
    return (await this.listOwnedObjects(cluster, app)).map((o) => o.ref);
  }

  async prune(cluster: string, app: AppRef, keep: ObjectRef[]): Promise<ObjectRef[]> {
    const client = await this.clientFor(cluster);
    const kept = new Set(keep.map(identityKey));
    const dropped = (await this.listOwnedObjects(cluster, app, keep)).filter((o) => !kept.has(identityKey(o.ref)));
    // A garbage-collect rule (onAppDelete, never) keeps an object the release no longer has.
    const retained = dropped.filter((o) => retainedBy(o.live as LiveObject) !== undefined);
    const doomed = dropped.filter((o) => retainedBy(o.live as LiveObject) === undefined);
    if (retained.length > 0)
      this.logger.info('kept by a garbage-collect rule', {
        cluster,
        app: `${app.namespace}/${app.name}`,
        objects: retained.map((o) => `${refKey(o.ref)} (${retainedBy(o.live as LiveObject)})`),
      });
    const outcomes = await mapLimit(doomed, this.concurrency, ({ ref, live }) =>
      this.pruneOne(client, cluster, app, ref, live as LiveObject),
    );
    const pruned = doomed.filter((_, i) => outcomes[i] === 'deleted').map((o) => o.ref);
    const handedOver = doomed.filter((_, i) => outcomes[i] === 'handed-over').map((o) => refKey(o.ref));
    if (pruned.length > 0) this.logger.info('pruned', { cluster, app: `${app.namespace}/${app.name}`, objects: pruned.map(refKey) });
    if (handedOver.length > 0)
      this.logger.info('shared objects handed over to their next sharer', {
        cluster,
        app: `${app.namespace}/${app.name}`,
        objects: handedOver,
      });
    return pruned;
  }

  async ingressAddresses(cluster: string, ingress: { namespace: string; name: string }): Promise<string[]> {
    const client = await this.clientFor(cluster);
    const ref: ObjectRef = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: ingress.namespace, name: ingress.name };
    await this.resourceOf(client, cluster, ref, refKey(ref));
    return ingressAddressesOf(await this.read(client, cluster, ref));
  }

  async ingressAddressesIn(cluster: string, namespace: string): Promise<Map<string, string[]>> {
    const client = await this.clientFor(cluster);
    const kind = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace };
    await this.resourceOf(client, cluster, kind, `Ingresses in ${namespace}`);
    const path = await client.pathOf(kind, 'list');
    // Only names and addresses are kept: a namespace's Ingresses are not held whole.
    const addresses = new Map<string, string[]>();
    let next: string | undefined;
    do {
      const query: Record<string, string> = { limit: String(LIST_PAGE_SIZE), ...(next ? { continue: next } : {}) };
      const response = await this.call({ cluster, action: 'list', target: `networking.k8s.io/v1 Ingress in ${namespace}` }, () =>
        client.send('list', 'GET', path, { query }),
      );
      const body = response.body as { items?: LiveObject[]; metadata?: { continue?: string } };
      for (const item of body.items ?? []) {
        const name = item.metadata?.name;
        if (name) addresses.set(name, ingressAddressesOf(item));
      }
      next = body.metadata?.continue || undefined;
    } while (next);
    return addresses;
  }

  async workloads(cluster: string, app: AppRef): Promise<WorkloadStatus[]> {
    const owned = await this.listOwnedObjects(cluster, app, [], 'Deployment');
    return owned.map((o) => workloadStatus(o.ref, o.live));
  }

  /** Requests sent to a cluster so far, by action (discovery counted apart). */
  requestCounts(cluster: string): RequestCounts | undefined {
    const counts = this.clients.get(cluster)?.client.counts;
    return counts ? { ...counts } : undefined;
  }

  /** Drops every client and its kept-alive connections. */
  close(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }

  /** The client of a cluster, rebuilt when its kubeconfig changed (an ACK kubeconfig renewed). */
  private async clientFor(cluster: string): Promise<ClusterClient> {
    const kubeConfig = await this.connections.kubeConfig(cluster);
    const known = this.clients.get(cluster);
    if (known?.kubeConfig === kubeConfig) return known.client;
    known?.client.close();
    const client = createClusterClient(kubeConfig, this.timeoutMs, this.throttleFor(cluster));
    this.clients.set(cluster, { kubeConfig, client });
    return client;
  }

  /** Waits for the cluster's token bucket before each request (client-go's QPS/Burst). */
  private throttleFor(cluster: string): () => Promise<void> {
    let bucket = this.buckets.get(cluster);
    if (!bucket) {
      const limit = this.connections.rateLimit?.(cluster) ?? this.rateLimit;
      bucket = new TokenBucket(checkRateLimit(limit, `cluster ${cluster} rateLimit`), this.clock.now());
      this.buckets.set(cluster, bucket);
    }
    const tokens = bucket;
    return async () => {
      const wait = tokens.take(this.clock.now());
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    };
  }

  /** Runs one request; any failure (network or HTTP) leaves as a classified TricenterError. */
  private async call(
    req: RequestDescription,
    send: () => Promise<RawResponse>,
    accept: (status: number) => boolean = (status) => status >= 200 && status < 300,
  ): Promise<RawResponse> {
    let response: RawResponse;
    try {
      response = await send();
    } catch (err) {
      throw classifyKubeError(err, req, this.timeoutMs);
    }
    if (!accept(response.status)) throw classifyHttpStatus(response.status, response.body, req);
    return response;
  }

  private async resourceOf(client: ClusterClient, cluster: string, ref: { apiVersion: string; kind: string }, target: string) {
    let resource;
    try {
      resource = await client.lookup(ref.apiVersion, ref.kind);
    } catch (err) {
      throw classifyKubeError(err, { cluster, action: 'discover', target: ref.apiVersion }, this.timeoutMs);
    }
    if (!resource) {
      throw new TricenterError(
        'INVALID_OBJECT',
        `${target}: the API server of cluster ${cluster} does not serve kind ${ref.kind} in ${ref.apiVersion}`,
      );
    }
    return resource;
  }

  /** Reads one object; undefined when it does not exist. */
  private async read(client: ClusterClient, cluster: string, ref: ObjectRef): Promise<unknown> {
    const response = await this.call(
      { cluster, action: 'read', target: refKey(ref) },
      async () => client.send('get', 'GET', await client.pathOf(ref, 'read')),
      (s) => s === 200 || s === 404,
    );
    return response.status === 404 ? undefined : response.body;
  }

  /**
   * Every object of an apply as it lives on the cluster now (by refKey; absent = does not exist),
   * whoever owns it: what the ownership check and "changed" compare. Objects of one kind in one
   * namespace are read with one (paged) list when there are several, any other object with one read.
   */
  private async liveStates(client: ClusterClient, cluster: string, manifests: KubeObject[]): Promise<Map<string, LiveObject>> {
    const states = new Map<string, LiveObject>();
    const groups = new Map<string, ObjectRef[]>();
    for (const manifest of manifests) {
      const ref = objectRef(manifest);
      const key = `${ref.apiVersion} ${ref.kind} ${ref.namespace ?? ''}`;
      groups.set(key, [...(groups.get(key) ?? []), ref]);
    }
    const singles = [...groups.values()].filter((refs) => refs.length === 1 || !refs[0]?.namespace).flat();
    const lists = [...groups.values()].filter((refs) => refs.length > 1 && refs[0]?.namespace);
    await mapLimit(lists, this.concurrency, async (refs) => {
      const { apiVersion, kind, namespace } = refs[0] as ObjectRef;
      const wanted = new Set(refs.map((ref) => ref.name));
      const path = await client.pathOf({ apiVersion, kind, ...(namespace ? { namespace } : {}) }, 'list');
      let next: string | undefined;
      do {
        const query: Record<string, string> = { limit: String(LIST_PAGE_SIZE), ...(next ? { continue: next } : {}) };
        const response = await this.call({ cluster, action: 'list', target: `${apiVersion} ${kind} in ${namespace}` }, () =>
          client.send('list', 'GET', path, { query }),
        );
        const body = response.body as { items?: LiveObject[]; metadata?: { continue?: string } };
        for (const item of body.items ?? []) {
          const name = item.metadata?.name;
          if (name && wanted.has(name)) states.set(refKey({ apiVersion, kind, name, ...(namespace ? { namespace } : {}) }), item);
        }
        next = body.metadata?.continue || undefined;
      } while (next);
    });
    await mapLimit(singles, this.concurrency, async (ref) => {
      const live = await this.read(client, cluster, ref);
      if (live !== undefined) states.set(refKey(ref), live as LiveObject);
    });
    return states;
  }

  /** Creates the namespace unless it exists; true when this call created it (so it is empty). */
  private async ensureNamespace(client: ClusterClient, cluster: string, namespace: string): Promise<boolean> {
    const body = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
    const response = await this.call(
      { cluster, action: 'create', target: `namespace ${namespace}` },
      async () => client.send('create', 'POST', await client.pathOf({ apiVersion: 'v1', kind: 'Namespace' }, 'list'), { body }),
      (status) => status === 201 || status === 200 || status === 409,
    );
    client.knownNamespaces.add(namespace);
    return response.status === 201;
  }

  private applyPath(client: ClusterClient, ref: ObjectRef) {
    return client.pathOf(ref, 'read');
  }

  /** Server-side applies one object (for real, or as a dry run); "changed" compares its resourceVersion before and after. */
  private async applyOne(
    client: ClusterClient,
    cluster: string,
    manifest: KubeObject,
    live: LiveObject | undefined,
    dryRun: boolean,
  ): Promise<{ ref: ObjectRef; changed: boolean; created: boolean }> {
    const ref = objectRef(manifest);
    const key = refKey(ref);
    const before = live?.metadata?.resourceVersion ?? '';
    const query = { fieldManager: FIELD_MANAGER, force: 'true', ...(dryRun ? { dryRun: 'All' } : {}) };
    const action = dryRun ? 'dry-run' : 'apply';
    const send = async () =>
      client.send(action, 'PATCH', await this.applyPath(client, ref), { query, body: manifest, contentType: APPLY_PATCH });
    const req = { cluster, action: dryRun ? 'dry-run apply' : 'apply', target: key };
    let response = await this.call(req, send, () => true);
    const missingNamespace = parseStatus(response.body)?.details?.kind === 'namespaces';
    if (response.status === 404 && missingNamespace && ref.namespace) {
      // The namespace was deleted behind our back since this client created it: create it again, once.
      client.knownNamespaces.delete(ref.namespace);
      await this.ensureNamespace(client, cluster, ref.namespace);
      response = await this.call(req, send, () => true);
    }
    if (response.status < 200 || response.status >= 300) throw classifyHttpStatus(response.status, response.body, req);
    const after = (response.body as LiveObject).metadata?.resourceVersion ?? '';
    const changed = response.status === 201 || before === '' || after !== before;
    if (!dryRun && live !== undefined) {
      const overridden = managersOverridden(live, response.body, FIELD_MANAGER);
      if (overridden.length > 0)
        this.logger.warn('forced apply took fields over from other managers', { cluster, object: key, managers: overridden });
    }
    return { ref, changed, created: response.status === 201 };
  }

  /**
   * Adds this application to the sharers of an object another application owns (KubeVela's
   * shared-resource): a merge patch of the one annotation, conditional on the resourceVersion read,
   * so a sharer never overwrites the owner's content nor a concurrent change of the sharers.
   */
  private async joinOne(client: ClusterClient, cluster: string, ref: ObjectRef, live: LiveObject, sharedBy: string, dryRun: boolean) {
    const body = { metadata: { resourceVersion: live.metadata?.resourceVersion, annotations: { [ANNOTATION_SHARED_BY]: sharedBy } } };
    const query = { fieldManager: FIELD_MANAGER, ...(dryRun ? { dryRun: 'All' } : {}) };
    const req = { cluster, action: dryRun ? 'dry-run share' : 'share', target: refKey(ref) };
    await this.call(req, async () =>
      client.send(dryRun ? 'dry-run' : 'patch', 'PATCH', await this.applyPath(client, ref), { query, body, contentType: MERGE_PATCH }),
    );
  }

  private async perform(client: ClusterClient, cluster: string, write: PlannedWrite, live: Map<string, LiveObject>, dryRun: boolean) {
    const ref = objectRef(write.manifest);
    const current = live.get(refKey(ref));
    if (write.unchanged) return { ref, changed: false };
    if (write.mode === 'apply') {
      const { changed } = await this.applyOne(client, cluster, write.manifest, current, dryRun);
      return { ref, changed };
    }
    if (current) await this.joinOne(client, cluster, ref, current, write.sharedBy, dryRun);
    return { ref, changed: true };
  }

  /** Removes a namespace this apply created moments ago, when the dry run refused the step: nothing is left behind. */
  private async deleteFreshNamespace(client: ClusterClient, cluster: string, namespace: string) {
    const ref: ObjectRef = { apiVersion: 'v1', kind: 'Namespace', name: namespace };
    await this.call(
      { cluster, action: 'delete', target: `namespace ${namespace}` },
      async () => client.send('delete', 'DELETE', await client.pathOf(ref, 'read')),
      (status) => (status >= 200 && status < 300) || status === 404,
    );
    client.knownNamespaces.delete(namespace);
  }

  /**
   * Kinds to look at for owned objects: the ones we deploy plus any kind being kept; unserved kinds
   * skipped. Never Namespaces: deleting one deletes everything in it, owned by us or not.
   */
  private async ownedKinds(client: ClusterClient, cluster: string, extra: ObjectRef[]) {
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
        throw classifyKubeError(err, { cluster, action: 'discover', target: kind.apiVersion }, this.timeoutMs);
      }
      const listable = resource && (!resource.verbs?.length || resource.verbs.includes('list'));
      if (resource && listable) kinds.push({ ...kind, namespaced: resource.namespaced });
    }
    return kinds;
  }

  private async listOwnedObjects(
    cluster: string,
    app: AppRef,
    keep: ObjectRef[] = [],
    onlyKind?: string,
  ): Promise<Array<{ ref: ObjectRef; uid?: string; live: unknown }>> {
    const client = await this.clientFor(cluster);
    const selector = ownerSelector(app);
    const kinds = (await this.ownedKinds(client, cluster, keep)).filter((k) => onlyKind === undefined || k.kind === onlyKind);
    const namespaces = [
      ...new Set([app.namespace, ...keep.map((ref) => ref.namespace).filter((ns): ns is string => Boolean(ns)), ...client.knownNamespaces]),
    ];
    const listIn = async (kind: { apiVersion: string; kind: string }, namespace?: string) => {
      const response = await this.call(
        { cluster, action: 'list', target: `${kind.apiVersion} ${kind.kind}${namespace ? ` in ${namespace}` : ''}` },
        async () =>
          client.send('list', 'GET', await client.pathOf({ ...kind, ...(namespace ? { namespace } : {}) }, 'list'), {
            query: { labelSelector: selector },
          }),
        (status) => (status >= 200 && status < 300) || status === 403 || status === 404,
      );
      if (response.status === 404) return { forbidden: false, items: [] as LiveObject[] };
      return { forbidden: response.status === 403, items: ((response.body as { items?: LiveObject[] }).items ?? []) as LiveObject[] };
    };
    const perKind = await mapLimit(kinds, this.concurrency, async (kind) => {
      const everywhere = await listIn(kind);
      if (!everywhere.forbidden) return { kind, items: everywhere.items };
      if (!kind.namespaced)
        throw classifyHttpStatus(403, undefined, { cluster, action: 'list', target: `${kind.apiVersion} ${kind.kind}` });
      const lists = await mapLimit(namespaces, this.concurrency, async (namespace) => {
        const inNamespace = await listIn(kind, namespace);
        if (inNamespace.forbidden)
          throw classifyHttpStatus(403, undefined, { cluster, action: 'list', target: `${kind.apiVersion} ${kind.kind} in ${namespace}` });
        return inNamespace.items;
      });
      return { kind, items: lists.flat() };
    });
    const owned: Array<{ ref: ObjectRef; uid?: string; live: unknown }> = [];
    for (const { kind, items } of perKind) {
      for (const item of items) {
        const metadata = item.metadata ?? {};
        if (!metadata.name || !isOwnedBy(metadata.labels, app)) continue;
        const ref: ObjectRef = {
          apiVersion: kind.apiVersion,
          kind: kind.kind,
          name: metadata.name,
          ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
        };
        owned.push({ ref, live: item, ...(metadata.uid ? { uid: metadata.uid } : {}) });
      }
    }
    return owned;
  }

  /**
   * Deletes one object this application owns, only as it was listed (uid and resourceVersion
   * preconditions); an object changed since is read again and retried while it is still ours. A
   * shared object with other sharers left is not deleted: it is handed over to the next sharer.
   */
  private async pruneOne(
    client: ClusterClient,
    cluster: string,
    app: AppRef,
    ref: ObjectRef,
    listed: LiveObject,
  ): Promise<'deleted' | 'handed-over' | 'skipped'> {
    let live: LiveObject | undefined = listed;
    for (let attempt = 0; attempt < PRUNE_ATTEMPTS && live; attempt += 1) {
      const metadata: NonNullable<LiveObject['metadata']> = live.metadata ?? {};
      if (!isOwnedBy(metadata.labels, app)) return 'skipped';
      const others = parseSharedBy(metadata.annotations?.[ANNOTATION_SHARED_BY]).filter(
        (sharer) => sharer !== `${app.namespace}/${app.name}`,
      );
      const preconditions = {
        ...(metadata.uid ? { uid: metadata.uid } : {}),
        ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}),
      };
      const path = await client.pathOf(ref, 'read');
      const response =
        others.length > 0
          ? await this.call(
              { cluster, action: 'hand over', target: refKey(ref) },
              () =>
                client.send('patch', 'PATCH', path, {
                  query: { fieldManager: FIELD_MANAGER },
                  body: handOverPatch(metadata.resourceVersion, others),
                  contentType: MERGE_PATCH,
                }),
              (status) => (status >= 200 && status < 300) || status === 404 || status === 409,
            )
          : await this.call(
              { cluster, action: 'delete', target: refKey(ref) },
              () =>
                client.send('delete', 'DELETE', path, {
                  body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: prunePropagation(live), preconditions },
                }),
              (status) => (status >= 200 && status < 300) || status === 404 || status === 409,
            );
      if (response.status === 404) return 'skipped';
      if (response.status !== 409) return others.length > 0 ? 'handed-over' : 'deleted';
      live = (await this.read(client, cluster, ref)) as LiveObject | undefined;
      if (live?.metadata?.uid !== metadata.uid) return 'skipped';
    }
    this.logger.warn('prune skipped an object that kept changing while it was deleted', { cluster, object: refKey(ref) });
    return 'skipped';
  }

  /**
   * Everything before the first write of an apply, all or nothing: whose each object is (any
   * refusal ends it), the namespaces the objects need (a dry run in a missing namespace means
   * nothing; those created here are removed again on failure), and every write as a server-side
   * dry run (the API server's own validation, admission and conflicts). An object whose live state
   * already is what we would apply (applied-hash.ts) is no write: it gets neither a dry run nor an
   * apply, so applying an unchanged step again costs one read per kind and namespace and no write.
   */
  private async preflight(client: ClusterClient, cluster: string, manifests: KubeObject[]) {
    const prepared: KubeObject[] = [];
    const unknownScope: string[] = [];
    for (const manifest of manifests) {
      const resource = await this.resourceOf(client, cluster, manifest, refKey(objectRef(manifest)));
      // Tenancy decided on tricenter's list of cluster-scoped kinds: a kind the cluster serves cluster-wide that the list
      // does not know (a custom resource) was checked as namespaced, and must not land cluster-wide.
      if (!resource.namespaced && !isClusterScoped(manifest.kind)) unknownScope.push(describeObject(manifest));
      const namespace = resource.namespaced ? (manifest.metadata.namespace ?? client.contextNamespace) : undefined;
      prepared.push(prepareForApply(manifest, namespace));
    }
    if (unknownScope.length > 0) {
      throw new TricenterError(
        'FORBIDDEN',
        `cluster ${cluster}: nothing applied, ${unknownScope.join('; ')}: the cluster serves this kind cluster-scoped, which tenancy does not know it to be, so no tenant may ship it`,
      );
    }

    const live = await this.liveStates(client, cluster, prepared);
    // Read-only objects are never written: they only have to exist (and are health-checked after the apply).
    const planned = [
      ...missingReadOnly(prepared, live),
      ...prepared.filter((m) => !isReadOnly(m)).map((manifest) => planWrite(manifest, live.get(refKey(objectRef(manifest))))),
    ];
    const refused = planned.filter((w): w is RefusedWrite => w.mode === 'refuse');
    if (refused.length > 0) {
      const reasons = refused.map((w) => `${describeObject(w.manifest)} ${w.reason}`);
      throw new TricenterError(
        'FORBIDDEN',
        `cluster ${cluster}: nothing applied, ${refused.length} of ${prepared.length} objects refused: ${reasons.join('; ')}`,
      );
    }
    const writes = planned as PlannedWrite[];

    // Only what will be written needs its namespace; an object living in a namespace proves it exists.
    for (const object of live.values()) if (object.metadata?.namespace) client.knownNamespaces.add(object.metadata.namespace);
    const toWrite = writes.filter((w) => !w.unchanged).map((w) => w.manifest);
    const declared = toWrite.filter((m) => m.kind === 'Namespace').map((m) => m.metadata.name);
    const missing = [
      ...new Set([...toWrite.map((m) => m.metadata.namespace), ...declared].filter((ns): ns is string => Boolean(ns))),
    ].filter((ns) => !client.knownNamespaces.has(ns) && !live.has(refKey({ apiVersion: 'v1', kind: 'Namespace', name: ns })));
    const created = await mapLimit(missing, this.concurrency, (namespace) => this.ensureNamespace(client, cluster, namespace));
    const freshNamespaces = missing.filter((_, i) => created[i]);

    const rejected = (
      await mapLimit(writes, this.concurrency, async (write) => {
        try {
          await this.perform(client, cluster, write, live, true);
          return undefined;
        } catch (err) {
          // The object's own problems are collected; credentials, throttling or a server down end the apply as they are.
          if (!isTricenterError(err) || err.code !== 'INVALID_OBJECT') throw err;
          return `${describeObject(write.manifest)}: ${errorMessage(err)}`;
        }
      })
    ).filter((reason): reason is string => reason !== undefined);
    if (rejected.length > 0) {
      await mapLimit(freshNamespaces, this.concurrency, (namespace) => this.deleteFreshNamespace(client, cluster, namespace));
      throw new TricenterError(
        'INVALID_OBJECT',
        `cluster ${cluster}: nothing applied, the API server refused ${rejected.length} of ${prepared.length} objects in a dry run: ${rejected.join('; ')}`,
      );
    }
    return { live, writes };
  }

  // Drift and the fleet view (issue 15): observe and probe, kept apart from apply. Model: model/drift.ts, model/fleet.ts.

  async observe(cluster: string, manifests: KubeObject[]): Promise<ObservedObject[]> {
    const client = await this.clientFor(cluster);
    const prepared: KubeObject[] = [];
    for (const manifest of manifests) {
      const resource = await this.resourceOf(client, cluster, manifest, refKey(objectRef(manifest)));
      prepared.push(prepareForApply(manifest, resource.namespaced ? (manifest.metadata.namespace ?? client.contextNamespace) : undefined));
    }
    const live = await this.listForDrift(client, cluster, prepared);
    // What the labelled lists did not hold is missing, or no longer labelled as ours: one read tells which.
    const unlisted = prepared.filter((manifest) => !live.has(identityKey(objectRef(manifest))));
    const reads = await mapLimit(unlisted, this.concurrency, (manifest) => this.read(client, cluster, objectRef(manifest)));
    unlisted.forEach((manifest, i) => {
      if (reads[i] !== undefined) live.set(identityKey(objectRef(manifest)), reads[i]);
    });
    return prepared.map((manifest): ObservedObject => {
      const owner = ownerOf(manifest.metadata.labels);
      const current = live.get(identityKey(objectRef(manifest)));
      const drift: ObservedObject = owner ? detectDrift(manifest, current, owner) : { ref: objectRef(manifest), state: 'foreign' };
      return drift.state === 'modified' ? { ...drift, live: current } : drift;
    });
  }

  /**
   * The live objects of these manifests, by identity: one paged list per kind, cluster-wide, with
   * the one application's ownership selector when they are all one application's (a status read),
   * else the managed-by label (the sweep over every application). Where the user may not list a
   * kind cluster-wide (403), its namespaces are listed one by one; where it may not even do that,
   * the objects stay unlisted and are read one by one.
   */
  private async listForDrift(client: ClusterClient, cluster: string, prepared: KubeObject[]): Promise<Map<string, unknown>> {
    const owners = new Set(prepared.map((manifest) => JSON.stringify(ownerOf(manifest.metadata.labels) ?? null)));
    const onlyOwner = owners.size === 1 ? ownerOf(prepared[0]?.metadata.labels) : undefined;
    const selector = onlyOwner ? ownerSelector(onlyOwner) : `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    const wanted = new Set(prepared.map((manifest) => identityKey(objectRef(manifest))));
    const kinds = new Map<string, { apiVersion: string; kind: string; namespaces: Set<string> }>();
    for (const manifest of prepared) {
      const key = `${manifest.apiVersion} ${manifest.kind}`;
      const entry = kinds.get(key) ?? { apiVersion: manifest.apiVersion, kind: manifest.kind, namespaces: new Set<string>() };
      if (manifest.metadata.namespace) entry.namespaces.add(manifest.metadata.namespace);
      kinds.set(key, entry);
    }
    const live = new Map<string, unknown>();
    const listAll = async (kind: { apiVersion: string; kind: string }, namespace?: string): Promise<boolean> => {
      const path = await client.pathOf({ ...kind, ...(namespace ? { namespace } : {}) }, 'list');
      let next: string | undefined;
      do {
        const query: Record<string, string> = {
          labelSelector: selector,
          limit: String(LIST_PAGE_SIZE),
          ...(next ? { continue: next } : {}),
        };
        const response = await this.call(
          { cluster, action: 'list', target: `${kind.apiVersion} ${kind.kind}${namespace ? ` in ${namespace}` : ''}` },
          () => client.send('list', 'GET', path, { query }),
          (status) => (status >= 200 && status < 300) || status === 403,
        );
        if (response.status === 403) return false;
        const body = response.body as { items?: LiveObject[]; metadata?: { continue?: string } };
        for (const item of body.items ?? []) {
          const name = item.metadata?.name;
          if (!name) continue;
          const key = identityKey({ ...kind, name, ...(item.metadata?.namespace ? { namespace: item.metadata.namespace } : {}) });
          if (wanted.has(key)) live.set(key, item);
        }
        next = body.metadata?.continue || undefined;
      } while (next);
      return true;
    };
    await mapLimit([...kinds.values()], this.concurrency, async (kind) => {
      if (await listAll(kind)) return;
      await mapLimit([...kind.namespaces], this.concurrency, (namespace) => listAll(kind, namespace));
    });
    return live;
  }

  async probe(cluster: string): Promise<ClusterProbe> {
    let client: ClusterClient;
    let version: string | undefined;
    let latencyMs: number;
    try {
      client = await this.clientFor(cluster);
      const started = performance.now();
      const response = await this.call({ cluster, action: 'read', target: '/version' }, () => client.send('get', 'GET', '/version'));
      latencyMs = Math.round((performance.now() - started) * 10) / 10;
      version = (response.body as { gitVersion?: unknown } | undefined)?.gitVersion as string | undefined;
    } catch (err) {
      return { cluster, reachable: false, serverSideApply: 'unknown', error: errorMessage(err) };
    }
    return {
      cluster,
      reachable: true,
      ...(typeof version === 'string' ? { version } : {}),
      latencyMs,
      ...(await this.probeApply(client, cluster)),
    };
  }

  /** A dry-run server-side apply of a ConfigMap in the context's namespace: nothing is written. */
  private async probeApply(client: ClusterClient, cluster: string): Promise<Pick<ClusterProbe, 'serverSideApply' | 'error'>> {
    const namespace = client.contextNamespace;
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tricenter-apply-probe', namespace } };
    try {
      const path = await client.pathOf({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name: body.metadata.name }, 'read');
      const response = await this.call(
        { cluster, action: 'dry-run apply', target: `ConfigMap ${namespace}/${body.metadata.name}` },
        () =>
          client.send('dry-run', 'PATCH', path, {
            query: { fieldManager: FIELD_MANAGER, dryRun: 'All', force: 'true' },
            body,
            contentType: APPLY_PATCH,
          }),
        () => true,
      );
      if (response.status >= 200 && response.status < 300) return { serverSideApply: 'yes' };
      if (response.status === 415) return { serverSideApply: 'no', error: 'the API server does not accept apply patches (415)' };
      const reason = parseStatus(response.body)?.message ?? `HTTP ${response.status}`;
      return { serverSideApply: 'unknown', error: `dry-run apply in namespace ${namespace}: ${reason}` };
    } catch (err) {
      return { serverSideApply: 'unknown', error: errorMessage(err) };
    }
  }

  // The review page (issue 16): what a step would change, kept apart from apply. Model: model/preview.ts.

  async preview(cluster: string, app: AppRef, manifests: KubeObject[], keep: ObjectRef[]): Promise<ObjectPreview[]> {
    const client = await this.clientFor(cluster);
    const prepared: KubeObject[] = [];
    for (const manifest of manifests) {
      const resource = await this.resourceOf(client, cluster, manifest, refKey(objectRef(manifest)));
      prepared.push(prepareForApply(manifest, resource.namespaced ? (manifest.metadata.namespace ?? client.contextNamespace) : undefined));
    }
    const live = await this.liveStates(client, cluster, prepared);
    const previews = await mapLimit(prepared, this.concurrency, async (manifest) => {
      const ref = objectRef(manifest);
      const current = live.get(refKey(ref));
      const write = planWrite(manifest, current);
      // Only an apply of our own object changes its content; a join adds us to the sharers, a refusal changes nothing.
      if (write.mode !== 'apply' || write.unchanged) return previewObject(ref, current, current ?? write.manifest);
      return previewObject(ref, current, await this.dryRunResult(client, cluster, write.manifest));
    });
    const wanted = new Set([...keep, ...prepared.map(objectRef)].map(identityKey));
    const pruned = (await this.listOwned(cluster, app)).filter((ref) => !wanted.has(identityKey(ref)));
    return [...previews, ...pruned.map((ref) => prunedObject(ref, undefined))];
  }

  /** The object as a server-side apply would leave it; the manifest itself where its namespace does not exist yet. */
  private async dryRunResult(client: ClusterClient, cluster: string, manifest: KubeObject): Promise<unknown> {
    const ref = objectRef(manifest);
    const req = { cluster, action: 'dry-run apply', target: refKey(ref) };
    const query = { fieldManager: FIELD_MANAGER, force: 'true', dryRun: 'All' };
    const response = await this.call(
      req,
      async () => client.send('dry-run', 'PATCH', await this.applyPath(client, ref), { query, body: manifest, contentType: APPLY_PATCH }),
      () => true,
    );
    if (response.status >= 200 && response.status < 300) return response.body;
    if (response.status === 404 && parseStatus(response.body)?.details?.kind === 'namespaces') return manifest;
    throw classifyHttpStatus(response.status, response.body, req);
  }
}

/** One gateway per set of connections (the factory every composition calls, as unstorage has one per driver). */
export function createKubeGateway(options: KubeGatewayOptions): KubeGateway {
  return new KubeGateway(options);
}
