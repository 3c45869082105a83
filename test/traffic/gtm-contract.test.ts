import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { AlidnsGtm } from '#shared/traffic/adapters/aliyun/alidns-gtm.ts';
import { describeGtmContract } from '../contract/gtm.contract.ts';
import { subjectAdapterOptions } from '../contract/gtm-subject.ts';
import { FakeAlidns } from './alidns-msw.ts';

const ENDPOINT = 'https://alidns.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-contract', accessKeySecret: 'contract-secret' };
const INSTANCE = 'gtm-cn-contract';
const server = setupServer();

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describeGtmContract('AlidnsGtm adapter + msw Alidns', async () => {
  const fake = new FakeAlidns({ endpoint: ENDPOINT, keys: { [KEY.accessKeyId]: KEY.accessKeySecret }, instances: [INSTANCE] });
  server.resetHandlers(...fake.handlers());
  return {
    makeGtm: (asked) => new AlidnsGtm(subjectAdapterOptions({ endpoint: ENDPOINT, instanceId: INSTANCE, key: KEY }, asked)),
  };
});
