import { z } from 'zod';
import type { KubeObject } from './kube.ts';

/** Validates the part of a Kubernetes object every layer relies on (see KubeObject). */
export const kubeObjectSchema = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
}) satisfies z.ZodType<KubeObject>;

export type KubeObjectCheck = { success: true; data: KubeObject } | { success: false; error: z.ZodError };

/**
 * What `kubeObjectSchema.safeParse(value)` gives: the same issues, and an object equal to zod's,
 * its members in the same order (zod puts the schema's members first). A plain valid object is
 * checked without zod, and returned as it is when its members already are in that order: the
 * renderer checks every object a trait changes, tens of thousands per plan.
 */
export function checkKubeObject(value: unknown): KubeObjectCheck {
  const metadata = isPlain(value) ? plainMetadata(value.metadata) : undefined;
  if (!isPlain(value) || metadata === undefined || !isName(value.apiVersion) || !isName(value.kind)) {
    return kubeObjectSchema.safeParse(value);
  }
  if (metadata === value.metadata && inSchemaOrder(value, TOP_LEVEL)) return { success: true, data: value as KubeObject };
  const data: Record<string, unknown> = { apiVersion: value.apiVersion, kind: value.kind, metadata };
  copyOtherMembers(value, data, TOP_LEVEL);
  return { success: true, data: data as KubeObject };
}

const TOP_LEVEL = ['apiVersion', 'kind', 'metadata'] as const;
const METADATA = ['name', 'namespace', 'labels', 'annotations'] as const;

/** The metadata as zod gives it: `value` itself when it is already so, a copy in zod's order otherwise, undefined when invalid. */
function plainMetadata(value: unknown): Record<string, unknown> | undefined {
  if (!isPlain(value) || !isName(value.name)) return undefined;
  if ('namespace' in value && value.namespace !== undefined && !isName(value.namespace)) return undefined;
  let copied = false;
  for (const key of ['labels', 'annotations'] as const) {
    if (!(key in value) || value[key] === undefined) continue;
    const map = stringMap(value[key]);
    if (map === undefined) return undefined;
    if (map !== value[key]) copied = true;
  }
  if (!copied && inSchemaOrder(value, METADATA)) return value;
  const out: Record<string, unknown> = { name: value.name };
  if ('namespace' in value) out.namespace = value.namespace;
  for (const key of ['labels', 'annotations'] as const) {
    if (key in value) out[key] = value[key] === undefined ? undefined : stringMap(value[key]);
  }
  copyOtherMembers(value, out, METADATA);
  return out;
}

/** A map of strings as zod gives it (`value` itself unless it has a `__proto__` member), undefined when invalid. */
function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isPlain(value) || Object.getOwnPropertySymbols(value).length > 0) return undefined;
  let protoKey = false;
  for (const key of Object.keys(value)) {
    if (typeof value[key] !== 'string') return undefined;
    if (key === '__proto__') protoKey = true;
  }
  if (!protoKey) return value as Record<string, string>;
  const out: Record<string, string> = {};
  for (const key of Object.keys(value)) if (key !== '__proto__') out[key] = value[key] as string;
  return out;
}

/** Whether the schema's members that `value` has come first, in the schema's order, and no `__proto__` member follows. */
function inSchemaOrder(value: Record<string, unknown>, schema: readonly string[]): boolean {
  const keys = Object.keys(value);
  let at = 0;
  for (const key of schema) if (key in value) if (keys[at++] !== key) return false;
  for (let i = at; i < keys.length; i++) if (keys[i] === '__proto__' || schema.includes(keys[i] as string)) return false;
  return true;
}

function copyOtherMembers(from: Record<string, unknown>, to: Record<string, unknown>, schema: readonly string[]): void {
  for (const key of Object.keys(from)) if (!schema.includes(key) && key !== '__proto__') to[key] = from[key];
}

/** A plain object: made by a literal or parsed; not an array, a class instance or an object without prototype (zod's way with those is left to zod). */
function isPlain(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

const isName = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
