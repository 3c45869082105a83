import { randomUUID } from 'node:crypto';
import type { Clock } from '#shared/platform/clock.ts';
import { applyDefaults } from './defaults.ts';
import { deepEqual, isObject, type Json, type JsonObject } from './fieldpath.ts';
import { managedTime, recordUpdate, serverSideApply } from './managed-fields.ts';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';
import { findResource, groupVersion, RESOURCE_TYPES, type ResourceType } from './resources.ts';
import { matchesFields, matchesLabels, type FieldSelector, type LabelSelector } from './selectors.ts';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  invalid,
  notFound,
  STALE_OBJECT,
  unsupportedMediaType,
  unsupportedPatchType,
} from './status.ts';
import type { ObjectStore } from './store.ts';
import { isQuantity, QUANTITY_MESSAGE, validate, validateUpdate } from './validation.ts';

/**
 * The verbs of the API on one cluster's store, with kube-apiserver's semantics: defaulting,
 * validation, resourceVersion preconditions, generation on spec changes, status subresources,
 * managedFields for every write, server-side apply, namespace lifecycle. HTTP lives in the router.
 */
export interface WriteOptions {
  manager: string;
  dryRun: boolean;
  subresource?: 'status';
}

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

const NAMESPACES = findResource('', 'v1', 'namespaces') as ResourceType;
const SERVICES = findResource('', 'v1', 'services') as ResourceType;
const ALLOCATABLE_IP = /^10\.96\.(\d{1,3})\.(\d{1,3})$/;

function meta(o: JsonObject): JsonObject {
  if (!isObject(o.metadata)) o.metadata = {};
  return o.metadata as JsonObject;
}

export class Registry {
  private nextServiceIp = 2;

  constructor(
    readonly store: ObjectStore,
    private readonly clock: Clock,
  ) {
    // A store restored from disk already holds Services: allocation continues after their addresses.
    for (const service of store.list(SERVICES)) {
      const match = ALLOCATABLE_IP.exec(String((isObject(service.spec) ? service.spec : {}).clusterIP ?? ''));
      if (match) this.nextServiceIp = Math.max(this.nextServiceIp, Number(match[1]) * 254 + Number(match[2]));
    }
  }

  /** Finishes what a restart interrupted: namespaces that were being deleted are emptied and removed. */
  resumeTerminations(): void {
    for (const ns of this.store.list(NAMESPACES)) {
      if (meta(ns).deletionTimestamp) setImmediate(() => this.finishNamespace(String(meta(ns).name)));
    }
  }

  get(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    const found = this.store.get(type, namespace, name);
    if (!found) throw notFound(type, name);
    return found;
  }

  list(type: ResourceType, namespace: string | undefined, labels: LabelSelector, fields: FieldSelector): JsonObject[] {
    return this.store.list(type, namespace).filter((o) => matches(o, labels, fields));
  }

  create(type: ResourceType, namespace: string | undefined, body: JsonObject, options: WriteOptions): JsonObject {
    const obj = this.checkBody(type, namespace, undefined, structuredClone(body));
    const metadata = meta(obj);
    if (!metadata.name && typeof metadata.generateName === 'string') metadata.name = `${metadata.generateName}${randomUUID().slice(0, 5)}`;
    const name = String(metadata.name ?? '');
    this.requireNamespace(type, namespace);
    if (name && this.store.get(type, namespace, name)) throw alreadyExists(type, name);
    this.prepareNew(type, obj);
    this.validateNew(type, obj);
    recordUpdate(type.kind, undefined, obj, options.manager, groupVersion(type), this.clock.now(), ownedScope(type, options));
    return options.dryRun ? obj : this.store.put(type, obj);
  }

  update(type: ResourceType, namespace: string | undefined, name: string, body: JsonObject, options: WriteOptions): JsonObject {
    const incoming = this.checkBody(type, namespace, name, structuredClone(body));
    const before = this.get(type, namespace, name);
    const expected = meta(incoming).resourceVersion;
    if (expected !== undefined && expected !== '' && expected !== meta(before).resourceVersion) throw conflict(type, name, STALE_OBJECT);
    return this.write(type, before, incoming, options, 'update');
  }

  patch(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    contentType: string,
    raw: Json,
    options: WriteOptions & { force: boolean },
  ): { object: JsonObject; created: boolean } {
    if (!PATCH_TYPES.includes(contentType)) throw unsupportedPatchType();
    const live = this.store.get(type, namespace, name);
    if (contentType === 'application/apply-patch+yaml') return this.apply(type, namespace, name, live, raw, options);
    if (!live) throw notFound(type, name);
    let patched: JsonObject;
    if (contentType === 'application/json-patch+json') patched = jsonPatch(live, raw);
    else if (contentType === 'application/merge-patch+json') patched = mergePatch(live, raw) as JsonObject;
    else patched = strategicMergePatch(type.kind, live, raw);
    if (!isObject(patched)) throw badRequest('the patch did not produce an object');
    const expected = isObject(patched.metadata) ? patched.metadata.resourceVersion : undefined;
    if (expected !== undefined && expected !== meta(live).resourceVersion) throw conflict(type, name, STALE_OBJECT);
    this.checkBody(type, namespace, name, patched);
    return { object: this.write(type, live, patched, options, 'update'), created: false };
  }

  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    preconditions: { uid?: string; resourceVersion?: string },
    dryRun: boolean,
  ): JsonObject {
    const live = this.get(type, namespace, name);
    const metadata = meta(live);
    if (preconditions.uid && preconditions.uid !== metadata.uid) {
      throw conflict(
        type,
        name,
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${String(metadata.uid)}`,
      );
    }
    if (preconditions.resourceVersion && preconditions.resourceVersion !== metadata.resourceVersion) {
      throw conflict(
        type,
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${String(metadata.resourceVersion)}`,
      );
    }
    if (type.kind === 'Namespace') return dryRun ? live : this.terminateNamespace(live);
    if (!dryRun) this.store.remove(type, live);
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name, ...(type.group ? { group: type.group } : {}), kind: type.plural, uid: String(metadata.uid ?? '') },
    };
  }

  /** The autoscaling/v1 Scale view of a Deployment (`/scale`, what `kubectl scale` uses). */
  getScale(type: ResourceType, namespace: string | undefined, name: string): JsonObject {
    return scaleOf(this.get(type, namespace, name));
  }

  /** Writes a Scale: a PUT body, or a patch applied to the current Scale. Only spec.replicas counts. */
  updateScale(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    change: { body?: JsonObject; contentType?: string; patch?: Json },
    options: WriteOptions,
  ): JsonObject {
    const live = this.get(type, namespace, name);
    let scale = change.body ?? scaleOf(live);
    if (change.patch !== undefined) {
      const ct = change.contentType ?? '';
      if (!PATCH_TYPES.includes(ct) || ct === 'application/apply-patch+yaml') throw unsupportedMediaType(PATCH_TYPES.slice(0, 3));
      scale = ct === 'application/json-patch+json' ? jsonPatch(scale, change.patch) : (mergePatch(scale, change.patch) as JsonObject);
    }
    const expected = isObject(scale.metadata) ? scale.metadata.resourceVersion : undefined;
    if (expected !== undefined && expected !== '' && expected !== meta(live).resourceVersion) throw conflict(type, name, STALE_OBJECT);
    const replicas = isObject(scale.spec) ? scale.spec.replicas : undefined;
    const next = structuredClone(live);
    (next.spec as JsonObject).replicas = typeof replicas === 'number' ? replicas : 0;
    return scaleOf(this.write(type, live, next, { manager: options.manager, dryRun: options.dryRun }, 'update'));
  }

  /** Status writes by the simulated controllers: an Update by their manager, through the status subresource. */
  writeStatus(type: ResourceType, live: JsonObject, status: JsonObject, manager: string): JsonObject {
    return this.write(type, live, { ...live, status }, { manager, dryRun: false, subresource: 'status' }, 'update');
  }

  private apply(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    live: JsonObject | undefined,
    raw: Json,
    options: WriteOptions & { force: boolean },
  ): { object: JsonObject; created: boolean } {
    if (!isObject(raw)) throw badRequest('error decoding YAML: the applied configuration is not an object');
    if (!options.manager) throw badRequest('PATCH, application/apply-patch+yaml requests require a fieldManager query parameter');
    const config = this.checkBody(type, namespace, name, structuredClone(raw));
    const expected = meta(config).resourceVersion;
    if (expected !== undefined && live && expected !== meta(live).resourceVersion) throw conflict(type, name, STALE_OBJECT);
    if (!live) this.requireNamespace(type, namespace);
    const merged = serverSideApply(type, live, config, {
      manager: options.manager,
      force: options.force,
      apiVersion: groupVersion(type),
      nowMs: this.clock.now(),
    });
    if (!live) {
      this.prepareNew(type, merged);
      this.validateNew(type, merged);
      return { object: options.dryRun ? merged : this.store.put(type, merged), created: true };
    }
    return { object: this.write(type, live, merged, options, 'apply'), created: false };
  }

  private requireNamespace(type: ResourceType, namespace: string | undefined): void {
    if (!type.namespaced || namespace === undefined) return;
    const ns = this.store.get(NAMESPACES, undefined, namespace);
    if (!ns) throw notFound(NAMESPACES, namespace);
    if (isObject(ns.metadata) && ns.metadata.deletionTimestamp) {
      throw new ApiError(
        403,
        'Forbidden',
        `${type.plural} "${String(namespace)}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name: namespace,
          group: type.group,
          kind: type.plural,
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
        },
      );
    }
  }

  /** Fills kind/apiVersion, and checks the body names the object the URL names. */
  private checkBody(type: ResourceType, namespace: string | undefined, name: string | undefined, obj: JsonObject): JsonObject {
    const apiVersion = obj.apiVersion ?? groupVersion(type);
    if (apiVersion !== groupVersion(type) || (obj.kind !== undefined && obj.kind !== type.kind)) {
      throw badRequest(
        `the API version in the data (${String(apiVersion)}) does not match the expected API version (${groupVersion(type)})`,
      );
    }
    obj.apiVersion = groupVersion(type);
    obj.kind = type.kind;
    const metadata = meta(obj);
    if (name !== undefined) {
      if (metadata.name === undefined || metadata.name === '') metadata.name = name;
      else if (metadata.name !== name)
        throw badRequest(`the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`);
    }
    if (type.namespaced && namespace !== undefined) {
      if (metadata.namespace === undefined || metadata.namespace === '') metadata.namespace = namespace;
      else if (metadata.namespace !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    } else if (!type.namespaced) {
      delete metadata.namespace;
    }
    if (type.kind === 'PersistentVolumeClaim') checkQuantities(type, obj);
    return obj;
  }

  private prepareNew(type: ResourceType, obj: JsonObject): void {
    const metadata = meta(obj);
    for (const field of ['resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']) delete metadata[field];
    metadata.uid = randomUUID();
    metadata.creationTimestamp = managedTime(this.clock.now());
    if (type.generation) metadata.generation = 1;
    else delete metadata.generation;
    if (type.status && type.kind !== 'Namespace') delete obj.status;
    applyDefaults(type.kind, obj);
    if (type.kind === 'Service') this.allocateClusterIp(obj);
    if (type.kind === 'Job') generateJobSelector(obj);
  }

  private validateNew(type: ResourceType, obj: JsonObject): void {
    const errors = validate(type.kind, obj);
    if (errors.length) throw invalid(type, String(meta(obj).name ?? ''), errors);
  }

  private write(
    type: ResourceType,
    before: JsonObject,
    incoming: JsonObject,
    options: WriteOptions,
    operation: 'update' | 'apply',
  ): JsonObject {
    const next: JsonObject =
      options.subresource === 'status' ? { ...structuredClone(before), status: incoming.status ?? {} } : structuredClone(incoming);
    const metadata = meta(next);
    const old = meta(before);
    for (const field of ['uid', 'creationTimestamp', 'deletionTimestamp', 'generation', 'resourceVersion']) {
      if (old[field] === undefined) delete metadata[field];
      else metadata[field] = old[field] as Json;
    }
    if (type.status && options.subresource !== 'status' && type.kind !== 'Namespace') {
      if (before.status === undefined) delete next.status;
      else next.status = structuredClone(before.status);
    }
    if (operation === 'update' && options.subresource !== 'status') {
      metadata.managedFields = old.managedFields ?? [];
      if (!Array.isArray(old.managedFields)) delete metadata.managedFields;
    }
    applyDefaults(type.kind, next);
    if (type.kind === 'Service') this.keepClusterIp(next);
    if (type.generation && !deepEqual(before.spec, next.spec)) metadata.generation = Number(old.generation ?? 0) + 1;
    const errors = validateUpdate(type.kind, before, next);
    // Services allow no unconditional update (their registry says so): a PUT must carry the resourceVersion.
    if (
      type.kind === 'Service' &&
      operation === 'update' &&
      options.subresource === undefined &&
      incoming.metadata !== undefined &&
      !meta(incoming).resourceVersion
    ) {
      const missing = {
        reason: 'FieldValueInvalid',
        field: 'metadata.resourceVersion',
        detail: 'Invalid value: "": must be specified for an update',
      };
      errors.unshift(missing, missing);
    }
    if (errors.length) throw invalid(type, String(metadata.name ?? ''), errors);
    if (operation === 'update')
      recordUpdate(type.kind, before, next, options.manager, groupVersion(type), this.clock.now(), ownedScope(type, options));
    if (deepEqual(before, next) || options.dryRun) return next;
    return this.store.put(type, next);
  }

  private allocateClusterIp(obj: JsonObject): void {
    const spec = obj.spec as JsonObject;
    if (spec.type === 'ExternalName') return;
    if (spec.clusterIP === undefined || spec.clusterIP === '') {
      const n = this.nextServiceIp++;
      spec.clusterIP = `10.96.${Math.floor(n / 254) % 256}.${(n % 254) + 1}`;
    }
    if (spec.clusterIPs === undefined) spec.clusterIPs = [spec.clusterIP as string];
  }

  /** A Service update that names its cluster IP but not the list of them gets the list, as 1.20 defaults it. */
  private keepClusterIp(next: JsonObject): void {
    const spec = isObject(next.spec) ? next.spec : {};
    if (spec.clusterIPs === undefined && typeof spec.clusterIP === 'string' && spec.clusterIP !== '') spec.clusterIPs = [spec.clusterIP];
  }

  private terminateNamespace(live: JsonObject): JsonObject {
    const metadata = meta(live);
    if (!metadata.deletionTimestamp) {
      metadata.deletionTimestamp = managedTime(this.clock.now());
      live.status = { phase: 'Terminating' };
      this.store.put(NAMESPACES, live);
      // The namespace controller empties the namespace, then the namespace goes: a watcher sees both.
      setImmediate(() => this.finishNamespace(String(metadata.name)));
    }
    return live;
  }

  private finishNamespace(name: string): void {
    for (const type of RESOURCE_TYPES) {
      if (!type.namespaced) continue;
      for (const obj of this.store.list(type, name)) this.store.remove(type, obj);
    }
    const ns = this.store.get(NAMESPACES, undefined, name);
    if (ns) this.store.remove(NAMESPACES, ns);
  }
}

/** Quantities are parsed while decoding: a malformed one is a 400, before any validation. */
function checkQuantities(type: ResourceType, obj: JsonObject): void {
  const resources = isObject(obj.spec) && isObject(obj.spec.resources) ? obj.spec.resources : {};
  for (const field of ['requests', 'limits']) {
    const values = isObject(resources[field]) ? Object.values(resources[field]) : [];
    if (values.some((v) => !isQuantity(v)))
      throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${QUANTITY_MESSAGE}`);
  }
}

/**
 * A Job without `manualSelector` gets a selector on its own uid, and its pod template the labels
 * that selector needs, as the Job registry's PrepareForCreate does (they are not the creator's).
 */
function generateJobSelector(job: JsonObject): void {
  const spec = isObject(job.spec) ? job.spec : {};
  if (spec.manualSelector === true) return;
  const uid = String(meta(job).uid);
  spec.selector = { matchLabels: { 'controller-uid': uid } };
  const template = isObject(spec.template) ? spec.template : {};
  const templateMeta = meta(template);
  templateMeta.labels = {
    ...(isObject(templateMeta.labels) ? templateMeta.labels : {}),
    'controller-uid': uid,
    'job-name': String(meta(job).name),
  };
}

function scaleOf(deployment: JsonObject): JsonObject {
  const m = meta(deployment);
  const spec = isObject(deployment.spec) ? deployment.spec : {};
  const status = isObject(deployment.status) ? deployment.status : {};
  const matchLabels = isObject(spec.selector) && isObject(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name ?? null,
      namespace: m.namespace ?? null,
      uid: m.uid ?? null,
      resourceVersion: m.resourceVersion ?? null,
      creationTimestamp: m.creationTimestamp ?? null,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: {
      replicas: status.replicas ?? 0,
      selector: Object.entries(matchLabels)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(','),
    },
  };
}

/**
 * What a write through an endpoint can come to own: the status subresource owns status; the main
 * resource of a kind with a status subresource everything else (Namespace aside, whose phase
 * its creator owns, as on a real server).
 */
function ownedScope(type: ResourceType, options: WriteOptions): (o: JsonObject) => JsonObject {
  if (options.subresource === 'status') return (o) => ({ status: o.status ?? null });
  // What the registry itself sets after the field manager has run (allocated IPs, the namespace
  // finalizer) belongs to nobody, as on a real server.
  const unowned = SERVER_SET_SPEC[type.kind] ?? [];
  return (o) => {
    const { status, ...rest } = o;
    const scoped: JsonObject = !type.status || type.kind === 'Namespace' ? { ...rest, ...(status === undefined ? {} : { status }) } : rest;
    if (unowned.length && isObject(scoped.spec)) {
      const spec = Object.fromEntries(Object.entries(scoped.spec).filter(([k]) => !unowned.includes(k)));
      if (Object.keys(spec).length) scoped.spec = spec;
      else delete scoped.spec;
    }
    return scoped;
  };
}

const SERVER_SET_SPEC: Record<string, string[]> = {
  Namespace: ['finalizers'],
  Service: ['clusterIP', 'clusterIPs'],
  Job: ['selector'],
};

export function matches(obj: JsonObject, labels: LabelSelector, fields: FieldSelector): boolean {
  const metadata = meta(obj);
  const objectLabels = isObject(metadata.labels) ? (metadata.labels as Record<string, string>) : undefined;
  return (
    matchesLabels(labels, objectLabels) &&
    matchesFields(fields, { 'metadata.name': String(metadata.name ?? ''), 'metadata.namespace': String(metadata.namespace ?? '') })
  );
}
