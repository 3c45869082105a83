import { createHash } from 'node:crypto';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BucketReleaseObjectStore } from '#shared/delivery/adapters/bucket-release-objects.ts';
import { staticCredentials } from '#shared/platform/credentials.ts';
import { createOssBundleSource } from '#shared/delivery/adapters/aliyun/oss-bundle-source.ts';
import { describeReleaseObjectStoreContract } from '../contract/release-object-store.contract.ts';
import { FakeOss } from './oss-msw.ts';

const ENDPOINT_HOST = 'oss-cn-hangzhou.aliyuncs.com';
const KEY = { accessKeyId: 'STS.release-objects', accessKeySecret: 'oss-secret-never-logged', securityToken: 'oss-sts-token' };
const BUCKET = 'contract-bucket';

const server = setupServer();
let fake: FakeOss;
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

function fixture() {
  fake = new FakeOss({
    endpointHost: ENDPOINT_HOST,
    buckets: [BUCKET],
    keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
  });
  server.resetHandlers(...fake.handlers());
  const raw = createOssBundleSource({ region: 'cn-hangzhou', endpoint: `https://${ENDPOINT_HOST}`, credentials: staticCredentials(KEY) });
  return { store: new BucketReleaseObjectStore(raw, BUCKET), bucket: BUCKET, raw };
}

describeReleaseObjectStoreContract('oss over msw', fixture);

describe('BucketReleaseObjectStore on OSS', () => {
  let f: ReturnType<typeof fixture>;
  beforeEach(() => {
    f = fixture();
  });
  const data = new TextEncoder().encode('[{"kind":"ConfigMap"}]');
  const digest = createHash('sha256').update(data).digest('hex');

  it('uploads an object once: storing it again costs one HEAD', async () => {
    await f.store.put(digest, data);
    expect(fake.calls.map((c) => `${c.method} ${c.status}`)).toEqual(['HEAD 404', 'PUT 200']);
    fake.calls.length = 0;
    await f.store.put(digest, data);
    expect(fake.calls.map((c) => `${c.method} ${c.status}`)).toEqual(['HEAD 200']);
  });

  it('refuses a forged digest without sending anything', async () => {
    await expect(f.store.get('../config/clusters')).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(fake.calls).toEqual([]);
  });
});
