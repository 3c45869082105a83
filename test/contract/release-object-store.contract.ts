import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, TricenterError } from '#shared/platform/errors.ts';
import type { BundleSource } from '#shared/delivery/ports/bundle-source.port.ts';
import type { ReleaseObjectStore } from '#shared/delivery/ports/release-object-store.port.ts';

/**
 * What every ReleaseObjectStore must do. `make` returns the store, the bucket it writes to (empty)
 * and the object storage underneath, to look at (and tamper with) what was stored.
 */
export interface ReleaseObjectStoreFixture {
  store: ReleaseObjectStore;
  bucket: string;
  raw: BundleSource;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const digestOf = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

export function describeReleaseObjectStoreContract(
  label: string,
  make: () => ReleaseObjectStoreFixture | Promise<ReleaseObjectStoreFixture>,
): void {
  describe(`ReleaseObjectStore contract: ${label}`, () => {
    let f: ReleaseObjectStoreFixture;
    beforeEach(async () => {
      f = await make();
    });

    it('stores an object under releases/objects/<digest>.json, apart from bundles/, and reads it back', async () => {
      const data = bytes('[{"kind":"ConfigMap"}]');
      await f.store.put(digestOf(data), data);
      expect(await f.store.get(digestOf(data))).toEqual(data);
      expect((await f.raw.list(f.bucket)).map((o) => o.key)).toEqual([`releases/objects/${digestOf(data)}.json`]);
    });

    it('stores the same object again without harm', async () => {
      const data = bytes('[]');
      await f.store.put(digestOf(data), data);
      await f.store.put(digestOf(data), data);
      expect(await f.store.get(digestOf(data))).toEqual(data);
      expect(await f.raw.list(f.bucket)).toHaveLength(1);
    });

    it('reports a missing object', async () => {
      await expect(f.store.get(digestOf(bytes('never stored')))).rejects.toBeInstanceOf(NotFoundError);
    });

    it.each([
      ['a path trick', `../bundles/demo/web-demo`],
      ['a digest followed by a path', `${'a'.repeat(64)}/../../bundles/x`],
      ['upper case', 'A'.repeat(64)],
      ['too short', 'a'.repeat(63)],
      ['empty', ''],
    ])('refuses %s as a digest before any request, and writes nothing', async (_, digest) => {
      await expect(f.store.put(digest, bytes('[]'))).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(f.store.get(digest)).rejects.toBeInstanceOf(TricenterError);
      expect(await f.raw.list(f.bucket)).toEqual([]);
    });

    it('returns what the bucket holds, even if someone replaced it (the reader checks), and a put of the right bytes repairs it', async () => {
      const data = bytes('[{"kind":"ConfigMap","data":{"v":"1"}}]');
      const key = `releases/objects/${digestOf(data)}.json`;
      await f.store.put(digestOf(data), data);
      await f.raw.put(f.bucket, key, bytes('[{"kind":"ConfigMap","data":{"v":"evil"}}]'));
      expect(new TextDecoder().decode(await f.store.get(digestOf(data)))).toContain('evil');
      await f.store.put(digestOf(data), data);
      expect(await f.store.get(digestOf(data))).toEqual(data);
    });
  });
}
