/**
 * Loads a bundle (a folder, a .tar.gz/.tgz, a .zip or one multi-document .yaml) into its YAML
 * documents, safely: see limits.ts for every limit and entries.ts for the path rules. Either the
 * whole bundle loads or a BundleError names the file, document and (for YAML) line and column.
 */
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { BundleError } from '#shared/platform/errors.ts';
import type { BundleDocument, LoadedBundle } from '#shared/delivery/model/loaded-bundle.ts';
import { BundleEntries, isYamlFile, tooLarge, unsafe } from './entries.ts';
import { readAtMost, readFolderEntries } from './folder.ts';
import { resolveBundleLimits, type BundleLimits } from './limits.ts';
import { decodeYamlText, parseYamlDocuments } from './yaml-documents.ts';

export type { BundleLimits } from './limits.ts';

type BundleFormat = 'tar.gz' | 'zip' | 'yaml';

const SUPPORTED = 'a folder, .tar.gz, .tgz, .zip, .yaml or .yml';

function formatOf(name: string): BundleFormat | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  if (lower.endsWith('.zip')) return 'zip';
  if (isYamlFile(lower)) return 'yaml';
  return undefined;
}

export async function loadBundle(path: string, limits: Partial<BundleLimits> = {}): Promise<LoadedBundle> {
  return withBundleErrors(path, async () => {
    const resolved = resolveBundleLimits(limits);
    let stats;
    try {
      // The path the caller names may be a link (the caller chose it); links inside a folder are refused.
      stats = await stat(path);
    } catch (cause) {
      throw new BundleError(`cannot be read: ${(cause as Error).message}`, { file: path }, { cause });
    }
    if (stats.isDirectory()) return assemble(path, await readFolderEntries(path, resolved), resolved);
    if (!stats.isFile()) throw unsafe(path, 'is not a folder or a regular file');
    if (!formatOf(path)) throw unsupported(path);
    const data = await readAtMost(path, path, resolved.maxCompressedBytes, 'maxCompressedBytes');
    return loadBytes(path, data, resolved);
  });
}

/** Loads a bundle held in memory (e.g. an OSS object); the format comes from the name's suffix. */
export async function loadBundleBytes(name: string, data: Uint8Array, limits: Partial<BundleLimits> = {}): Promise<LoadedBundle> {
  return withBundleErrors(name, () => loadBytes(name, data, resolveBundleLimits(limits)));
}

async function loadBytes(name: string, data: Uint8Array, limits: Required<BundleLimits>): Promise<LoadedBundle> {
  const format = formatOf(name);
  if (!format) throw unsupported(name);
  if (data.length > limits.maxCompressedBytes) {
    throw tooLarge('maxCompressedBytes', limits.maxCompressedBytes, name, `size ${data.length} bytes`);
  }
  // The archive readers (tar, yauzl) load with the first archive: a YAML file (a bundle, the cluster
  // registry a function reads on its first request) never pays for them.
  switch (format) {
    case 'tar.gz': {
      const { readTarGzEntries } = await import('./tar.ts');
      return assemble(name, await readTarGzEntries(name, data, limits), limits);
    }
    case 'zip': {
      const { readZipEntries } = await import('./zip.ts');
      return assemble(name, await readZipEntries(name, data, limits), limits);
    }
    case 'yaml': {
      const file = basename(name);
      const entries = new BundleEntries(limits, name);
      entries.addEntry(file);
      entries.countBytes(file, data.length, data.length);
      entries.keepYaml(file, data);
      return assemble(name, entries, limits);
    }
  }
}

/** Keeps the promise of the API: every failure is a BundleError naming at least the bundle. */
async function withBundleErrors(source: string, load: () => Promise<LoadedBundle>): Promise<LoadedBundle> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof BundleError) throw err;
    throw new BundleError(`could not be loaded: ${(err as Error).message}`, { file: source }, { cause: err });
  }
}

function unsupported(name: string): BundleError {
  return new BundleError(`unsupported bundle format: expected ${SUPPORTED}`, { file: name });
}

function assemble(source: string, entries: BundleEntries, limits: Required<BundleLimits>): LoadedBundle {
  const yamlFiles = entries.sortedYaml();
  if (yamlFiles.length === 0) throw new BundleError('contains no .yaml or .yml file', { file: source });
  const documents: BundleDocument[] = [];
  for (const [file, bytes] of yamlFiles) {
    const text = decodeYamlText(file, bytes);
    for (const parsed of parseYamlDocuments(file, text, { limits, documentsSoFar: documents.length })) {
      documents.push({ file, ...parsed });
    }
  }
  if (documents.length === 0) throw new BundleError('contains no YAML documents (every file is empty)', { file: source });
  return { source, files: yamlFiles.map(([file]) => file), documents };
}
