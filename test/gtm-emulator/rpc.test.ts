import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import RPCClient from '@alicloud/pop-core';
import type { GtmEmulator } from '#sandbox/gtm/index.ts';
import { ACCESS_KEY_ID, apiTimestamp, call, callError, rawRequest, startTestEmulator } from './helpers.ts';

let emulator: GtmEmulator;
let client: RPCClient;

beforeAll(async () => {
  ({ emulator, client } = await startTestEmulator());
});
afterAll(async () => {
  await emulator.stop();
});

const describeInstance = () => ({ InstanceId: emulator.instanceId });

describe('GTM emulator RPC transport and authentication', () => {
  it('accepts a signed form POST from pop-core and replies JSON with a RequestId', async () => {
    const reply = await call(client, 'DescribeDnsGtmInstance', describeInstance());
    expect(reply.InstanceId).toBe(emulator.instanceId);
    expect(reply.RequestId).toMatch(/^[0-9A-F-]{36}$/);
  });

  it("accepts pop-core's default GET and its lower-case 'post' (params in the query, empty body)", async () => {
    const viaGet = await client.request<Record<string, any>>('DescribeDnsGtmInstance', describeInstance());
    expect(viaGet.InstanceId).toBe(emulator.instanceId);
    const viaLowerPost = await client.request<Record<string, any>>('DescribeDnsGtmInstance', describeInstance(), { method: 'post' });
    expect(viaLowerPost.InstanceId).toBe(emulator.instanceId);
  });

  it('accepts a hand-signed request and answers Content-Type application/json', async () => {
    const reply = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance());
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(reply.body.InstanceId).toBe(emulator.instanceId);
  });

  it('refuses a bad signature with SignatureDoesNotMatch (403) and an Alibaba error body', async () => {
    const reply = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), { secret: 'wrong-secret' });
    expect(reply.status).toBe(403);
    expect(reply.body).toMatchObject({ Code: 'SignatureDoesNotMatch', HostId: 'alidns.aliyuncs.com' });
    expect(reply.body.RequestId).toBeTypeOf('string');
    expect(reply.body.Recommend).toContain('q=SignatureDoesNotMatch');
    expect(reply.body.Message).toContain('POST&%2F&');
  });

  it('refuses a client with the wrong secret through pop-core', async () => {
    const wrong = new RPCClient({
      endpoint: emulator.endpoint,
      apiVersion: '2015-01-09',
      accessKeyId: ACCESS_KEY_ID,
      accessKeySecret: 'nope',
    });
    const error = await callError(wrong, 'DescribeDnsGtmInstance', describeInstance());
    expect(error.code).toBe('SignatureDoesNotMatch');
  });

  it('refuses an unknown AccessKeyId', async () => {
    const reply = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), { accessKeyId: 'someone-else' });
    expect([reply.status, reply.body.Code]).toEqual([400, 'InvalidAccessKeyId.NotFound']);
  });

  it('refuses a replayed nonce with SignatureNonceUsed, even with a fresh signature', async () => {
    const nonce = 'a'.repeat(32);
    const first = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), { nonce });
    expect(first.status).toBe(200);
    const replay = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), { nonce });
    expect([replay.status, replay.body.Code]).toEqual([400, 'SignatureNonceUsed']);
  });

  it('a forged request does not use up a nonce', async () => {
    const nonce = 'b'.repeat(32);
    const forged = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), { nonce, secret: 'forger' });
    expect(forged.body.Code).toBe('SignatureDoesNotMatch');
    const genuine = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), { nonce });
    expect(genuine.status).toBe(200);
  });

  it('refuses a Timestamp more than 15 minutes away, and a malformed one', async () => {
    const old = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), {
      timestamp: apiTimestamp(Date.now() - 16 * 60_000),
    });
    expect([old.status, old.body.Code]).toEqual([400, 'InvalidTimeStamp.Expired']);
    const future = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), {
      timestamp: apiTimestamp(Date.now() + 16 * 60_000),
    });
    expect(future.body.Code).toBe('InvalidTimeStamp.Expired');
    const recent = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), {
      timestamp: apiTimestamp(Date.now() - 10 * 60_000),
    });
    expect(recent.status).toBe(200);
    const malformed = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), { timestamp: '2026/11/26 10:00' });
    expect([malformed.status, malformed.body.Code]).toEqual([400, 'IllegalTimestamp']);
  });

  it('refuses a wrong Version, a missing common parameter and an unknown action', async () => {
    const version = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance(), { version: '2019-01-01' });
    expect([version.status, version.body.Code]).toEqual([400, 'NoSuchVersion']);
    const unsigned = await fetch(`${emulator.endpoint}/?Action=DescribeDnsGtmInstance&Version=2015-01-09`);
    expect(unsigned.status).toBe(400);
    expect(((await unsigned.json()) as Record<string, string>).Code).toBe('MissingParameter');
    const unknown = await callError(client, 'DescribeDnsGtmNothing', {});
    expect(unknown.code).toBe('UnsupportedOperation');
  });

  it('throttleNext(n) refuses the next n calls with a throttling code, then serves again', async () => {
    emulator.throttleNext(2, 'Throttling.User');
    const first = await callError(client, 'DescribeDnsGtmInstance', describeInstance());
    expect(first.code).toBe('Throttling.User');
    expect(first.data.Message).toBe('Request was denied due to user flow control.');
    const raw = await rawRequest(emulator.endpoint, 'DescribeDnsGtmInstance', describeInstance());
    expect([raw.status, raw.body.Code]).toEqual([400, 'Throttling.User']);
    expect((await call(client, 'DescribeDnsGtmInstance', describeInstance())).InstanceId).toBe(emulator.instanceId);
    emulator.throttleNext(1, 'DnsGtmSystemBusyness');
    expect((await callError(client, 'DescribeDnsGtmInstance', describeInstance())).code).toBe('DnsGtmSystemBusyness');
  });

  it('counts the calls that reached an action', async () => {
    const before = emulator.callCounts().DescribeDnsGtmInstanceStatus ?? 0;
    await call(client, 'DescribeDnsGtmInstanceStatus', describeInstance());
    expect(emulator.callCounts().DescribeDnsGtmInstanceStatus).toBe(before + 1);
  });
});
