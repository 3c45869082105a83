import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { Clock } from '#shared/platform/clock.ts';
import { isObject, type Json, type JsonObject } from './fieldpath.ts';
import { PATCH_TYPES, type Registry, type WriteOptions } from './registry.ts';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  coreVersions,
  findResource,
  groupVersion,
  SERVER_VERSION,
  servesGroupVersion,
  type ResourceType,
} from './resources.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import {
  ApiError,
  badRequest,
  methodNotAllowed,
  pathNotFound,
  unauthorized,
  unsupportedMediaType,
  unsupportedPatchType,
} from './status.ts';
import { toTable, partialMetadata, type IncludeObject } from './table.ts';
import { serveWatch } from './watch.ts';
import { decodeProtobufObject, PROTOBUF } from './protobuf.ts';

/**
 * HTTP front of one simulated cluster: bearer-token authentication, discovery, and the REST
 * paths of the served resources (`/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}`,
 * `/apis/{group}/{version}/...`), mapped to the registry's verbs. Every answer is JSON; every
 * error a Status.
 */
export interface RouterContext {
  registry: Registry;
  clock: Clock;
  token: string;
  serverAddress: () => string;
  count: (verb: string) => void;
}

const MAX_BODY = 3 * 1024 * 1024;

interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export async function handleApiRequest(ctx: RouterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    if (req.headers.authorization !== `Bearer ${ctx.token}`) throw unauthorized();
    const url = new URL(req.url ?? '/', 'https://sandbox');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (url.pathname === '/openapi/v2') {
      ctx.count('discovery');
      return sendOpenApi(req, res);
    }
    const discovery = discoveryAnswer(ctx, segments);
    if (discovery !== undefined) {
      ctx.count('discovery');
      if (req.method !== 'GET') throw methodNotAllowed();
      return sendJson(res, 200, discovery);
    }
    const target = resolveTarget(segments);
    if (!target) throw pathNotFound();
    await serveResource(ctx, req, res, url, target);
  } catch (err) {
    sendError(res, err);
  }
}

function discoveryAnswer(ctx: RouterContext, s: string[]): Json | undefined {
  const path = s.join('/');
  if (path === 'version') return SERVER_VERSION;
  if (path === 'healthz' || path === 'livez' || path === 'readyz') return 'ok';
  if (path === 'api') return coreVersions(ctx.serverAddress()) as Json;
  if (path === 'apis') return apiGroupList() as Json;
  if (path === 'api/v1') return apiResourceList('', 'v1') as Json;
  if (s.length === 2 && s[0] === 'apis') return (apiGroup(s[1] ?? '') as Json | undefined) ?? undefined;
  if (s.length === 3 && s[0] === 'apis' && servesGroupVersion(s[1] ?? '', s[2] ?? ''))
    return apiResourceList(s[1] ?? '', s[2] ?? '') as Json;
  return undefined;
}

function resolveTarget(s: string[]): Target | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (s[0] === 'api' && s[1] === 'v1') [group, version, rest] = ['', 'v1', s.slice(2)];
  else if (s[0] === 'apis' && s.length >= 4) [group, version, rest] = [s[1] ?? '', s[2] ?? '', s.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    const candidate = findResource(group, version, rest[2] ?? '');
    if (candidate?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
  }
  const type = findResource(group, version, rest[0] ?? '');
  if (!type || rest.length > 3) return undefined;
  if (namespace !== undefined && !type.namespaced) return undefined;
  const [, name, subresource] = rest;
  if (subresource !== undefined && !((subresource === 'status' && type.status) || (subresource === 'scale' && type.kind === 'Deployment')))
    return undefined;
  const target: Target = { type };
  if (namespace !== undefined) target.namespace = namespace;
  if (name !== undefined) target.name = name;
  if (subresource !== undefined) target.subresource = subresource;
  return target;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const OBJECT_MEDIA_TYPES = ['application/json', 'application/yaml'];

/**
 * Request bodies: JSON, YAML (for creates and updates, as kube-apiserver accepts them), the apply
 * patch's YAML, and the protobuf kubectl's typed commands send for the kinds protobuf.ts knows;
 * other protobuf bodies get a 415 that names what is accepted.
 */
/** Clients (client-node, kubectl) send apply patches as JSON, which is YAML too: try the far cheaper JSON parser first. */
function parseApplyBody(text: string): Json {
  if (/^\s*[{[]/.test(text)) {
    try {
      return JSON.parse(text) as Json;
    } catch {
      // flow-style YAML such as `{kind: ConfigMap}`: the YAML parser below decides
    }
  }
  return parseYaml(text) as Json;
}

function parseBody(raw: Buffer, contentType: string, accepted: string[] = OBJECT_MEDIA_TYPES): Json {
  const type = contentType || 'application/json';
  if (type === PROTOBUF && accepted === OBJECT_MEDIA_TYPES) return decodeProtobufObject(raw, accepted);
  if (!accepted.includes(type) && type !== 'application/apply-patch+yaml' && !PATCH_TYPES.includes(type))
    throw unsupportedMediaType(accepted);
  const text = raw.toString('utf8');
  if (!text.trim()) throw badRequest("Object 'Kind' is missing in ''");
  try {
    if (!type.endsWith('yaml')) return JSON.parse(text) as Json;
    return parseApplyBody(text);
  } catch (err) {
    throw badRequest(`error decoding request body: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

function managerOf(url: URL, req: IncomingMessage): string {
  const explicit = url.searchParams.get('fieldManager');
  if (explicit) return explicit;
  const agent = (req.headers['user-agent'] ?? '').split('/')[0]?.slice(0, 128) ?? '';
  return agent || 'unknown';
}

async function serveResource(ctx: RouterContext, req: IncomingMessage, res: ServerResponse, url: URL, target: Target): Promise<void> {
  const { registry } = ctx;
  const { type, namespace, name } = target;
  const q = url.searchParams;
  const dryRun = q.getAll('dryRun').includes('All');
  const subresource = target.subresource === 'status' ? 'status' : undefined;
  const writeOptions: WriteOptions = { manager: managerOf(url, req), dryRun };
  if (subresource) writeOptions.subresource = subresource;
  const method = req.method ?? 'GET';
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';

  if (type.namespaced && namespace === undefined && (name !== undefined || method !== 'GET')) {
    if (name !== undefined) throw pathNotFound();
    throw methodNotAllowed();
  }
  if (name === undefined) {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '', ['metadata.name', 'metadata.namespace']);
    if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1')) {
      ctx.count('watch');
      const table = tableRequest(req);
      const render = table
        ? (obj: JsonObject) =>
            toTable(
              type,
              [obj],
              { resourceVersion: String((obj.metadata as JsonObject).resourceVersion ?? '') },
              ctx.clock.now(),
              includeObject(q),
              table,
            )
        : undefined;
      const watch = {
        store: registry.store,
        type,
        namespace,
        labels,
        fields,
        resourceVersion: q.get('resourceVersion') ?? '',
        timeoutSeconds: Number(q.get('timeoutSeconds') ?? 0),
      };
      return serveWatch(render ? { ...watch, render } : watch, req, res);
    }
    if (method === 'GET') {
      ctx.count('list');
      const resourceVersion = String(registry.store.resourceVersion());
      const page = paginate(registry.list(type, namespace, labels, fields), q.get('limit'), q.get('continue'));
      return sendObjects(ctx, req, res, type, page.items, resourceVersion, true, page.more);
    }
    if (method === 'POST') {
      ctx.count('create');
      const body = parseBody(await readBody(req), contentType);
      if (!isObject(body)) throw badRequest('the body of the request must be an object');
      return sendJson(res, 201, registry.create(type, namespace, body, writeOptions));
    }
    if (method === 'DELETE') {
      ctx.count('deletecollection');
      if (type.kind === 'Namespace') throw methodNotAllowed();
      const items = registry.list(type, namespace, labels, fields);
      for (const item of items) registry.delete(type, namespace, String((item.metadata as JsonObject).name), {}, dryRun);
      return sendJson(res, 200, {
        kind: `${type.kind}List`,
        apiVersion: groupVersion(type),
        metadata: { resourceVersion: String(registry.store.resourceVersion()) },
        items: items.map(stripTypeMeta),
      });
    }
    throw methodNotAllowed();
  }

  if (target.subresource === 'scale') return serveScale(ctx, req, res, target, writeOptions, contentType);
  if (method === 'GET') {
    ctx.count('get');
    const obj = registry.get(type, namespace, name);
    return sendObjects(ctx, req, res, type, [obj], String((obj.metadata as JsonObject).resourceVersion), false);
  }
  if (method === 'PUT') {
    ctx.count('update');
    const body = parseBody(await readBody(req), contentType);
    if (!isObject(body)) throw badRequest('the body of the request must be an object');
    return sendJson(res, 200, registry.update(type, namespace, name, body, writeOptions));
  }
  if (method === 'PATCH') {
    ctx.count('patch');
    if (!PATCH_TYPES.includes(contentType)) throw unsupportedPatchType();
    if (contentType === 'application/apply-patch+yaml' && !q.get('fieldManager')) {
      throw new ApiError(
        422,
        'Invalid',
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
        {
          group: 'meta.k8s.io',
          kind: 'PatchOptions',
          causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
        },
      );
    }
    const body = parseBody(await readBody(req), contentType);
    const force = q.get('force') === 'true';
    const { object, created } = registry.patch(type, namespace, name, contentType, body, { ...writeOptions, force });
    return sendJson(res, created ? 201 : 200, object);
  }
  if (method === 'DELETE') {
    ctx.count('delete');
    if (subresource) throw methodNotAllowed();
    const raw = await readBody(req);
    const options = raw.toString('utf8').trim() ? parseBody(raw, 'application/json') : {};
    const preconditions = isObject(options) && isObject(options.preconditions) ? options.preconditions : {};
    const result = registry.delete(
      type,
      namespace,
      name,
      {
        uid: typeof preconditions.uid === 'string' ? preconditions.uid : undefined,
        resourceVersion: typeof preconditions.resourceVersion === 'string' ? preconditions.resourceVersion : undefined,
      } as { uid?: string; resourceVersion?: string },
      dryRun,
    );
    return sendJson(res, 200, result);
  }
  throw methodNotAllowed();
}

async function serveScale(
  ctx: RouterContext,
  req: IncomingMessage,
  res: ServerResponse,
  target: Target,
  options: WriteOptions,
  contentType: string,
): Promise<void> {
  const { type, namespace } = target;
  const name = target.name ?? '';
  if (req.method === 'GET') {
    ctx.count('get');
    return sendJson(res, 200, ctx.registry.getScale(type, namespace, name));
  }
  if (req.method !== 'PUT' && req.method !== 'PATCH') throw methodNotAllowed();
  ctx.count(req.method === 'PUT' ? 'update' : 'patch');
  const body = parseBody(await readBody(req), contentType);
  if (req.method === 'PUT') {
    if (!isObject(body)) throw badRequest('the body of the request must be an object');
    return sendJson(res, 200, ctx.registry.updateScale(type, namespace, name, { body }, options));
  }
  return sendJson(res, 200, ctx.registry.updateScale(type, namespace, name, { patch: body, contentType }, options));
}

function stripTypeMeta(obj: JsonObject): JsonObject {
  const { apiVersion: _apiVersion, kind: _kind, ...rest } = obj;
  return rest;
}

/** Content negotiation: a Table for kubectl's printers, PartialObjectMetadata, or the objects themselves. */
interface MoreItems {
  continue: string;
  remainingItemCount: number;
}

/**
 * `limit` and `continue`: a page of the list and a token for the rest. The token names the last
 * key served; the next page is read from the current state (a real server reads the snapshot of
 * the first page's resourceVersion, which only matters when the list changes between pages).
 */
function paginate(items: JsonObject[], limitParam: string | null, token: string | null): { items: JsonObject[]; more?: MoreItems } {
  const keyOf = (o: JsonObject): string =>
    `${String((o.metadata as JsonObject).namespace ?? '')}/${String((o.metadata as JsonObject).name)}`;
  let rest = items;
  if (token) {
    let after: string;
    try {
      after = String((JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { start?: unknown }).start ?? '');
    } catch {
      throw badRequest('continue key is not valid: illegal base64 data');
    }
    rest = items.filter((o) => keyOf(o) > after);
  }
  const limit = Number(limitParam ?? 0);
  if (!Number.isInteger(limit) || limit <= 0 || rest.length <= limit) return { items: rest };
  const pageItems = rest.slice(0, limit);
  const last = pageItems[pageItems.length - 1] as JsonObject;
  return {
    items: pageItems,
    more: {
      continue: Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', start: keyOf(last) })).toString('base64url'),
      remainingItemCount: rest.length - limit,
    },
  };
}

function acceptParams(req: IncomingMessage): Array<Record<string, string>> {
  return String(req.headers.accept ?? '')
    .split(',')
    .map((candidate) =>
      Object.fromEntries(
        candidate
          .split(';')
          .slice(1)
          .map((p) => p.trim().split('=') as [string, string]),
      ),
    );
}

/** The Table version (v1 or v1beta1) the client asks for, if it asks for a Table. */
function tableRequest(req: IncomingMessage): string | undefined {
  const params = acceptParams(req).find((p) => p.as === 'Table' && p.g === 'meta.k8s.io' && (p.v === 'v1' || p.v === 'v1beta1'));
  return params?.v;
}

function includeObject(q: URLSearchParams): IncludeObject {
  const value = q.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function sendObjects(
  ctx: RouterContext,
  req: IncomingMessage,
  res: ServerResponse,
  type: ResourceType,
  objects: JsonObject[],
  resourceVersion: string,
  isList: boolean,
  more?: MoreItems,
): void {
  const listMeta: JsonObject = {
    resourceVersion,
    ...(more ? { continue: more.continue, remainingItemCount: more.remainingItemCount } : {}),
  };
  const url = new URL(req.url ?? '/', 'https://sandbox');
  const table = tableRequest(req);
  if (table) return sendJson(res, 200, toTable(type, objects, listMeta, ctx.clock.now(), includeObject(url.searchParams), table));
  const partial = acceptParams(req).find(
    (p) => (p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && p.g === 'meta.k8s.io',
  );
  if (partial) {
    if (!isList) return sendJson(res, 200, partialMetadata(objects[0] as JsonObject));
    return sendJson(res, 200, {
      kind: 'PartialObjectMetadataList',
      apiVersion: `meta.k8s.io/${partial.v ?? 'v1'}`,
      metadata: listMeta,
      items: objects.map(partialMetadata),
    });
  }
  if (!isList) return sendJson(res, 200, objects[0] as JsonObject);
  sendJson(res, 200, { kind: `${type.kind}List`, apiVersion: groupVersion(type), metadata: listMeta, items: objects.map(stripTypeMeta) });
}

/**
 * An OpenAPI v2 document that publishes no schemas: clients that validate against the schema
 * (kubectl) find none for our kinds and skip client-side validation; the server validates.
 * kubectl asks for the protobuf form, whose minimal encoding is written out here by hand:
 * Document{swagger: "2.0" (field 1), info (field 2): Info{title (1), version (2)}}.
 */
function sendOpenApi(req: IncomingMessage, res: ServerResponse): void {
  const info = { title: 'Kubernetes', version: SERVER_VERSION.gitVersion };
  if (String(req.headers.accept ?? '').includes('protobuf')) {
    const field = (tag: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([tag, bytes.length]), bytes]);
    const infoBytes = Buffer.concat([field(0x0a, Buffer.from(info.title)), field(0x12, Buffer.from(info.version))]);
    const body = Buffer.concat([field(0x0a, Buffer.from('2.0')), field(0x12, infoBytes)]);
    res.writeHead(200, { 'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': body.length });
    res.end(body);
    return;
  }
  sendJson(res, 200, { swagger: '2.0', info, paths: {}, definitions: {} });
}

function sendJson(res: ServerResponse, code: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const apiError =
    err instanceof ApiError
      ? err
      : new ApiError(500, 'InternalError', `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`);
  sendJson(res, apiError.code, apiError.toStatus() as unknown as Json);
}
