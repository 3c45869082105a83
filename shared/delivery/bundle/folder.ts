/**
 * Reads a folder bundle: recursive, in sorted order, never following symbolic links (a link could
 * point anywhere on the machine, so one is refused rather than skipped).
 */
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BundleError } from '#shared/platform/errors.ts';
import { BundleEntries, isIgnoredEntry, isYamlFile, tooLarge, unsafe } from './entries.ts';
import type { BundleLimits } from './limits.ts';

export async function readFolderEntries(root: string, limits: Required<BundleLimits>): Promise<BundleEntries> {
  const entries = new BundleEntries(limits, root);
  await walk(root, '', entries, limits);
  return entries;
}

async function walk(root: string, relativeDir: string, entries: BundleEntries, limits: Required<BundleLimits>): Promise<void> {
  const children = await readdir(join(root, relativeDir), { withFileTypes: true });
  children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const child of children) {
    const path = relativeDir ? `${relativeDir}/${child.name}` : child.name;
    if (isIgnoredEntry(path)) continue;
    if (child.isSymbolicLink()) throw unsafe(path, `is a symbolic link (in folder ${root}); links are not followed`);
    if (child.isDirectory()) {
      entries.addEntry(path);
      await walk(root, path, entries, limits);
    } else if (child.isFile()) {
      entries.addEntry(path);
      await readFolderFile(join(root, path), path, entries, limits);
    } else {
      throw unsafe(path, `is not a regular file or directory (in folder ${root})`);
    }
  }
}

async function readFolderFile(absolute: string, path: string, entries: BundleEntries, limits: Required<BundleLimits>): Promise<void> {
  const { size } = await lstat(absolute);
  entries.checkDeclaredSize(path, size);
  if (!isYamlFile(path)) {
    entries.countBytes(path, size, size);
    return;
  }
  const bytes = await readAtMost(absolute, path, limits.maxFileBytes);
  entries.countBytes(path, bytes.length, bytes.length);
  entries.keepYaml(path, bytes);
}

/** Reads a file but never more than `max` + 1 bytes, in case it grew after it was measured. */
export async function readAtMost(
  absolute: string,
  shownPath: string,
  max: number,
  limit: 'maxFileBytes' | 'maxCompressedBytes' = 'maxFileBytes',
): Promise<Uint8Array> {
  const handle = await open(absolute, 'r');
  try {
    const { size } = await handle.stat();
    if (size > max) throw tooLarge(limit, max, shownPath, `size ${size} bytes`);
    const buffer = Buffer.alloc(size + 1);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > max) throw tooLarge(limit, max, shownPath, 'grew while being read');
    return buffer.subarray(0, filled);
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(`could not be read: ${(err as Error).message}`, { file: shownPath }, { cause: err });
  } finally {
    await handle.close();
  }
}
