/**
 * Reads a .zip bundle with yauzl. Names are decoded and checked here (not by yauzl) so that an
 * unsafe name is reported as BUNDLE_UNSAFE; symbolic links and devices are recognised from the
 * Unix mode in externalFileAttributes; entry sizes are validated against the real inflated bytes
 * and counted as they stream, so a zip bomb stops at the first chunk past a limit. yauzl does not
 * check CRC-32, so it is checked here: a damaged archive must not deploy damaged configuration.
 */
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { BundleError } from '#shared/platform/errors.ts';
import { BundleEntries, isIgnoredEntry, isYamlFile, safeEntryPath, tooLarge, unsafe } from './entries.ts';
import type { BundleLimits } from './limits.ts';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

export async function readZipEntries(name: string, data: Uint8Array, limits: Required<BundleLimits>): Promise<BundleEntries> {
  const entries = new BundleEntries(limits, name);
  const corrupt = (err: unknown): BundleError =>
    err instanceof BundleError
      ? err
      : new BundleError(`is not a valid .zip archive: ${(err as Error).message}`, { file: name }, { cause: err });

  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
      lazyEntries: true,
      decodeStrings: false,
      validateEntrySizes: true,
    });
  } catch (err) {
    throw corrupt(err);
  }
  if (zip.entryCount > limits.maxFiles) {
    zip.close();
    throw tooLarge('maxFiles', limits.maxFiles, name, `has ${zip.entryCount} entries`);
  }

  return new Promise((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) return;
      failed = true;
      zip.close();
      reject(corrupt(err));
    };
    zip.on('error', fail);
    zip.on('end', () => {
      if (!failed) resolve(entries);
    });
    zip.on('entry', (entry: yauzl.Entry) => {
      if (failed) return;
      readEntry(zip, entry, name, entries).then(() => {
        if (!failed) zip.readEntry();
      }, fail);
    });
    zip.readEntry();
  });
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, archive: string, entries: BundleEntries): Promise<void> {
  const rawName = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileName as unknown as Buffer, entry.extraFields, false);
  const path = safeEntryPath(rawName, archive);
  if (path === '' || isIgnoredEntry(path)) return;

  // Zip files made on Unix keep the mode in the high 16 bits; those made elsewhere leave it 0.
  const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
  const isDirectory = rawName.endsWith('/') || mode === S_IFDIR;
  if (mode === S_IFLNK) throw unsafe(path, `is a symbolic link in ${archive}; links are not allowed in bundles`);
  if (mode !== 0 && mode !== S_IFREG && mode !== S_IFDIR)
    throw unsafe(path, `is a device, FIFO or socket entry (mode ${mode.toString(8)}) in ${archive}`);
  entries.addEntry(path);
  if (isDirectory) return;

  entries.checkDeclaredSize(path, entry.uncompressedSize);
  const keep = isYamlFile(path);
  const stream = await openReadStream(zip, entry).catch((err: Error) => {
    // Encrypted entries and compression methods other than store/deflate end up here.
    throw new BundleError(`could not be extracted from ${archive}: ${err.message}`, { file: path }, { cause: err });
  });
  const chunks: Buffer[] = [];
  let fileBytes = 0;
  let checksum = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      try {
        fileBytes += chunk.length;
        entries.countBytes(path, fileBytes, chunk.length);
        checksum = crc32(chunk, checksum);
        if (keep) chunks.push(chunk);
      } catch (err) {
        stream.destroy();
        reject(err);
      }
    });
    stream.on('error', (err) =>
      reject(new BundleError(`could not be extracted from ${archive}: ${err.message}`, { file: path }, { cause: err })),
    );
    stream.on('end', resolve);
  });
  if (checksum >>> 0 !== entry.crc32 >>> 0) {
    throw new BundleError(`could not be extracted from ${archive}: CRC-32 mismatch (the archive is damaged)`, { file: path });
  }
  if (keep) entries.keepYaml(path, Buffer.concat(chunks));
}

function openReadStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream & { destroy(): void }> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}
