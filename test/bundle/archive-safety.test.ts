/**
 * Hostile and broken bundles: unsafe entries, size and count limits (enforced on the bytes actually
 * read), corrupt archives. Each case asserts the error code and that the message names the place.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle, loadBundleBytes } from '#shared/delivery/bundle/load.ts';
import { BundleError, type ErrorCode } from '#shared/platform/errors.ts';
import { makeTempDir, tarGzBytes, zipBytes, type ArchiveFiles, type SpecialEntry } from './archives.ts';

const MiB = 1024 * 1024;
const GOOD: ArchiveFiles = { 'app.yaml': 'kind: A\n' };

let temp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  temp = await makeTempDir();
});
afterAll(async () => temp.cleanup());

async function expectFailure(promise: Promise<unknown>, code: ErrorCode, message: RegExp, file?: string): Promise<BundleError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  const bundleError = err as BundleError;
  expect(bundleError.message).toMatch(message);
  expect(bundleError.code).toBe(code);
  if (file !== undefined) expect(bundleError.location?.file).toBe(file);
  return bundleError;
}

type Format = 'tgz' | 'zip';
const bytesFor = (format: Format, files: ArchiveFiles, special: SpecialEntry[] = []): Buffer =>
  format === 'tgz' ? tarGzBytes(files, special) : zipBytes(files, special);

describe.each<Format>(['tgz', 'zip'])('unsafe entries in a .%s', (format) => {
  const load = (special: SpecialEntry[]) => loadBundleBytes(`evil.${format}`, bytesFor(format, GOOD, special));

  it('rejects an absolute path', async () => {
    const special: SpecialEntry = { kind: 'file', path: '/etc/cron.d/app.yaml', content: 'kind: A\n' };
    await expectFailure(
      load([special]),
      'BUNDLE_UNSAFE',
      new RegExp(`^/etc/cron\\.d/app\\.yaml: is an absolute path \\(entry of evil\\.${format}\\)$`),
      '/etc/cron.d/app.yaml',
    );
  });

  it('rejects a Windows drive path', async () => {
    await expectFailure(
      load([{ kind: 'file', path: 'C:/x/app.yaml', content: 'kind: A\n' }]),
      'BUNDLE_UNSAFE',
      /^C:\/x\/app\.yaml: is an absolute path/,
      'C:/x/app.yaml',
    );
  });

  it('rejects a "../" entry', async () => {
    const special: SpecialEntry = { kind: 'file', path: 'k8s/../../outside.yaml', content: 'kind: A\n' };
    await expectFailure(
      load([special]),
      'BUNDLE_UNSAFE',
      /^k8s\/\.\.\/\.\.\/outside\.yaml: has a "\.\." segment that escapes the bundle root/,
      'k8s/../../outside.yaml',
    );
  });

  it('rejects a "..\\" entry written with backslashes', async () => {
    await expectFailure(load([{ kind: 'file', path: '..\\outside.yaml', content: 'kind: A\n' }]), 'BUNDLE_UNSAFE', /has a "\.\." segment/);
  });

  it('rejects a symbolic link, naming it and its target', async () => {
    const special: SpecialEntry = { kind: 'symlink', path: 'k8s/passwd.yaml', target: '/etc/passwd' };
    await expectFailure(
      load([special]),
      'BUNDLE_UNSAFE',
      new RegExp(`^k8s/passwd\\.yaml: is a symbolic link .*in evil\\.${format}`),
      'k8s/passwd.yaml',
    );
  });

  it('rejects a device entry', async () => {
    await expectFailure(load([{ kind: 'device', path: 'dev/null' }]), 'BUNDLE_UNSAFE', /^dev\/null: is a device/, 'dev/null');
  });

  it('rejects a FIFO entry', async () => {
    await expectFailure(load([{ kind: 'fifo', path: 'pipe' }]), 'BUNDLE_UNSAFE', /^pipe: is a device, FIFO/, 'pipe');
  });
});

describe('unsafe entries only tar can hold', () => {
  it('rejects a hard link', async () => {
    const data = tarGzBytes(GOOD, [{ kind: 'hardlink', path: 'copy.yaml', target: 'app.yaml' }]);
    await expectFailure(
      loadBundleBytes('evil.tgz', data),
      'BUNDLE_UNSAFE',
      /^copy\.yaml: is a hard link \(to "app\.yaml"\) in evil\.tgz/,
      'copy.yaml',
    );
  });

  it('rejects the same path twice (a later entry would silently replace the first)', async () => {
    const data = tarGzBytes(GOOD, [{ kind: 'file', path: './app.yaml', content: 'kind: B\n' }]);
    await expectFailure(loadBundleBytes('twice.tgz', data), 'BUNDLE_INVALID', /^app\.yaml: appears twice in the bundle$/, 'app.yaml');
  });
});

describe('folder bundles', () => {
  it('rejects a symbolic link inside the folder instead of following it', async () => {
    const root = join(temp.dir, 'with-link');
    await mkdir(join(root, 'k8s'), { recursive: true });
    await writeFile(join(root, 'app.yaml'), 'kind: A\n');
    await symlink('/etc/hostname', join(root, 'k8s', 'host.yaml'));
    await expectFailure(
      loadBundle(root),
      'BUNDLE_UNSAFE',
      /^k8s\/host\.yaml: is a symbolic link \(in folder .*with-link\); links are not followed$/,
      'k8s/host.yaml',
    );
  });

  it('rejects a symbolic link to a directory', async () => {
    const root = join(temp.dir, 'with-dir-link');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'app.yaml'), 'kind: A\n');
    await symlink('/etc', join(root, 'etc'));
    await expectFailure(loadBundle(root), 'BUNDLE_UNSAFE', /^etc: is a symbolic link/, 'etc');
  });

  it('rejects too many files', async () => {
    const root = join(temp.dir, 'many');
    await mkdir(root, { recursive: true });
    for (let i = 0; i < 6; i++) await writeFile(join(root, `f${i}.yaml`), `kind: F${i}\n`);
    await expectFailure(
      loadBundle(root, { maxFiles: 5 }),
      'BUNDLE_TOO_LARGE',
      /: more than 5 entries: exceeds the number of entries limit maxFiles = 5$/,
      root,
    );
  });

  it('counts files that are not YAML towards the size limits', async () => {
    const root = join(temp.dir, 'big-readme');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'app.yaml'), 'kind: A\n');
    await writeFile(join(root, 'README.md'), Buffer.alloc(2048, 'x'));
    await expectFailure(
      loadBundle(root, { maxFileBytes: 1024 }),
      'BUNDLE_TOO_LARGE',
      /^README\.md: declared size 2048 bytes: exceeds the file size limit maxFileBytes = 1024 bytes$/,
      'README.md',
    );
    await expectFailure(
      loadBundle(root, { maxUncompressedBytes: 1024 }),
      'BUNDLE_TOO_LARGE',
      /extracting README\.md: exceeds the total uncompressed size limit maxUncompressedBytes = 1024 bytes$/,
      root,
    );
  });

  it('rejects a folder with no YAML', async () => {
    const root = join(temp.dir, 'no-yaml');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'README.md'), '# nothing\n');
    await expectFailure(loadBundle(root), 'BUNDLE_INVALID', /: contains no \.yaml or \.yml file$/, root);
  });

  it('rejects a named path that is neither a folder nor a regular file (a FIFO would block the read)', async () => {
    const fifo = join(temp.dir, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    await expectFailure(loadBundle(fifo), 'BUNDLE_UNSAFE', /pipe\.yaml: is not a folder or a regular file$/, fifo);
  });

  it('rejects a path that does not exist, naming it', async () => {
    const missing = join(temp.dir, 'missing.tgz');
    await expectFailure(loadBundle(missing), 'BUNDLE_INVALID', /missing\.tgz: cannot be read: ENOENT/, missing);
  });
});

describe('size and count limits', () => {
  it('rejects an oversized upload before reading it (bytes and path)', async () => {
    const data = tarGzBytes({ ...GOOD, 'README.md': 'words '.repeat(500) });
    const limit = data.length - 1;
    const message = new RegExp(
      `up\\.tgz: size ${data.length} bytes: exceeds the compressed size limit maxCompressedBytes = ${limit} bytes$`,
    );
    await expectFailure(loadBundleBytes('up.tgz', data, { maxCompressedBytes: limit }), 'BUNDLE_TOO_LARGE', message, 'up.tgz');
    const path = join(temp.dir, 'up.tgz');
    await writeFile(path, data);
    await expectFailure(loadBundle(path, { maxCompressedBytes: limit }), 'BUNDLE_TOO_LARGE', message, path);
    expect((await loadBundle(path, { maxCompressedBytes: data.length })).files).toEqual(['app.yaml']);
  });

  it('applies the compressed limit to a single .yaml too', async () => {
    await expectFailure(
      loadBundleBytes('big.yaml', Buffer.alloc(2000, 'a'), { maxCompressedBytes: 1000 }),
      'BUNDLE_TOO_LARGE',
      /^big\.yaml: .*maxCompressedBytes = 1000/,
      'big.yaml',
    );
  });

  it.each<Format>(['tgz', 'zip'])('rejects too many entries in a .%s', async (format) => {
    const files = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}.yaml`, `kind: F${i}\n`]));
    await expectFailure(
      loadBundleBytes(`many.${format}`, bytesFor(format, files), { maxFiles: 5 }),
      'BUNDLE_TOO_LARGE',
      new RegExp(`^many\\.${format}: .*maxFiles = 5$`),
      `many.${format}`,
    );
  });

  it.each<Format>(['tgz', 'zip'])('rejects one file over maxFileBytes in a .%s', async (format) => {
    const data = bytesFor(format, GOOD, [{ kind: 'zeros', path: 'data/blob.bin', size: 11 * MiB }]);
    await expectFailure(
      loadBundleBytes(`big.${format}`, data),
      'BUNDLE_TOO_LARGE',
      /^data\/blob\.bin: declared size 11534336 bytes: exceeds the file size limit maxFileBytes = 10485760 bytes$/,
      'data/blob.bin',
    );
  });

  it.each<Format>(['tgz', 'zip'])('rejects a small .%s whose files expand past the total limit', async (format) => {
    // Each file is under maxFileBytes, so only the running total can stop it.
    const special = Array.from({ length: 8 }, (_, i): SpecialEntry => ({ kind: 'zeros', path: `blob${i}.bin`, size: 9 * MiB }));
    const data = bytesFor(format, GOOD, special);
    expect(data.length).toBeLessThan(200 * 1024);
    await expectFailure(
      loadBundleBytes(`bomb.${format}`, data),
      'BUNDLE_TOO_LARGE',
      new RegExp(
        `^bomb\\.${format}: extracting blob5\\.bin: exceeds the total uncompressed size limit maxUncompressedBytes = 52428800 bytes$`,
      ),
      `bomb.${format}`,
    );
  });

  it.each<[Format, number]>([
    ['tgz', 2048],
    ['zip', 512],
  ])('stops a .%s bomb of %i MiB at the limit without holding it in memory', async (format, sizeMiB) => {
    // The file limit is raised so that only the streaming count can stop the single huge entry.
    const data = bytesFor(format, GOOD, [{ kind: 'zeros', path: 'bomb.yaml', size: sizeMiB * MiB }]);
    const peakBeforeKiB = process.resourceUsage().maxRSS;
    await expectFailure(
      loadBundleBytes(`bomb.${format}`, data, { maxFileBytes: 4096 * MiB }),
      'BUNDLE_TOO_LARGE',
      /extracting bomb\.yaml: exceeds the total uncompressed size limit maxUncompressedBytes = 52428800 bytes$/,
    );
    const peakGrowthMiB = (process.resourceUsage().maxRSS - peakBeforeKiB) / 1024;
    expect(peakGrowthMiB).toBeLessThan(256);
  });

  it('stops inflating zeros appended after the end of a tar archive', async () => {
    const oneMiBOfZeros = gzipSync(Buffer.alloc(MiB));
    const data = Buffer.concat([tarGzBytes(GOOD), ...Array.from({ length: 80 }, () => oneMiBOfZeros)]);
    await expectFailure(
      loadBundleBytes('tail.tgz', data),
      'BUNDLE_TOO_LARGE',
      /^tail\.tgz: the decompressed tar stream is larger than its files can be: .*maxUncompressedBytes = 52428800 bytes$/,
      'tail.tgz',
    );
  });

  it.each<Format>(['tgz', 'zip'])('accepts a .%s exactly at the size limits and refuses it one byte below', async (format) => {
    const files = { 'a.yaml': 'kind: A\n', 'b.yaml': 'kind: B\n' }; // 8 bytes each
    const data = bytesFor(format, files);
    expect((await loadBundleBytes(`edge.${format}`, data, { maxUncompressedBytes: 16, maxFileBytes: 8 })).files).toEqual([
      'a.yaml',
      'b.yaml',
    ]);
    await expectFailure(
      loadBundleBytes(`edge.${format}`, data, { maxUncompressedBytes: 15 }),
      'BUNDLE_TOO_LARGE',
      /extracting b\.yaml: .*maxUncompressedBytes = 15 bytes$/,
    );
    await expectFailure(
      loadBundleBytes(`edge.${format}`, data, { maxFileBytes: 7 }),
      'BUNDLE_TOO_LARGE',
      /^a\.yaml: declared size 8 bytes: .*maxFileBytes = 7 bytes$/,
      'a.yaml',
    );
  });

  it('rejects a zip entry whose header understates its size', async () => {
    const data = zipBytes(GOOD, [{ kind: 'zeros', path: 'liar.bin', size: 64 * MiB, declaredSize: 1000 }]);
    await expectFailure(
      loadBundleBytes('liar.zip', data),
      'BUNDLE_INVALID',
      /^liar\.bin: could not be extracted from liar\.zip: too many bytes in the stream/,
      'liar.bin',
    );
  });
});

describe('corrupt and unsupported bundles', () => {
  const noise = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 256));

  it.each(['x.tgz', 'x.tar.gz'])('rejects a %s that is not gzip', async (name) => {
    await expectFailure(
      loadBundleBytes(name, noise),
      'BUNDLE_INVALID',
      new RegExp(`^${name.replace(/\./g, '\\.')}: is not a valid gzip stream: `),
      name,
    );
  });

  it('rejects a truncated .tgz', async () => {
    const whole = tarGzBytes({ 'app.yaml': `kind: A\ndata: ${'x'.repeat(5000)}\n` });
    await expectFailure(
      loadBundleBytes('cut.tgz', whole.subarray(0, whole.length - 40)),
      'BUNDLE_INVALID',
      /^cut\.tgz: is not a valid gzip stream: unexpected end of file$/,
      'cut.tgz',
    );
  });

  it('rejects gzip that does not hold a tar archive', async () => {
    await expectFailure(
      loadBundleBytes('notar.tgz', gzipSync(noise)),
      'BUNDLE_INVALID',
      /^notar\.tgz: is not a valid \.tar\.gz archive: /,
      'notar.tgz',
    );
  });

  it('rejects a tar.gz compressed twice instead of silently inflating the inner layer', async () => {
    await expectFailure(
      loadBundleBytes('double.tgz', gzipSync(tarGzBytes(GOOD))),
      'BUNDLE_INVALID',
      /^double\.tgz: holds a compressed archive inside the gzip stream/,
      'double.tgz',
    );
  });

  it('ignores the zero padding archivers add after the end of a tar archive', async () => {
    const padded = Buffer.concat([tarGzBytes(GOOD), gzipSync(Buffer.alloc(10240))]);
    expect((await loadBundleBytes('padded.tgz', padded)).files).toEqual(['app.yaml']);
  });

  it('rejects a .zip that is not a zip', async () => {
    await expectFailure(
      loadBundleBytes('x.zip', noise),
      'BUNDLE_INVALID',
      /^x\.zip: is not a valid \.zip archive: End of central directory record signature not found/,
      'x.zip',
    );
  });

  it('rejects a truncated .zip', async () => {
    const whole = zipBytes({ 'app.yaml': 'kind: A\n', 'b.yaml': 'kind: B\n' });
    await expectFailure(
      loadBundleBytes('cut.zip', whole.subarray(0, whole.length - 30)),
      'BUNDLE_INVALID',
      /^cut\.zip: is not a valid \.zip archive: /,
      'cut.zip',
    );
  });

  it('rejects a zip whose data was damaged (CRC mismatch)', async () => {
    const data = zipBytes({ 'app.yaml': 'kind: A\nvalue: some text to damage\n' });
    const damaged = Buffer.from(data);
    const inData = 30 + 'app.yaml'.length + 2; // local header, name, then two bytes into the deflate data
    damaged.writeUInt8(damaged.readUInt8(inData) ^ 0xff, inData);
    await expectFailure(
      loadBundleBytes('crc.zip', damaged),
      'BUNDLE_INVALID',
      /^app\.yaml: could not be extracted from crc\.zip: CRC-32 mismatch/,
      'app.yaml',
    );
  });

  it('rejects a zip entry compressed with a method other than store or deflate, naming the entry', async () => {
    const data = Buffer.from(zipBytes({ 'app.yaml': 'kind: A\n' }));
    const BZIP2 = 12;
    data.writeUInt16LE(BZIP2, 8); // method field of the local header
    data.writeUInt16LE(BZIP2, data.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 10); // and of the central directory
    await expectFailure(
      loadBundleBytes('bz.zip', data),
      'BUNDLE_INVALID',
      /^app\.yaml: could not be extracted from bz\.zip: .*compression method.*12/,
      'app.yaml',
    );
  });

  it.each(['bundle.rar', 'bundle.tar', 'bundle.json', 'bundle'])('rejects the unsupported suffix of %s', async (name) => {
    await expectFailure(
      loadBundleBytes(name, Buffer.from('kind: A\n')),
      'BUNDLE_INVALID',
      /: unsupported bundle format: expected a folder, \.tar\.gz, \.tgz, \.zip, \.yaml or \.yml$/,
      name,
    );
  });

  it('rejects an unsupported file path without reading it', async () => {
    const path = join(temp.dir, 'bundle.json');
    await writeFile(path, '{}');
    await expectFailure(loadBundle(path), 'BUNDLE_INVALID', /bundle\.json: unsupported bundle format/, path);
  });

  it.each<Format>(['tgz', 'zip'])('rejects a .%s with no YAML in it', async (format) => {
    const data = bytesFor(format, { 'README.md': '# hi\n', 'conf/app.json': '{}' });
    await expectFailure(
      loadBundleBytes(`empty.${format}`, data),
      'BUNDLE_INVALID',
      new RegExp(`^empty\\.${format}: contains no \\.yaml or \\.yml file$`),
      `empty.${format}`,
    );
  });

  it('rejects a bundle whose YAML files hold no documents', async () => {
    const data = tarGzBytes({ 'a.yaml': '# just a comment\n', 'b.yml': '---\n' });
    await expectFailure(loadBundleBytes('blank.tgz', data), 'BUNDLE_INVALID', /^blank\.tgz: contains no YAML documents/, 'blank.tgz');
  });
});
