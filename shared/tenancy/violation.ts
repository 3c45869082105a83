import { BundleError, describeLocation } from '../platform/errors.ts';
import { locationOf, type SourcePlace } from '../delivery/model/source.ts';

/** One reason a bundle is refused, at the place of the input that causes it. */
export interface Violation {
  /** Stable id of the rule, e.g. `tenant.namespace`, `name.dns1123-subdomain`. */
  rule: string;
  message: string;
  place: SourcePlace;
}

const LISTED = 5;

/**
 * One error (one line) for all of them: the first names its file, document and field and is the
 * error's location; a few more follow, each with its place.
 */
export function violationsError(violations: readonly Violation[]): BundleError | undefined {
  const [first, ...rest] = violations;
  if (!first) return undefined;
  const more = rest.slice(0, LISTED).map((v) => `${describeLocation(locationOf(v.place))}${v.message}`);
  const unlisted = rest.length > LISTED ? `; ... and ${rest.length - LISTED} more` : '';
  const tail = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''}: ${more.join('; ')}${unlisted})` : '';
  return new BundleError(`${first.message}${tail}`, locationOf(first.place), { code: 'VALIDATION' });
}

/** The same violation reached through several clusters or steps is reported once. */
export function uniqueViolations(violations: readonly Violation[]): Violation[] {
  const seen = new Set<string>();
  return violations.filter((v) => {
    const key = `${describeLocation(locationOf(v.place))}${v.rule}${v.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
