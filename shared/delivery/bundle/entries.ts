/**
 * What every bundle format has in common once its entries are listed: path safety checks, the
 * size and count limits (counted from the bytes actually read, never from a header alone), and
 * the set of YAML files kept for parsing.
 */
import { BundleError } from '#shared/platform/errors.ts';
import { LIMIT_LABELS, type BundleLimits } from './limits.ts';

export type SizeLimit = 'maxCompressedBytes' | 'maxUncompressedBytes' | 'maxFileBytes' | 'maxFiles';

export function tooLarge(limit: SizeLimit, value: number, file: string, detail = ''): BundleError {
  const unit = limit === 'maxFiles' ? '' : ' bytes';
  return new BundleError(
    `${detail ? `${detail}: ` : ''}exceeds the ${LIMIT_LABELS[limit]} limit ${limit} = ${value}${unit}`,
    { file },
    { code: 'BUNDLE_TOO_LARGE' },
  );
}

export function unsafe(file: string, reason: string): BundleError {
  return new BundleError(reason, { file }, { code: 'BUNDLE_UNSAFE' });
}

export function isYamlFile(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** macOS archive noise: resource forks and their folder. */
export function isIgnoredEntry(path: string): boolean {
  const segments = path.split('/');
  return segments[0] === '__MACOSX' || segments.some((segment) => segment.startsWith('._'));
}

/**
 * Normalises an entry path to forward slashes without `.//` segments, and rejects anything that
 * could name a place outside the bundle root if someone ever extracted it: absolute paths, drive
 * letters, `..` segments, NUL bytes. Backslashes count as separators because Windows tools treat
 * them so. The root itself (`.//`, common in tar archives) comes back as ''.
 */
export function safeEntryPath(rawPath: string, container: string): string {
  const where = `(entry of ${container})`;
  if (rawPath.includes('\0')) throw unsafe(rawPath, `has a NUL byte in its path ${where}`);
  const slashed = rawPath.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[a-zA-Z]:/.test(slashed)) throw unsafe(rawPath, `is an absolute path ${where}`);
  const segments = slashed.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) throw unsafe(rawPath, `has a ".." segment that escapes the bundle root ${where}`);
  return segments.join('/');
}

/** Accumulates the entries of one bundle against its limits. */
export class BundleEntries {
  private entryCount = 0;
  private totalBytes = 0;
  private readonly yamlFiles = new Map<string, Uint8Array>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly limits: Required<BundleLimits>,
    /** The bundle's own name, used in messages about the bundle as a whole. */
    private readonly source: string,
  ) {}

  /** Counts one entry (file or directory) and rejects a path seen twice. */
  addEntry(path: string): void {
    this.entryCount += 1;
    if (this.entryCount > this.limits.maxFiles) {
      throw tooLarge('maxFiles', this.limits.maxFiles, this.source, `more than ${this.limits.maxFiles} entries`);
    }
    if (this.seen.has(path)) throw new BundleError('appears twice in the bundle', { file: path });
    this.seen.add(path);
  }

  /** Checks a size announced before reading (a header or a stat), so oversized files are not read at all. */
  checkDeclaredSize(path: string, declaredBytes: number): void {
    if (declaredBytes > this.limits.maxFileBytes) {
      throw tooLarge('maxFileBytes', this.limits.maxFileBytes, path, `declared size ${declaredBytes} bytes`);
    }
  }

  /** Counts bytes as they are read; throws as soon as a limit is passed. */
  countBytes(path: string, bytesOfThisFileSoFar: number, newBytes: number): void {
    this.totalBytes += newBytes;
    if (bytesOfThisFileSoFar > this.limits.maxFileBytes) {
      throw tooLarge('maxFileBytes', this.limits.maxFileBytes, path);
    }
    if (this.totalBytes > this.limits.maxUncompressedBytes) {
      throw tooLarge('maxUncompressedBytes', this.limits.maxUncompressedBytes, this.source, `extracting ${path}`);
    }
  }

  keepYaml(path: string, bytes: Uint8Array): void {
    this.yamlFiles.set(path, bytes);
  }

  /** YAML files sorted by path (code-unit order, so the result does not depend on locale). */
  sortedYaml(): Array<[string, Uint8Array]> {
    return [...this.yamlFiles.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }
}
