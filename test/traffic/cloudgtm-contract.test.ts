import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { AlidnsCloudGtm } from '#shared/traffic/adapters/aliyun/alidns-cloudgtm.ts';
import { describeCloudGtmContract } from '../contract/cloudgtm.contract.ts';
import { subjectAdapterOptions } from '../contract/gtm-subject.ts';
import { FakeCloudGtm } from './cloudgtm-msw.ts';

const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-contract3', accessKeySecret: 'contract3-secret' };
const INSTANCE = 'gtm-cn-contract3';
const server = setupServer();

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describeCloudGtmContract('AlidnsCloudGtm adapter + msw CloudGtm', async () => {
  const fake = new FakeCloudGtm({ endpoint: ENDPOINT, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances: [INSTANCE] });
  server.resetHandlers(...fake.handlers());
  return {
    makeGtm3: (asked) => new AlidnsCloudGtm(subjectAdapterOptions({ endpoint: ENDPOINT, instanceId: INSTANCE, key: KEY }, asked)),
  };
});
