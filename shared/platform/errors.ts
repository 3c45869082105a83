/**
 * Typed errors. Every error the system raises on purpose is a TricenterError with a stable `code`;
 * handlers map codes to HTTP statuses or retry decisions in one place each.
 */

/** Where in a bundle a problem sits: the file, the YAML document (0-based) and the field path. */
export interface SourceLocation {
  file?: string;
  document?: number;
  /** Dotted / indexed path inside the document, e.g. `spec.components[1].properties.objects[0]`. */
  field?: string;
  /** A human label for the document, e.g. `Policy demo/cluster1-beijing`. */
  object?: string;
}

export type ErrorCode =
  | 'BUNDLE_INVALID'
  | 'BUNDLE_TOO_LARGE'
  | 'BUNDLE_UNSAFE'
  | 'VALIDATION'
  | 'RENDER'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'UNREACHABLE'
  | 'INVALID_OBJECT'
  | 'TIMEOUT'
  | 'THROTTLED'
  /** Stored content that does not match the digest it was stored under (tampered with). */
  | 'INTEGRITY'
  | 'INTERNAL';

export class TricenterError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly location?: SourceLocation;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryable?: boolean; location?: SourceLocation } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    if (options.location) this.location = options.location;
  }
}

/** Formats a location as `file (document N, Kind ns/name) field: `; parts that are unknown are left out. */
export function describeLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  const inner = [loc.document === undefined ? undefined : `document ${loc.document + 1}`, loc.object].filter(Boolean);
  const head = [loc.file, inner.length ? `(${inner.join(', ')})` : undefined].filter(Boolean).join(' ');
  const field = loc.field ? `${head ? ' ' : ''}field ${loc.field}` : '';
  return head || field ? `${head}${field}: ` : '';
}

/** A zod issue path as people write it: `spec.pools[1].clusters[0]`. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** A problem with an uploaded bundle: its message always names the place. */
export class BundleError extends TricenterError {
  constructor(
    message: string,
    location: SourceLocation,
    options: { cause?: unknown; code?: 'BUNDLE_INVALID' | 'BUNDLE_TOO_LARGE' | 'BUNDLE_UNSAFE' | 'VALIDATION' | 'RENDER' } = {},
  ) {
    super(options.code ?? 'BUNDLE_INVALID', `${describeLocation(location)}${message}`, {
      cause: options.cause,
      location,
    });
  }
}

export class ConflictError extends TricenterError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('CONFLICT', message, { ...options, retryable: true });
  }
}

export class NotFoundError extends TricenterError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('NOT_FOUND', message, options);
  }
}

export function isTricenterError(err: unknown): err is TricenterError {
  return err instanceof TricenterError;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
