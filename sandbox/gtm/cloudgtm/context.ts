import { GtmApiError, apiErrors } from '../api-error.ts';
import { paginate } from '../action-context.ts';
import type { IntRange, ParamReader } from '../params.ts';
import type { CloudGtmStore } from './model.ts';

/**
 * What a GTM 3.0 action handler gets, the errors it answers with, and readers for the parameters
 * the SDK sends as one JSON string (`HealthTasks`, `Addresses`, `AddressPools`, `IspCityNodes`:
 * arrays of objects keyed by wire names, e.g. `[{"AddressId":"addr-1","SerialNumber":1}]`).
 */

export interface CloudActionContext {
  params: ParamReader;
  store: CloudGtmStore;
  now: number;
  /** Called after a write that changes what must be probed (addresses' tasks, templates). */
  probesChanged(): void;
}

export type CloudActionResult = Record<string, unknown>;
export type CloudActionHandler = (context: CloudActionContext) => CloudActionResult;

/**
 * Error codes for what the SDK models do not document. Not found: `Invalid<Field>.NotFound`
 * (HTTP 404), the POP pattern of `InvalidAccessKeyId.NotFound`. A delete refused while something
 * references the object: `OperationDenied.<Object>InUse` (400), naming who references it.
 * A second configuration for the same domain and record type: `OperationDenied.ConfigExists`.
 */
export const cloudErrors = {
  notFound: (field: string, id: string) =>
    new GtmApiError(`Invalid${field}.NotFound`, 404, `The specified ${field} "${id}" does not exist.`),
  inUse: (object: string, id: string, users: string) =>
    new GtmApiError(`OperationDenied.${object}InUse`, 400, `The ${object} "${id}" is referenced by ${users} and cannot be deleted.`),
  denied: (code: string, message: string) => new GtmApiError(`OperationDenied.${code}`, 400, message),
};

export function requireInstance(context: CloudActionContext): string {
  const instanceId = context.params.requiredString('InstanceId');
  if (instanceId !== context.store.instanceId) throw cloudErrors.notFound('InstanceId', instanceId);
  return instanceId;
}

/**
 * PageNumber / PageSize: the models mark them required but document defaults (1 and 20), so an
 * absent one takes its default; a present one must be an integer in range (PageSize at most 100).
 */
export function listPage<T>(context: CloudActionContext, items: T[]): { fields: CloudActionResult; pageItems: T[] } {
  const { pageNumber, pageSize } = context.params.page(100);
  return paginate(items, pageNumber, pageSize);
}

/** One element of a JSON array parameter; errors name it as `Addresses[2].WeightValue` (0-based, as in the JSON). */
export class JsonItem {
  constructor(
    readonly path: string,
    private readonly value: Record<string, unknown>,
  ) {}

  has(field: string): boolean {
    return this.value[field] !== undefined && this.value[field] !== null;
  }

  requiredString(field: string): string {
    const value = this.value[field];
    if (value === undefined || value === null || value === '') throw apiErrors.missingParameter(`${this.path}.${field}`);
    if (typeof value !== 'string')
      throw apiErrors.invalidParameter(`${this.path}.${field}`, `expected a string, got ${JSON.stringify(value)}.`);
    return value;
  }

  optionalInt(field: string, range: IntRange): number | undefined {
    const value = this.value[field];
    if (value === undefined || value === null || value === '') return undefined;
    const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(number)) throw apiErrors.invalidParameter(`${this.path}.${field}`, `${JSON.stringify(value)} is not an integer.`);
    if ((range.min !== undefined && number < range.min) || (range.max !== undefined && number > range.max))
      throw apiErrors.invalidParameter(`${this.path}.${field}`, `${number} is outside [${range.min ?? '-inf'}, ${range.max ?? 'inf'}].`);
    return number;
  }

  optionalStringList(field: string): string[] | undefined {
    const value = this.value[field];
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === ''))
      throw apiErrors.invalidParameter(`${this.path}.${field}`, 'expected a list of non-empty strings.');
    return value as string[];
  }
}

/** A parameter holding a JSON array of objects; undefined when absent. */
export function jsonItems(params: ParamReader, name: string, maxItems: number): JsonItem[] | undefined {
  const value = params.optionalJson(name);
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw apiErrors.invalidParameter(name, 'expected a JSON array of objects.');
  if (value.length > maxItems) throw apiErrors.invalidParameter(name, `at most ${maxItems} items are allowed, got ${value.length}.`);
  return value.map((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item))
      throw apiErrors.invalidParameter(`${name}[${index}]`, 'expected a JSON object.');
    return new JsonItem(`${name}[${index}]`, item as Record<string, unknown>);
  });
}

/** An integer parameter that must be one of a few values (EvaluationCount, Timeout, FailureRate). */
export function intOneOf(params: ParamReader, name: string, allowed: readonly number[], required: boolean): number | undefined {
  const value = required ? params.requiredInt(name, {}) : params.optionalInt(name, {});
  if (value !== undefined && !allowed.includes(value))
    throw apiErrors.invalidParameter(name, `${value} is not one of ${allowed.join(', ')}.`);
  return value;
}

export function checkUnique(name: string, ids: string[]): void {
  const seen = new Set<string>();
  for (const [index, id] of ids.entries()) {
    if (seen.has(id)) throw apiErrors.invalidParameter(`${name}[${index}]`, `"${id}" appears twice in the list.`);
    seen.add(id);
  }
}
