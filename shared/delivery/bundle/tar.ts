/**
 * Reads a .tar.gz bundle without extracting it to disk. Decompression is a streaming gunzip whose
 * output is counted chunk by chunk, so a tar bomb is stopped after at most one chunk past the
 * limit; node-tar's parser runs in strict mode so a corrupt archive is an error, not a warning.
 */
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { BundleError } from '#shared/platform/errors.ts';
import { BundleEntries, isIgnoredEntry, isYamlFile, safeEntryPath, tooLarge, unsafe } from './entries.ts';
import type { BundleLimits } from './limits.ts';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const LINK_TYPES = new Set(['SymbolicLink', 'Link']);
const DEVICE_TYPES = new Set(['CharacterDevice', 'BlockDevice', 'FIFO']);

/**
 * The tar stream is bigger than its files: a 512-byte header, padding to 512 bytes and perhaps a
 * pax header per entry, plus the end-of-archive blocks. Anything beyond that allowance is
 * trailing garbage that would only burn CPU to inflate.
 */
const TAR_OVERHEAD_PER_ENTRY = 4 * 512;
const TAR_TRAILER_ALLOWANCE = 64 * 1024;

/** Output chunk of the gunzip stream: the most memory a bomb gains per step before it is counted. */
const GUNZIP_CHUNK_BYTES = 64 * 1024;

export function readTarGzEntries(name: string, data: Uint8Array, limits: Required<BundleLimits>): Promise<BundleEntries> {
  const entries = new BundleEntries(limits, name);
  const streamCap = limits.maxUncompressedBytes + (limits.maxFiles + 1) * TAR_OVERHEAD_PER_ENTRY + TAR_TRAILER_ALLOWANCE;

  return new Promise((resolve, reject) => {
    let failure: BundleError | undefined;
    let streamBytes = 0;
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    const parser = new Parser({ strict: true });

    const fail = (err: unknown): void => {
      if (failure) return;
      failure =
        err instanceof BundleError
          ? err
          : new BundleError(`is not a valid .tar.gz archive: ${(err as Error).message}`, { file: name }, { cause: err });
      gunzip.destroy();
      reject(failure);
    };

    parser.on('entry', (entry: ReadEntry) => {
      if (failure) return void entry.resume();
      try {
        readEntry(entry, name, entries, () => failure !== undefined, fail);
      } catch (err) {
        entry.resume();
        fail(err);
      }
    });
    parser.on('error', fail);
    parser.on('end', () => {
      if (!failure) resolve(entries);
    });

    // node-tar appends every chunk written after the end-of-archive blocks to one growing buffer,
    // so the rest of the stream is only inflated (to check the gzip trailer) and counted.
    let sawEndOfArchive = false;
    parser.on('eof', () => {
      sawEndOfArchive = true;
    });

    gunzip.on('data', (chunk: Buffer) => {
      if (failure) return;
      if (streamBytes === 0 && startsCompressed(chunk)) {
        fail(new BundleError('holds a compressed archive inside the gzip stream; nested compression is not supported', { file: name }));
        return;
      }
      streamBytes += chunk.length;
      if (streamBytes > streamCap) {
        fail(
          tooLarge(
            'maxUncompressedBytes',
            limits.maxUncompressedBytes,
            name,
            'the decompressed tar stream is larger than its files can be',
          ),
        );
        return;
      }
      if (sawEndOfArchive) return;
      if (!parser.write(chunk)) {
        gunzip.pause();
        parser.once('drain', () => gunzip.resume());
      }
    });
    gunzip.on('end', () => {
      if (!failure) parser.end();
    });
    gunzip.on('error', (err) => fail(new BundleError(`is not a valid gzip stream: ${err.message}`, { file: name }, { cause: err })));
    gunzip.end(data);
  });
}

/**
 * node-tar's parser would silently decompress a second gzip (or zstd) layer with its own,
 * non-streaming limits; a tar stream never starts with these magic numbers.
 */
function startsCompressed(chunk: Buffer): boolean {
  const gzip = chunk[0] === 0x1f && chunk[1] === 0x8b;
  const zstd = chunk.length >= 4 && chunk.readUInt32LE(0) === 0xfd2fb528;
  return gzip || zstd;
}

function readEntry(
  entry: ReadEntry,
  archive: string,
  entries: BundleEntries,
  hasFailed: () => boolean,
  fail: (err: unknown) => void,
): void {
  const path = safeEntryPath(entry.path, archive);
  if (path === '' || isIgnoredEntry(path)) {
    entry.resume();
    return;
  }
  if (LINK_TYPES.has(entry.type)) {
    const kind = entry.type === 'Link' ? 'a hard link' : 'a symbolic link';
    throw unsafe(path, `is ${kind} (to ${JSON.stringify(entry.linkpath ?? '')}) in ${archive}; links are not allowed in bundles`);
  }
  if (DEVICE_TYPES.has(entry.type)) throw unsafe(path, `is a device, FIFO or socket entry (${entry.type}) in ${archive}`);
  if (entry.type === 'Directory') {
    entries.addEntry(path);
    entry.resume();
    return;
  }
  if (!FILE_TYPES.has(entry.type)) throw unsafe(path, `has an unsupported tar entry type ${entry.type} in ${archive}`);

  entries.addEntry(path);
  entries.checkDeclaredSize(path, entry.size);
  const keep = isYamlFile(path);
  const chunks: Buffer[] = [];
  let fileBytes = 0;
  entry.on('data', (chunk: Buffer) => {
    if (hasFailed()) return;
    try {
      fileBytes += chunk.length;
      entries.countBytes(path, fileBytes, chunk.length);
      if (keep) chunks.push(chunk);
    } catch (err) {
      fail(err);
    }
  });
  entry.on('end', () => {
    if (!hasFailed() && keep) entries.keepYaml(path, Buffer.concat(chunks));
  });
}
