import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, TricenterError } from '#shared/platform/errors.ts';
import type { BundleSource } from '#shared/delivery/ports/bundle-source.port.ts';

/**
 * What every BundleSource must do: `describeBundleSourceContract('folder', () => new FolderBucket(tmp))`.
 * `makeSource` returns a source whose bucket `contract-bucket` is empty.
 */

const bucket = 'contract-bucket';
const bytes = (text: string) => new TextEncoder().encode(text);
const ossEtag = (text: string) => createHash('md5').update(text).digest('hex').toUpperCase();

export function describeBundleSourceContract(label: string, makeSource: () => BundleSource | Promise<BundleSource>): void {
  describe(`BundleSource contract: ${label}`, () => {
    let source: BundleSource;
    beforeEach(async () => {
      source = await makeSource();
    });

    it('stores an object and reads it back with an OSS-style ETag and its size', async () => {
      const put = await source.put(bucket, 'bundles/demo/web-demo.yaml', bytes('kind: Application\n'));
      expect(put).toMatchObject({ bucket, key: 'bundles/demo/web-demo.yaml', etag: ossEtag('kind: Application\n'), size: 18 });
      const got = await source.get(bucket, 'bundles/demo/web-demo.yaml');
      expect(new TextDecoder().decode(got.data)).toBe('kind: Application\n');
      expect(got).toMatchObject({ etag: put.etag, size: 18 });
      expect(await source.head(bucket, 'bundles/demo/web-demo.yaml')).toEqual({
        bucket,
        key: 'bundles/demo/web-demo.yaml',
        etag: put.etag,
        size: 18,
        lastModified: expect.any(Number),
      });
    });

    it('reports a missing object', async () => {
      expect(await source.head(bucket, 'nope.tar.gz')).toBeUndefined();
      await expect(source.get(bucket, 'nope.tar.gz')).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses an object over the size limit, naming it and the limit', async () => {
      await source.put(bucket, 'big.tar.gz', new Uint8Array(2_048));
      const refused = await source.get(bucket, 'big.tar.gz', { maxBytes: 1_024 }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(TricenterError);
      expect((refused as TricenterError).code).toBe('BUNDLE_TOO_LARGE');
      expect((refused as TricenterError).message).toMatch(/big\.tar\.gz is 2048 bytes, over the limit of 1024/);
      expect((await source.get(bucket, 'big.tar.gz', { maxBytes: 2_048 })).size).toBe(2_048);
    });

    it('honours ifMatch, ignoring quotes and case', async () => {
      const first = await source.put(bucket, 'app.yaml', bytes('v1'));
      await source.put(bucket, 'app.yaml', bytes('v2'));
      await expect(source.get(bucket, 'app.yaml', { ifMatch: first.etag })).rejects.toBeInstanceOf(ConflictError);
      const current = await source.get(bucket, 'app.yaml', { ifMatch: `"${ossEtag('v2').toLowerCase()}"` });
      expect(new TextDecoder().decode(current.data)).toBe('v2');
    });

    it('lists objects under a prefix, sorted by key', async () => {
      for (const key of ['b/2.yaml', 'a/1.yaml', 'b/1.yaml', 'c.yaml']) await source.put(bucket, key, bytes(key));
      expect((await source.list(bucket)).map((o) => o.key)).toEqual(['a/1.yaml', 'b/1.yaml', 'b/2.yaml', 'c.yaml']);
      const underB = await source.list(bucket, { prefix: 'b/' });
      expect(underB.map((o) => [o.key, o.etag])).toEqual([
        ['b/1.yaml', ossEtag('b/1.yaml')],
        ['b/2.yaml', ossEtag('b/2.yaml')],
      ]);
    });
  });
}
