/**
 * Test helper: builds .tar.gz and .zip bundles from `{path: content}` maps, plus entries no honest
 * archiver would write (absolute or `..` paths, links, devices, files whose declared size lies),
 * and huge runs of zeros that are generated already compressed, so a multi-GiB "bomb" costs a few
 * MiB and milliseconds to build. Reused by the renderer's bad-input corpus and the ingest tests.
 *
 * The tar and zip encoders are written by hand on purpose: real archivers refuse to write the
 * hostile entries we need. `tarGzOfFolder` / `zipOfFolder` use node-tar and yazl for the honest case.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { create as createTar, Header } from 'tar';
import yazl from 'yazl';

export type ArchiveFiles = Record<string, string | Uint8Array>;

export type SpecialEntry =
  /** A file whose path is written as given, unchecked: `../x.yaml`, `/etc/x.yaml`, `C:\x.yaml`. */
  | { kind: 'file'; path: string; content: string | Uint8Array }
  | { kind: 'directory'; path: string }
  | { kind: 'symlink'; path: string; target: string }
  /** zip has no hard links; `zipBytes` rejects this kind. */
  | { kind: 'hardlink'; path: string; target: string }
  | { kind: 'device'; path: string }
  | { kind: 'fifo'; path: string }
  /**
   * `size` zero bytes, produced without ever holding them in memory (size: a multiple of 1 MiB).
   * `declaredSize` makes the header lie about the size (zip only; a tar header drives parsing).
   */
  | { kind: 'zeros'; path: string; size: number; declaredSize?: number };

const MiB = 1024 * 1024;
const BLOCK = 512;

function bytesOf(content: string | Uint8Array): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
}

function allEntries(files: ArchiveFiles, special: SpecialEntry[]): SpecialEntry[] {
  return [...Object.entries(files).map(([path, content]): SpecialEntry => ({ kind: 'file', path, content })), ...special];
}

/** A segment of an archive's uncompressed stream: literal bytes, or a run of MiB of zeros. */
type Segment = Buffer | { zeroMiB: number };

function zeroMiBOf(size: number): number {
  if (size % MiB !== 0) throw new Error(`zeros entries must be a multiple of 1 MiB, got ${size}`);
  return size / MiB;
}

// ---------------------------------------------------------------------------------------------
// tar.gz

function tarHeader(path: string, type: string, size: number, mode: number, linkpath?: string): Buffer {
  const block = Buffer.alloc(BLOCK);
  new Header({ path, type: type as Header['type'], size, mode, linkpath, mtime: new Date(0), uid: 0, gid: 0 }).encode(block, 0);
  return block;
}

function tarSegments(entry: SpecialEntry): Segment[] {
  switch (entry.kind) {
    case 'file': {
      const data = bytesOf(entry.content);
      return [tarHeader(entry.path, 'File', data.length, 0o644), data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)];
    }
    case 'directory':
      return [tarHeader(entry.path, 'Directory', 0, 0o755)];
    case 'symlink':
      return [tarHeader(entry.path, 'SymbolicLink', 0, 0o777, entry.target)];
    case 'hardlink':
      return [tarHeader(entry.path, 'Link', 0, 0o644, entry.target)];
    case 'device':
      return [tarHeader(entry.path, 'CharacterDevice', 0, 0o644)];
    case 'fifo':
      return [tarHeader(entry.path, 'FIFO', 0, 0o644)];
    case 'zeros':
      return [tarHeader(entry.path, 'File', entry.size, 0o644), { zeroMiB: zeroMiBOf(entry.size) }];
  }
}

/**
 * gzip members may be concatenated (RFC 1952 §2.2), so a run of zeros is one compressed MiB
 * repeated: about 1 KiB of archive per MiB of content.
 */
function gzipSegments(segments: Segment[]): Buffer {
  const oneMiBOfZeros = gzipSync(Buffer.alloc(MiB));
  const members: Buffer[] = [];
  let literal: Buffer[] = [];
  const flushLiteral = (): void => {
    if (literal.length) members.push(gzipSync(Buffer.concat(literal)));
    literal = [];
  };
  for (const segment of segments) {
    if (Buffer.isBuffer(segment)) {
      literal.push(segment);
    } else {
      flushLiteral();
      for (let i = 0; i < segment.zeroMiB; i++) members.push(oneMiBOfZeros);
    }
  }
  flushLiteral();
  return Buffer.concat(members);
}

export function tarGzBytes(files: ArchiveFiles, special: SpecialEntry[] = []): Buffer {
  const segments = allEntries(files, special).flatMap(tarSegments);
  segments.push(Buffer.alloc(2 * BLOCK)); // end-of-archive marker
  return gzipSegments(segments);
}

// ---------------------------------------------------------------------------------------------
// zip

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

interface ZipMember {
  name: string;
  mode: number;
  compressed: Buffer;
  method: 0 | 8;
  crc: number;
  size: number;
  declaredSize: number;
}

function storedMember(name: string, mode: number, data: Buffer): ZipMember {
  return { name, mode, compressed: data, method: 0, crc: crc32(data), size: data.length, declaredSize: data.length };
}

function zipMember(entry: SpecialEntry): ZipMember {
  switch (entry.kind) {
    case 'file': {
      const data = bytesOf(entry.content);
      return { ...storedMember(entry.path, S_IFREG | 0o644, data), compressed: deflateRawSync(data), method: 8 };
    }
    case 'directory':
      return storedMember(entry.path.endsWith('/') ? entry.path : `${entry.path}/`, S_IFDIR | 0o755, Buffer.alloc(0));
    case 'symlink':
      return storedMember(entry.path, S_IFLNK | 0o777, Buffer.from(entry.target));
    case 'hardlink':
      throw new Error('zip archives have no hard links');
    case 'device':
      return storedMember(entry.path, S_IFCHR | 0o644, Buffer.alloc(0));
    case 'fifo':
      return storedMember(entry.path, S_IFIFO | 0o644, Buffer.alloc(0));
    case 'zeros': {
      // Deflate blocks ended with a sync flush can be repeated back to back; 0x03 0x00 is an
      // empty final block that closes the stream.
      const chunk = deflateRawSync(Buffer.alloc(MiB), { finishFlush: constants.Z_SYNC_FLUSH });
      const count = zeroMiBOf(entry.size);
      let crc = 0;
      const zeros = Buffer.alloc(MiB);
      for (let i = 0; i < count; i++) crc = crc32(zeros, crc);
      return {
        name: entry.path,
        mode: S_IFREG | 0o644,
        compressed: Buffer.concat([...Array.from({ length: count }, () => chunk), Buffer.from([0x03, 0x00])]),
        method: 8,
        crc,
        size: entry.size,
        declaredSize: entry.declaredSize ?? entry.size,
      };
    }
  }
}

export function zipBytes(files: ArchiveFiles, special: SpecialEntry[] = []): Buffer {
  const members = allEntries(files, special).map(zipMember);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const member of members) {
    const name = Buffer.from(member.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(member.method, 8);
    local.writeUInt32LE(member.crc >>> 0, 14);
    local.writeUInt32LE(member.compressed.length, 18);
    local.writeUInt32LE(member.declaredSize, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix: the high attribute bits are a mode
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(member.method, 10);
    central.writeUInt32LE(member.crc >>> 0, 16);
    central.writeUInt32LE(member.compressed.length, 20);
    central.writeUInt32LE(member.declaredSize, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((member.mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, member.compressed);
    centrals.push(central, name);
    offset += local.length + name.length + member.compressed.length;
  }
  const centralSize = centrals.reduce((sum, part) => sum + part.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

// ---------------------------------------------------------------------------------------------
// files on disk

export async function writeTarGz(path: string, files: ArchiveFiles, special: SpecialEntry[] = []): Promise<string> {
  await writeFile(path, tarGzBytes(files, special));
  return path;
}

export async function writeZip(path: string, files: ArchiveFiles, special: SpecialEntry[] = []): Promise<string> {
  await writeFile(path, zipBytes(files, special));
  return path;
}

/** An honest .tar.gz of a folder's files, as node-tar writes it (with `.//` directory entries). */
export async function tarGzOfFolder(folder: string, out: string): Promise<string> {
  const names = (await readdir(folder)).sort();
  await createTar(
    { gzip: true, file: out, cwd: folder, portable: true },
    names.map((name) => `./${name}`),
  );
  return out;
}

/** An honest .zip of a folder's top-level files, as yazl writes it. */
export async function zipOfFolder(folder: string, out: string): Promise<string> {
  const zip = new yazl.ZipFile();
  for (const name of (await readdir(folder)).sort()) zip.addFile(join(folder, name), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  await writeFile(out, Buffer.concat(chunks));
  return out;
}

/** A fresh temporary directory and a function that removes it (for afterAll). */
export async function makeTempDir(prefix = 'tricenter-bundle-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
