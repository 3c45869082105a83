import { isObject, type Json, type JsonObject } from './fieldpath.ts';
import { unsupportedMediaType } from './status.ts';

/**
 * Just enough of Kubernetes' protobuf encoding to read what kubectl's typed commands send
 * (`kubectl create namespace|configmap|secret`): the `k8s\0` envelope (runtime.Unknown) and the
 * messages of those three kinds. Anything else in protobuf is a 415, as before.
 */
type FieldType = 'string' | 'bytes' | 'bool' | 'int' | 'strings' | 'stringMap' | 'bytesMap' | MessageSchema;
interface MessageSchema {
  [field: number]: [name: string, type: FieldType];
}

const OBJECT_META: MessageSchema = {
  1: ['name', 'string'],
  2: ['generateName', 'string'],
  3: ['namespace', 'string'],
  11: ['labels', 'stringMap'],
  12: ['annotations', 'stringMap'],
  14: ['finalizers', 'strings'],
};

const SCHEMAS: Record<string, MessageSchema> = {
  'v1/Namespace': { 1: ['metadata', OBJECT_META], 2: ['spec', { 1: ['finalizers', 'strings'] }] },
  'v1/ConfigMap': { 1: ['metadata', OBJECT_META], 2: ['data', 'stringMap'], 3: ['binaryData', 'bytesMap'], 4: ['immutable', 'bool'] },
  'v1/Secret': {
    1: ['metadata', OBJECT_META],
    2: ['data', 'bytesMap'],
    3: ['type', 'string'],
    4: ['stringData', 'stringMap'],
    5: ['immutable', 'bool'],
  },
};

const UNKNOWN: MessageSchema = { 1: ['typeMeta', { 1: ['apiVersion', 'string'], 2: ['kind', 'string'] }], 2: ['raw', 'bytes'] };
export const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface WireField {
  number: number;
  varint?: number;
  bytes?: Buffer;
}

function readVarint(buf: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  let pos = start;
  for (;;) {
    const byte = buf[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

function wireFields(buf: Buffer): WireField[] {
  const fields: WireField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, afterTag] = readVarint(buf, pos);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    pos = afterTag;
    if (wireType === 0) {
      const [varint, next] = readVarint(buf, pos);
      fields.push({ number, varint });
      pos = next;
    } else if (wireType === 2) {
      const [length, next] = readVarint(buf, pos);
      fields.push({ number, bytes: buf.subarray(next, next + length) });
      pos = next + length;
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4;
    } else {
      throw new Error(`unsupported wire type ${wireType}`);
    }
  }
  return fields;
}

function decodeMessage(buf: Buffer, schema: MessageSchema): JsonObject {
  const out: JsonObject = {};
  for (const field of wireFields(buf)) {
    const spec = schema[field.number];
    if (!spec) continue;
    const [name, type] = spec;
    const bytes = field.bytes ?? Buffer.alloc(0);
    if (type === 'string') out[name] = bytes.toString('utf8');
    else if (type === 'bytes') out[name] = bytes.toString('base64');
    else if (type === 'bool') out[name] = field.varint === 1;
    else if (type === 'int') out[name] = field.varint ?? 0;
    else if (type === 'strings') out[name] = [...((out[name] as Json[] | undefined) ?? []), bytes.toString('utf8')];
    else if (type === 'stringMap' || type === 'bytesMap') {
      const entry = decodeMessage(bytes, { 1: ['key', 'string'], 2: ['value', type === 'stringMap' ? 'string' : 'bytes'] });
      out[name] = { ...((out[name] as JsonObject | undefined) ?? {}), [String(entry.key ?? '')]: entry.value ?? '' };
    } else out[name] = decodeMessage(bytes, type);
  }
  return out;
}

/** Go's omitempty, roughly: empty strings and empty maps were never set. */
function dropEmpty(value: Json): Json | undefined {
  if (value === '') return undefined;
  if (Array.isArray(value)) return value;
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const kept = dropEmpty(v);
    if (kept !== undefined) out[k] = kept;
  }
  return Object.keys(out).length ? out : undefined;
}

export function decodeProtobufObject(body: Buffer, accepted: string[]): JsonObject {
  if (!body.subarray(0, 4).equals(MAGIC)) throw unsupportedMediaType(accepted);
  const unknown = decodeMessage(body.subarray(4), UNKNOWN);
  const typeMeta = isObject(unknown.typeMeta) ? unknown.typeMeta : {};
  const schema = SCHEMAS[`${String(typeMeta.apiVersion)}/${String(typeMeta.kind)}`];
  if (!schema) throw unsupportedMediaType(accepted);
  const decoded = decodeMessage(Buffer.from(String(unknown.raw ?? ''), 'base64'), schema);
  return {
    apiVersion: String(typeMeta.apiVersion),
    kind: String(typeMeta.kind),
    ...((dropEmpty(decoded) as JsonObject | undefined) ?? {}),
  };
}
