import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { staticCredentials } from '#shared/platform/credentials.ts';
import { createOssBundleSource, type OssBundleSourceOptions } from '#shared/delivery/adapters/aliyun/oss-bundle-source.ts';
import { ConflictError, NotFoundError, TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { describeBundleSourceContract } from '../contract/bundle-source.contract.ts';
import { FakeOss } from './oss-msw.ts';

const ENDPOINT_HOST = 'oss-cn-hangzhou.aliyuncs.com';
const KEY = { accessKeyId: 'STS.oss-wire', accessKeySecret: 'oss-secret-never-logged', securityToken: 'oss-sts-token-never-logged' };
const BUCKETS = ['contract-bucket', 'tricenter-bundles'];

const server = setupServer();
let fake: FakeOss;

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

function freshBucket(): void {
  fake = new FakeOss({
    endpointHost: ENDPOINT_HOST,
    buckets: BUCKETS,
    keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
  });
  server.resetHandlers(...fake.handlers());
}

const source = (overrides: Partial<OssBundleSourceOptions> = {}) =>
  createOssBundleSource({ region: 'cn-hangzhou', endpoint: `https://${ENDPOINT_HOST}`, credentials: staticCredentials(KEY), ...overrides });

describeBundleSourceContract('oss over msw', () => {
  freshBucket();
  return source();
});
describeBundleSourceContract('oss over msw, 1 key per list page', () => {
  freshBucket();
  return source({ listPageSize: 1 });
});

const bytes = (text: string) => new TextEncoder().encode(text);

describe('OssBundleSource on the wire', () => {
  beforeEach(freshBucket);

  it('refuses an oversized object from HeadObject alone, without downloading it', async () => {
    const oss = source();
    await oss.put('tricenter-bundles', 'bundles/big.tar.gz', new Uint8Array(4_096));
    fake.calls.length = 0;
    await expect(oss.get('tricenter-bundles', 'bundles/big.tar.gz', { maxBytes: 1_000 })).rejects.toMatchObject({
      code: 'BUNDLE_TOO_LARGE',
    });
    expect(fake.calls.map((c) => c.method)).toEqual(['HEAD']);
  });

  it('sends ifMatch as a quoted If-Match and maps 412 to ConflictError', async () => {
    const oss = source();
    const first = await oss.put('tricenter-bundles', 'app.yaml', bytes('v1'));
    await oss.put('tricenter-bundles', 'app.yaml', bytes('v2'));
    await expect(oss.get('tricenter-bundles', 'app.yaml', { ifMatch: first.etag.toLowerCase() })).rejects.toBeInstanceOf(ConflictError);
    const refused = fake.calls.at(-1)!;
    expect(refused).toMatchObject({ method: 'GET', status: 412, ifMatch: `"${first.etag}"` });
  });

  it('URL-encodes keys with spaces, plus signs and non-ASCII, and signs them raw', async () => {
    const oss = source();
    const key = 'bundles/демо app/web demo+1 (v2) 中文.tar.gz';
    const put = await oss.put('tricenter-bundles', key, bytes('payload'));
    expect(put.key).toBe(key);
    const wire = fake.calls.at(-1)!;
    expect(wire.status).toBe(200);
    expect(wire.rawPath).toBe(`/${encodeURIComponent(key).replace(/%2F/g, '/')}`);
    expect(wire.rawPath).toContain('%20');
    expect(wire.rawPath).toContain('%2B');
    expect(fake.buckets.get('tricenter-bundles')!.has(key)).toBe(true);
    expect(new TextDecoder().decode((await oss.get('tricenter-bundles', key)).data)).toBe('payload');
    expect((await oss.list('tricenter-bundles', { prefix: 'bundles/демо app/' })).map((o) => o.key)).toEqual([key]);
  });

  it('maps NoSuchKey to NotFoundError and head to undefined', async () => {
    const oss = source();
    expect(await oss.head('tricenter-bundles', 'missing.zip')).toBeUndefined();
    await expect(oss.get('tricenter-bundles', 'missing.zip')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('pages ListObjectsV2 with continuation tokens', async () => {
    const oss = source({ listPageSize: 2 });
    for (const k of ['bundles/a', 'bundles/b', 'bundles/c', 'bundles/d', 'bundles/e', 'other/x'])
      await oss.put('tricenter-bundles', k, bytes(k));
    fake.calls.length = 0;
    expect((await oss.list('tricenter-bundles', { prefix: 'bundles/' })).map((o) => o.key)).toEqual([
      'bundles/a',
      'bundles/b',
      'bundles/c',
      'bundles/d',
      'bundles/e',
    ]);
    expect(fake.calls.map((c) => [c.query['list-type'], c.query['max-keys'], c.query['continuation-token'] !== undefined])).toEqual([
      ['2', '2', false],
      ['2', '2', true],
      ['2', '2', true],
    ]);
  });

  it('refuses wrong keys (SignatureDoesNotMatch) as FORBIDDEN, logging neither secret nor token', async () => {
    const logger = memoryLogger();
    const oss = source({ credentials: staticCredentials({ ...KEY, accessKeySecret: 'not-the-secret' }), logger });
    const err = await oss.put('tricenter-bundles', 'x.yaml', bytes('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TricenterError);
    expect((err as TricenterError).code).toBe('FORBIDDEN');
    expect((err as Error).message).toMatch(/SignatureDoesNotMatch \(HTTP 403\), request 5F0A/);
    const lines = JSON.stringify(logger.lines);
    expect(lines).toContain('oss request failed');
    expect(lines).not.toContain('not-the-secret');
    expect(lines).not.toContain(KEY.securityToken);
  });

  it('retries nothing itself but marks a 503 as retryable', async () => {
    const oss = source();
    fake.failNext('PUT', 503, 'ServiceUnavailable');
    await expect(oss.put('tricenter-bundles', 'x.yaml', bytes('x'))).rejects.toMatchObject({ code: 'INTERNAL', retryable: true });
  });
});
