import type { z } from 'zod';
import { safeParse } from 'zod/v4/core';
import { BundleError, issuePath, type SourceLocation } from '../../platform/errors.ts';

/**
 * Where a piece of a bundle came from, kept beside every parsed object so that errors found later
 * (while rendering) still name the file, the document and the field the user has to fix.
 */
export interface SourcePlace {
  file: string;
  /** 0-based index of the YAML document inside its file (messages print it 1-based). */
  document: number;
  /** 1-based line where the document starts. */
  line: number;
  /** `Kind ns/name` of the document, when it is known. */
  object?: string;
  /** Path of this piece inside its document, e.g. `spec.policies[0]`; '' for a whole document. */
  path: string;
}

/** `spec.components` + `[0]` -> `spec.components[0]`; `a` + `b` -> `a.b`. */
function joinPath(base: string, rel: string | ReadonlyArray<PropertyKey>): string {
  const tail = typeof rel === 'string' ? rel : issuePath(rel);
  if (!tail) return base;
  if (!base) return tail;
  return tail.startsWith('[') ? `${base}${tail}` : `${base}.${tail}`;
}

/** The same place, one level deeper. */
export function placeAt(place: SourcePlace, rel: string | ReadonlyArray<PropertyKey>): SourcePlace {
  return { ...place, path: joinPath(place.path, rel) };
}

export function locationOf(place: SourcePlace): SourceLocation {
  const loc: SourceLocation = { file: place.file, document: place.document };
  if (place.object) loc.object = place.object;
  if (place.path) loc.field = place.path;
  return loc;
}

export function bundleError(
  message: string,
  place: SourcePlace,
  code: 'BUNDLE_INVALID' | 'VALIDATION' | 'RENDER' = 'VALIDATION',
  cause?: unknown,
): BundleError {
  return new BundleError(message, locationOf(place), cause === undefined ? { code } : { code, cause });
}

/** Parses `value` (found at `place`) with a zod schema; the first issue becomes a BundleError naming its field. */
export function parseAt<S extends z.core.$ZodType>(schema: S, value: unknown, place: SourcePlace): z.output<S> {
  const result = safeParse(schema, value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const first = issues[0];
  if (!first) throw bundleError('invalid', place);
  const { path, message } = innermost(first);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw bundleError(`${message}${more}`, placeAt(place, path), 'VALIDATION', result.error);
}

/**
 * A union's branches each fail for their own reason; the branch with the fewest issues, and among
 * those the one that got deepest, is usually the one the author meant: its first issue (with the
 * full path) is the one worth reporting.
 */
function innermost(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const depth = (branch: z.core.$ZodIssue[]) => branch[0]?.path.length ?? 0;
    const closest = [...issue.errors].sort((a, b) => a.length - b.length || depth(b) - depth(a))[0]?.[0];
    if (closest) {
      const inner = innermost(closest);
      return { path: [...issue.path, ...inner.path], message: inner.message };
    }
  }
  if (issue.code === 'unrecognized_keys') {
    return { path: issue.path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
  }
  return { path: issue.path, message: issue.message };
}

/** The error for a `type` that is not one of ours, listing the ones we have. */
export function unsupportedType(what: string, type: string, supported: readonly string[], place: SourcePlace, hint?: string): BundleError {
  return bundleError(
    `unknown ${what} type "${type}"; supported: ${supported.join(', ')}${hint ? `; ${hint}` : ''}`,
    placeAt(place, 'type'),
  );
}

/** `Deployment demo/web-demo`, or `Namespace demo` for objects without a namespace. */
export function objectLabel(kind: unknown, namespace: unknown, name: unknown): string | undefined {
  if (typeof kind !== 'string' || typeof name !== 'string') return undefined;
  return `${kind} ${typeof namespace === 'string' && namespace ? `${namespace}/` : ''}${name}`;
}
