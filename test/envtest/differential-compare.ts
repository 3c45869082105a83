/**
 * How the differential suite compares two servers' answers: status code, then the body with every
 * field the server sets on its own (uid, resourceVersion, timestamps, allocated IPs, generated
 * names) replaced by a placeholder, so that what remains must be identical. A Status is compared by
 * reason, code and details (causes by type and field); its human message only informs.
 */
import type { RawResponse } from '../helpers/kube-raw.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

const SERVER_SET = '<server-set>';
const TIME_KEYS = new Set(['lastTransitionTime', 'lastUpdateTime', 'lastHeartbeatTime', 'lastProbeTime']);

function normalizeMetadata(metadata: JsonObject): void {
  for (const key of ['uid', 'resourceVersion', 'creationTimestamp', 'selfLink', 'deletionTimestamp', 'continue']) {
    if (key in metadata) metadata[key] = SERVER_SET;
  }
  if (typeof metadata.generateName === 'string' && typeof metadata.name === 'string' && metadata.name.startsWith(metadata.generateName)) {
    metadata.name = `${metadata.generateName}${SERVER_SET}`;
  }
  if (Array.isArray(metadata.managedFields)) {
    const entries = metadata.managedFields.filter(isObject);
    for (const entry of entries) if ('time' in entry) entry.time = SERVER_SET;
    // The order is compared on its own (kube-apiserver sorts Apply entries first), so that an order
    // difference does not hide what each manager owns.
    metadata.managedFieldsOrder = entries.map((e) => `${String(e.manager)}/${String(e.operation)}`);
    metadata.managedFields = [...entries].sort((a, b) =>
      `${String(a.manager)}/${String(a.operation)}`.localeCompare(`${String(b.manager)}/${String(b.operation)}`),
    );
  }
}

/** The ReplicaSet name in a Deployment condition carries a template hash each controller computes its own way. */
function normalizeConditionMessage(message: string): string {
  return message.replace(/ReplicaSet "([a-z0-9.-]+)-[a-z0-9]+"/g, `ReplicaSet "$1-${SERVER_SET}"`);
}

function normalizeValue(value: Json, key: string | undefined): Json {
  if (Array.isArray(value)) return value.map((v) => normalizeValue(v, undefined));
  if (!isObject(value)) {
    if (key && TIME_KEYS.has(key)) return SERVER_SET;
    return key === 'message' && typeof value === 'string' ? normalizeConditionMessage(value) : value;
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) out[k] = normalizeValue(v, k);
  if (isObject(out.metadata)) normalizeMetadata(out.metadata);
  if (out.kind === 'Service' && isObject(out.spec)) {
    for (const ipKey of ['clusterIP', 'clusterIPs']) if (ipKey in out.spec) out.spec[ipKey] = SERVER_SET;
  }
  if (Array.isArray(out.items)) {
    out.items = [...out.items].sort((a, b) => itemKey(a).localeCompare(itemKey(b)));
  }
  if (out.kind === 'Status') {
    delete out.message;
    if (isObject(out.details) && 'uid' in out.details) out.details.uid = SERVER_SET;
    if (isObject(out.details) && Array.isArray(out.details.causes)) {
      out.details.causes = out.details.causes
        .map((c) => (isObject(c) ? { reason: c.reason ?? null, field: c.field ?? null } : c))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    }
  }
  return out;
}

function itemKey(item: Json): string {
  const metadata = isObject(item) && isObject(item.metadata) ? item.metadata : {};
  return `${String(metadata.namespace ?? '')}/${String(metadata.name ?? '')}`;
}

export interface NormalizedResponse {
  status: number;
  body: Json;
  /** The Status message (or the raw text of a non-JSON answer), shown but not compared. */
  message?: string;
}

export function normalizeResponse(response: RawResponse): NormalizedResponse {
  const body = response.body as Json;
  const out: NormalizedResponse = { status: response.status, body: typeof body === 'string' ? '<text>' : normalizeValue(body, undefined) };
  if (isObject(body) && body.kind === 'Status' && typeof body.message === 'string') out.message = body.message;
  if (typeof body === 'string') out.message = body.slice(0, 300);
  return out;
}

export interface Difference {
  /** `status`, or a JSON path into the body such as `body.metadata.managedFields[1].fieldsV1`. */
  path: string;
  real: Json | undefined;
  sandbox: Json | undefined;
}

function diffJson(real: Json | undefined, sandbox: Json | undefined, path: string, out: Difference[]): void {
  if (isObject(real) && isObject(sandbox)) {
    for (const key of new Set([...Object.keys(real), ...Object.keys(sandbox)])) {
      diffJson(real[key], sandbox[key], `${path}.${key}`, out);
    }
    return;
  }
  if (Array.isArray(real) && Array.isArray(sandbox) && real.length === sandbox.length) {
    real.forEach((item, i) => {
      diffJson(item, sandbox[i], `${path}[${i}]`, out);
    });
    return;
  }
  if (JSON.stringify(real) !== JSON.stringify(sandbox)) out.push({ path, real, sandbox });
}

export function compareResponses(real: NormalizedResponse, sandbox: NormalizedResponse): Difference[] {
  const out: Difference[] = [];
  if (real.status !== sandbox.status) out.push({ path: 'status', real: real.status, sandbox: sandbox.status });
  diffJson(real.body, sandbox.body, 'body', out);
  return out;
}

/** One line per difference, short enough for a table cell or a failure message. */
export function describeDifferences(differences: Difference[]): string {
  const show = (v: Json | undefined): string => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 160));
  return differences.map((d) => `${d.path}: real ${show(d.real)} | sandbox ${show(d.sandbox)}`).join('\n');
}
