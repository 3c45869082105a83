import { inspect } from 'node:util';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsFromEnv, credentialsFromFcContext, invocationCredentials } from '#shared/platform/credentials.ts';
import { createFcTaskQueue } from '#shared/delivery/adapters/aliyun/fc-task-queue.ts';
import { createOssBundleSource } from '#shared/delivery/adapters/aliyun/oss-bundle-source.ts';
import { createTablestoreRunStore } from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';
import { createTables, tablestoreClient } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { FcContext } from '#shared/platform/triggers/fc.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { deployStep, plan } from '../workflow/plans.ts';
import { FakeFc } from './fc-msw.ts';
import { FakeOss } from './oss-msw.ts';
import { FakeTablestore } from './tablestore-msw.ts';

const OTS = 'https://creds.cn-hangzhou.ots.aliyuncs.com';
const FC = 'https://42.cn-hangzhou.fc.aliyuncs.com';
const OSS_HOST = 'oss-cn-hangzhou.aliyuncs.com';

const invocation = (n: number): FcContext => ({
  requestId: `req-${n}`,
  accountId: '42',
  region: 'cn-hangzhou',
  credentials: { accessKeyId: `STS.key-${n}`, accessKeySecret: `secret-${n}-never-logged`, securityToken: `token-${n}-never-logged` },
});
const keysOf = (ns: number[]) =>
  Object.fromEntries(ns.map((n) => [`STS.key-${n}`, { secret: `secret-${n}-never-logged`, stsToken: `token-${n}-never-logged` }]));

describe('credentials from the FC context', () => {
  it('takes the STS keys of the invocation and refuses a context without them', () => {
    expect(credentialsFromFcContext(invocation(1))).toMatchObject({
      accessKeyId: 'STS.key-1',
      accessKeySecret: 'secret-1-never-logged',
      securityToken: 'token-1-never-logged',
    });
    expect(() => credentialsFromFcContext({ requestId: 'r-9' })).toThrow(
      /invocation r-9 carries no credentials: give the function a RAM role/,
    );
  });

  it('prints as redacted through JSON and util.inspect', () => {
    const keys = credentialsFromFcContext(invocation(1));
    for (const text of [JSON.stringify({ keys }), inspect(keys), inspect({ nested: { keys } }, { depth: 5 }), `${JSON.stringify(keys)}`]) {
      expect(text).not.toContain('secret-1-never-logged');
      expect(text).not.toContain('token-1-never-logged');
    }
    expect(JSON.parse(JSON.stringify(keys))).toMatchObject({ accessKeySecret: '[redacted]', securityToken: '[redacted]' });
  });

  it('refuses to hand out keys before the first invocation, then follows every refresh', () => {
    const credentials = invocationCredentials();
    expect(() => credentials.provider()).toThrow(/before any invocation handed them over/);
    credentials.refresh(invocation(1));
    expect(credentials.provider().accessKeyId).toBe('STS.key-1');
    credentials.refresh(invocation(2));
    expect(credentials.provider().securityToken).toBe('token-2-never-logged');
  });

  it('reads the standard variables for the CLI', () => {
    expect(credentialsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' })).toMatchObject({
      accessKeyId: 'id',
      accessKeySecret: 's',
    });
    expect(credentialsFromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' }).securityToken).toBeUndefined();
  });
});

describe('adapters composed as a function does it', () => {
  const server = setupServer();
  const ots = new FakeTablestore({ endpoint: OTS, instance: 'creds', keys: keysOf([1, 2]) });
  const fc = new FakeFc({ endpoint: FC, functions: ['tricenter-deploy-step'], keys: keysOf([1, 2]) });
  const oss = new FakeOss({ endpointHost: OSS_HOST, buckets: ['tricenter-bundles'], keys: keysOf([1, 2]) });
  beforeAll(async () => {
    server.listen({ onUnhandledRequest: 'error' });
    server.resetHandlers(...ots.handlers(), ...fc.handlers(), ...oss.handlers());
    await createTables(
      tablestoreClient({ endpoint: OTS, instance: 'creds', credentials: credentialsFromFcContext(invocation(1)) }),
      'tricenter_',
    );
  });
  afterAll(() => server.close());

  it('signs each invocation with its own STS keys, and no log line carries a secret or token', async () => {
    const logger = memoryLogger({ fn: 'deploy-step' });
    const credentials = invocationCredentials();
    const store = createTablestoreRunStore({
      region: 'cn-hangzhou',
      instance: 'creds',
      endpoint: OTS,
      credentials: credentials.provider,
      logger,
    });
    const queue = createFcTaskQueue({
      region: 'cn-hangzhou',
      accountId: '42',
      functionName: 'tricenter-deploy-step',
      endpoint: FC,
      credentials: credentials.provider,
      logger,
    });
    const bundles = createOssBundleSource({
      region: 'cn-hangzhou',
      endpoint: `https://${OSS_HOST}`,
      credentials: credentials.provider,
      logger,
    });

    for (const n of [1, 2]) {
      credentials.refresh(invocation(n));
      await store.createRun(createRun({ id: `run-${n}`, releaseId: 'r', plan: plan([deployStep('deploy', ['c1'])]) }, n));
      await queue.send([{ key: `run-${n}_deploy_c1_1`, runId: `run-${n}`, step: 'deploy', cluster: 'c1', attempt: 1 }]);
      await bundles.put('tricenter-bundles', `bundles/app-${n}.yaml`, new TextEncoder().encode('kind: Application\n'));
      logger.info('invocation done', { store, queue, bundles, credentials: credentials.provider(), context: invocation(n) });
    }
    expect(ots.calls.filter((c) => c.action === 'PutRow').map((c) => c.stsToken)).toEqual(['token-1-never-logged', 'token-2-never-logged']);
    expect(fc.invocations.map((c) => c.securityToken)).toEqual(['token-1-never-logged', 'token-2-never-logged']);

    // A failing call logs too; still nothing secret.
    ots.failNext('PutRow', 'OTSParameterInvalid', 400);
    await expect(
      store.createRun(createRun({ id: 'run-3', releaseId: 'r', plan: plan([deployStep('deploy', ['c1'])]) }, 3)),
    ).rejects.toThrow();
    logger.error('invocation failed', { error: new Error('boom', { cause: { accessKeySecret: 'secret-2-never-logged' } }) });

    const text = JSON.stringify(logger.lines);
    expect(logger.lines.length).toBeGreaterThanOrEqual(4);
    for (const n of [1, 2]) {
      expect(text).not.toContain(`secret-${n}-never-logged`);
      expect(text).not.toContain(`token-${n}-never-logged`);
    }
  });
});
