import { apiErrors } from './api-error.ts';

/**
 * Reads an action's request parameters as they arrive on the wire: every value is text, repeat
 * lists are flattened as `Key.N.Field` (N from 1). Each reader validates like the real API
 * (required, allowed values, ranges) and throws the Alibaba error for the first problem.
 */
export class ParamReader {
  constructor(private readonly params: Record<string, string>) {}

  requiredString(name: string): string {
    const value = this.params[name];
    if (value === undefined || value === '') throw apiErrors.missingParameter(name);
    return value;
  }

  optionalString(name: string): string | undefined {
    const value = this.params[name];
    return value === undefined || value === '' ? undefined : value;
  }

  requiredEnum<T extends string>(name: string, allowed: readonly T[]): T {
    return checkEnum(name, this.requiredString(name), allowed);
  }

  optionalEnum<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.optionalString(name);
    return value === undefined ? undefined : checkEnum(name, value, allowed);
  }

  requiredInt(name: string, range: IntRange): number {
    return checkInt(name, this.requiredString(name), range);
  }

  optionalInt(name: string, range: IntRange): number | undefined {
    const value = this.optionalString(name);
    return value === undefined ? undefined : checkInt(name, value, range);
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw apiErrors.invalidParameter(name, `"${value}" is not true or false.`);
    return value === 'true';
  }

  /** A repeat list `Key.N.Field`: one record per N, in N order; gaps are rejected like a malformed list. */
  repeatList(key: string, maxItems: number): Array<RepeatItem> {
    const byIndex = new Map<number, Record<string, string>>();
    const pattern = new RegExp(`^${key.replace(/\./g, '\\.')}\\.(\\d+)\\.([A-Za-z]+)$`);
    for (const [name, value] of Object.entries(this.params)) {
      const match = pattern.exec(name);
      if (!match) continue;
      const index = Number(match[1]);
      const field = match[2] as string;
      const item = byIndex.get(index) ?? {};
      item[field] = value;
      byIndex.set(index, item);
    }
    const indexes = [...byIndex.keys()].sort((a, b) => a - b);
    indexes.forEach((index, position) => {
      if (index !== position + 1)
        throw apiErrors.invalidParameter(`${key}.${index}`, `repeat list indexes must run 1, 2, 3... without gaps.`);
    });
    if (indexes.length > maxItems) throw apiErrors.invalidParameter(key, `at most ${maxItems} items are allowed, got ${indexes.length}.`);
    return indexes.map((index) => new RepeatItem(`${key}.${index}`, byIndex.get(index) ?? {}));
  }

  /** A JSON value serialized into one parameter, e.g. `Lines` or `MonitorExtendInfo`. */
  optionalJson(name: string): unknown {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw apiErrors.invalidParameter(name, 'the value is not valid JSON.');
    }
  }

  /** Every parameter but `excluded`, in name order: what makes two requests the same request. */
  fingerprint(excluded: readonly string[]): string {
    return JSON.stringify(
      Object.entries(this.params)
        .filter(([name]) => !excluded.includes(name))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  }

  page(maxPageSize = 100): { pageNumber: number; pageSize: number } {
    return {
      pageNumber: this.optionalInt('PageNumber', { min: 1, max: 9_999_999 }) ?? 1,
      pageSize: this.optionalInt('PageSize', { min: 1, max: maxPageSize }) ?? 20,
    };
  }
}

/** One element of a repeat list; errors name the full wire name, e.g. `Addr.2.Mode`. */
export class RepeatItem {
  private readonly reader: ParamReader;

  constructor(
    readonly wirePrefix: string,
    fields: Record<string, string>,
  ) {
    this.reader = new ParamReader(Object.fromEntries(Object.entries(fields).map(([field, value]) => [`${wirePrefix}.${field}`, value])));
  }

  requiredString(field: string): string {
    return this.reader.requiredString(`${this.wirePrefix}.${field}`);
  }
  optionalString(field: string): string | undefined {
    return this.reader.optionalString(`${this.wirePrefix}.${field}`);
  }
  requiredEnum<T extends string>(field: string, allowed: readonly T[]): T {
    return this.reader.requiredEnum(`${this.wirePrefix}.${field}`, allowed);
  }
  optionalEnum<T extends string>(field: string, allowed: readonly T[]): T | undefined {
    return this.reader.optionalEnum(`${this.wirePrefix}.${field}`, allowed);
  }
  optionalInt(field: string, range: IntRange): number | undefined {
    return this.reader.optionalInt(`${this.wirePrefix}.${field}`, range);
  }
  optionalBoolean(field: string): boolean | undefined {
    return this.reader.optionalBoolean(`${this.wirePrefix}.${field}`);
  }
}

export interface IntRange {
  min?: number;
  max?: number;
}

function checkEnum<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw apiErrors.invalidParameter(name, `"${value}" is not one of ${allowed.join(', ')}.`);
  }
  return value as T;
}

function checkInt(name: string, value: string, range: IntRange): number {
  if (!/^-?\d+$/.test(value)) throw apiErrors.invalidParameter(name, `"${value}" is not an integer.`);
  const number = Number(value);
  if ((range.min !== undefined && number < range.min) || (range.max !== undefined && number > range.max)) {
    throw apiErrors.invalidParameter(name, `${number} is outside [${range.min ?? '-inf'}, ${range.max ?? 'inf'}].`);
  }
  return number;
}
