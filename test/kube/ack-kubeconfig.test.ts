import { readFileSync } from 'node:fs';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#shared/platform/clock.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { createAckKubeconfigSource, type AlibabaCredentials } from '#shared/delivery/adapters/aliyun/ack-kubeconfig.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { roaSignature, roaStringToSign, verifyRoaRequest, type RoaRequestParts } from './roa-signature.ts';

const facts = JSON.parse(
  readFileSync(new URL('../../docs/aliyun-api/cs-describe-cluster-user-kubeconfig.json', import.meta.url), 'utf8'),
) as {
  roaSigning: {
    testVector: { accessKeyId: string; accessKeySecret: string; requestLine: string; stringToSign: string; authorization: string };
    testVectorSts: { accessKeySecret: string; securityToken: string; stringToSign: string; authorization: string };
  };
};

const KEY_ID = 'LTAI-test-key';
const KEY_SECRET = 'test-secret-never-logged';
const STS_TOKEN = 'sts-token-never-logged+/=';
const CLUSTER_ID = 'c0123456789abcdef';
const KUBECONFIG_TOKEN = 'kubeconfig-bearer-never-logged';

function ackKubeconfig(contextName: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: kubernetes',
    '  cluster:',
    '    server: https://127.0.0.1:6443',
    `    certificate-authority-data: ${Buffer.from('not-a-real-ca').toString('base64')}`,
    'users:',
    `- name: user-${contextName}`,
    '  user:',
    `    token: ${KUBECONFIG_TOKEN}`,
    'contexts:',
    `- name: ${contextName}`,
    '  context:',
    '    cluster: kubernetes',
    `    user: user-${contextName}`,
    `current-context: ${contextName}`,
    '',
  ].join('\n');
}

interface SeenRequest {
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
}

const seen: SeenRequest[] = [];
let answer: (request: SeenRequest) => Response = () =>
  HttpResponse.json({ config: ackKubeconfig('user-c0123'), expiration: new Date(Date.UTC(2030, 0, 1)).toISOString() });

const server = setupServer(
  http.get('https://cs.cn-hangzhou.aliyuncs.com/k8s/:clusterId/user_config', ({ request }) => {
    const url = new URL(request.url);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    const query = Object.fromEntries(url.searchParams.entries());
    const parts: RoaRequestParts = { method: request.method, headers, path: url.pathname, query };
    const failure = verifyRoaRequest(parts, KEY_ID, KEY_SECRET);
    if (failure) {
      return HttpResponse.json(
        {
          Code: 'SignatureDoesNotMatch',
          Message: `The request signature does not conform to Aliyun standards (${failure})`,
          RequestId: 'REQ-403',
        },
        { status: 403 },
      );
    }
    const record = { path: url.pathname, query, headers };
    seen.push(record);
    return answer(record);
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  seen.length = 0;
  answer = () => HttpResponse.json({ config: ackKubeconfig('user-c0123'), expiration: new Date(Date.UTC(2030, 0, 1)).toISOString() });
});
afterAll(() => server.close());

const credentials = (): AlibabaCredentials => ({ accessKeyId: KEY_ID, accessKeySecret: KEY_SECRET, securityToken: STS_TOKEN });

describe('ROA signature check used by the handlers', () => {
  it('reproduces both documented test vectors', () => {
    const { testVector, testVectorSts } = facts.roaSigning;
    expect(`acs ${testVector.accessKeyId}:${roaSignature(testVector.stringToSign, testVector.accessKeySecret)}`).toBe(
      testVector.authorization,
    );
    expect(`acs ${testVector.accessKeyId}:${roaSignature(testVectorSts.stringToSign, testVectorSts.accessKeySecret)}`).toBe(
      testVectorSts.authorization,
    );

    // Rebuild the first string to sign from the request parts, as the handler does.
    const [method, target] = testVector.requestLine.split(' ') as [string, string];
    const url = new URL(target, 'https://cs.cn-hangzhou.aliyuncs.com');
    const lines = testVector.stringToSign.split('\n');
    const headers: Record<string, string> = { accept: lines[1] as string, 'content-md5': lines[2] as string, date: lines[4] as string };
    for (const line of lines.slice(5, -1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon)] = line.slice(colon + 1);
    }
    const parts = { method, headers, path: url.pathname, query: Object.fromEntries(url.searchParams.entries()) };
    expect(roaStringToSign(parts)).toBe(testVector.stringToSign);
    expect(
      verifyRoaRequest(
        { ...parts, headers: { ...headers, authorization: testVector.authorization } },
        testVector.accessKeyId,
        testVector.accessKeySecret,
      ),
    ).toBeUndefined();
    expect(
      verifyRoaRequest({ ...parts, headers: { ...headers, authorization: testVector.authorization } }, testVector.accessKeyId, 'other'),
    ).toBe('signature mismatch');
  });
});

describe('ACK kubeconfig source (DescribeClusterUserKubeconfig through pop-core ROAClient)', () => {
  it('sends a signed GET with the documented query and caches the answer until shortly before it expires', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 12, 0, 0));
    const expiresAt = Date.UTC(2026, 10, 26, 13, 0, 0);
    answer = () => HttpResponse.json({ config: ackKubeconfig('user-c0123'), expiration: '2026-11-26T13:00:00Z' });
    const source = createAckKubeconfigSource({ credentials, clock, temporaryDurationMinutes: 60, refreshBeforeMs: 5 * 60_000 });
    const request = { clusterId: CLUSTER_ID, region: 'cn-hangzhou', privateIpAddress: true };

    const [first, concurrent] = await Promise.all([source.get(request), source.get(request)]);
    expect(first).toEqual({ kubeconfig: ackKubeconfig('user-c0123'), expiresAt });
    expect(concurrent).toBe(first);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      path: `/k8s/${CLUSTER_ID}/user_config`,
      query: { PrivateIpAddress: 'true', TemporaryDurationMinutes: '60' },
      headers: { 'x-acs-version': '2015-12-15', 'x-acs-security-token': STS_TOKEN, 'x-acs-accesskey-id': KEY_ID },
    });

    clock.set(expiresAt - 6 * 60_000);
    expect(await source.get(request)).toBe(first);
    expect(seen).toHaveLength(1);
    clock.set(expiresAt - 4 * 60_000);
    await source.get(request);
    expect(seen).toHaveLength(2);
  });

  it('classifies errors: signature 403 permanent, unknown cluster NOT_FOUND, 5xx and network failures retryable', async () => {
    // A zero budget leaves no room for a retry: each answer's classification shows as it is.
    const wrongSecret = createAckKubeconfigSource({
      credentials: () => ({ accessKeyId: KEY_ID, accessKeySecret: 'wrong' }),
      retryBudgetMs: 0,
    });
    const request = { clusterId: CLUSTER_ID, region: 'cn-hangzhou' };
    await expect(wrongSecret.get(request)).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });

    const source = createAckKubeconfigSource({ credentials, retryBudgetMs: 0 });
    answer = () => HttpResponse.json({ Code: 'ErrorClusterNotFound', Message: 'cluster not found', RequestId: 'R1' }, { status: 404 });
    await expect(source.get(request)).rejects.toMatchObject({ code: 'NOT_FOUND', retryable: false });
    answer = () => HttpResponse.json({ Code: 'InternalError', Message: 'boom', RequestId: 'R2' }, { status: 500 });
    await expect(source.get(request)).rejects.toMatchObject({ code: 'INTERNAL', retryable: true });
    answer = () => HttpResponse.json({ Code: 'Throttling.User', Message: 'slow down', RequestId: 'R3' }, { status: 400 });
    await expect(source.get(request)).rejects.toMatchObject({ code: 'THROTTLED', retryable: true });
    answer = () => HttpResponse.error();
    const unreachable = await source.get(request).catch((err: unknown) => err);
    expect(unreachable).toBeInstanceOf(TricenterError);
    expect(unreachable).toMatchObject({ code: 'UNREACHABLE', retryable: true });
    answer = () => HttpResponse.json({ unexpected: true });
    await expect(source.get(request)).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('feeds the cluster connections, never logging credentials or the kubeconfig', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 12, 0, 0));
    const logger = memoryLogger();
    let version = 1;
    answer = () => HttpResponse.json({ config: ackKubeconfig(`user-c0123-v${version}`), expiration: '2026-11-26T13:00:00Z' });
    const ack = createAckKubeconfigSource({ credentials, clock, logger });
    const connections = createClusterConnections({
      clusters: [
        { name: 'cluster1-hangzhou', aliases: ['c3'], labels: {}, connection: { ackClusterId: CLUSTER_ID, region: 'cn-hangzhou' } },
      ],
      ack,
      logger,
    });
    const first = await connections.kubeConfig('cluster1-hangzhou');
    expect(first.getCurrentContext()).toBe('user-c0123-v1');
    expect(first.getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
    expect(await connections.kubeConfig('c3')).toBe(first);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.query.PrivateIpAddress).toBe('false');

    version = 2;
    clock.set(Date.UTC(2026, 10, 26, 12, 58, 0));
    const refreshed = await connections.kubeConfig('cluster1-hangzhou');
    expect(refreshed).not.toBe(first);
    expect(refreshed.getCurrentContext()).toBe('user-c0123-v2');

    const wrong = createClusterConnections({
      clusters: [{ name: 'x', aliases: [], labels: {}, connection: { ackClusterId: 'c-missing', region: 'cn-hangzhou' } }],
      ack: createAckKubeconfigSource({
        credentials: () => ({ accessKeyId: KEY_ID, accessKeySecret: 'bad-secret-never-logged' }),
        logger,
        retryBudgetMs: 0,
      }),
      logger,
    });
    await expect(wrong.kubeConfig('x')).rejects.toMatchObject({ code: 'FORBIDDEN' });

    const logged = JSON.stringify(logger.lines);
    expect(logger.lines.length).toBeGreaterThan(2);
    for (const secret of [KEY_SECRET, STS_TOKEN, KUBECONFIG_TOKEN, 'bad-secret-never-logged', 'not-a-real-ca'])
      expect(logged).not.toContain(secret);
  });

  describe('retries', () => {
    const request = { clusterId: CLUSTER_ID, region: 'cn-hangzhou' };
    /** Simulated time: each answer takes 1 s, each backoff moves the clock by its delay; nothing waits. */
    const simulated = (random = () => 1) => {
      const clock = new ManualClock(Date.UTC(2026, 10, 26, 12, 0, 0));
      const delays: number[] = [];
      const logger = memoryLogger();
      const source = createAckKubeconfigSource({
        credentials,
        clock,
        logger,
        random,
        sleep: async (ms) => {
          delays.push(ms);
          clock.advance(ms);
        },
      });
      return { clock, delays, logger, source, started: clock.now() };
    };
    const scripted = (clock: ManualClock, answers: Array<() => Response>) => {
      let call = 0;
      answer = () => {
        clock.advance(1_000);
        const next = answers[Math.min(call, answers.length - 1)]!;
        call++;
        return next();
      };
    };
    const throttled = () =>
      HttpResponse.json(
        { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.', RequestId: 'R-T' },
        { status: 400 },
      );
    const unavailable = () => HttpResponse.json({ Code: 'ServiceUnavailable', Message: 'try later', RequestId: 'R-503' }, { status: 503 });
    const ok = () => HttpResponse.json({ config: ackKubeconfig('user-c0123'), expiration: '2026-11-26T13:00:00Z' });

    it('retries a throttling burst, a 5xx and a dropped connection with jittered backoff, each attempt signed afresh', async () => {
      const { clock, delays, logger, source } = simulated(() => 0.5);
      scripted(clock, [throttled, throttled, unavailable, () => HttpResponse.error(), ok]);
      const fetched = await source.get(request);
      expect(fetched.kubeconfig).toBe(ackKubeconfig('user-c0123'));
      // Five requests, each signed afresh (msw verified every signature, the nonces differ).
      expect(seen).toHaveLength(5);
      expect(new Set(seen.map((r) => r.headers['x-acs-signature-nonce'])).size).toBe(5);
      // d = 200, 400, 800, 1600 ms; with random() = 0.5 each delay is 3/4 of d.
      expect(delays).toEqual([150, 300, 600, 1200]);
      const retried = logger.lines.filter((l) => l.msg === 'ack kubeconfig fetch failed; retrying');
      expect(retried.map((l) => l.code)).toEqual(['THROTTLED', 'THROTTLED', 'INTERNAL', 'UNREACHABLE']);
      expect(logger.lines.find((l) => l.msg === 'ack kubeconfig fetched')).toMatchObject({ attempts: 5 });
    });

    it('draws each delay from [d/2, d]', async () => {
      for (const [random, expected] of [
        [() => 0, [100, 200, 400]],
        [() => 0.999999, [200, 400, 800]],
      ] as const) {
        const { clock, delays, source } = simulated(random);
        scripted(clock, [unavailable, unavailable, unavailable, ok]);
        await source.get(request);
        expect(delays).toEqual(expected);
        seen.length = 0;
      }
    });

    it('gives up inside the budget, still retryable, saying how many attempts it made', async () => {
      const { clock, delays, source, started } = simulated();
      scripted(clock, [unavailable]);
      const failure = await source.get(request).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(TricenterError);
      expect(failure).toMatchObject({ code: 'INTERNAL', retryable: true });
      // Default budget 20 s, request timeout 8 s, 1 s per answer: retries start at 1.2, 2.6, 4.4, 7 and 11 s;
      // after the 6th answer (12 s) another one could not end before 20 s.
      expect(seen).toHaveLength(6);
      expect(delays).toEqual([200, 400, 800, 1600, 3000]);
      expect(clock.now() - started).toBeLessThanOrEqual(20_000);
      expect((failure as Error).message).toBe(
        'DescribeClusterUserKubeconfig for ACK cluster c0123456789abcdef in cn-hangzhou: Container Service failed (503 ServiceUnavailable) (gave up after 6 attempts within 20000 ms)',
      );
    });

    it('never retries a permanent refusal: a bad signature or an unknown cluster is asked once', async () => {
      const wrongSecret = createAckKubeconfigSource({
        credentials: () => ({ accessKeyId: KEY_ID, accessKeySecret: 'wrong' }),
        sleep: async () => expect.fail('no backoff for a permanent error'),
      });
      await expect(wrongSecret.get(request)).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
      const { clock, delays, source } = simulated();
      scripted(clock, [
        () => HttpResponse.json({ Code: 'ErrorClusterNotFound', Message: 'cluster not found', RequestId: 'R1' }, { status: 404 }),
        ok,
      ]);
      await expect(source.get(request)).rejects.toMatchObject({ code: 'NOT_FOUND', retryable: false });
      expect(seen).toHaveLength(1);
      expect(delays).toEqual([]);
    });

    it('shares one retrying fetch between concurrent callers', async () => {
      const { clock, source } = simulated();
      scripted(clock, [throttled, ok]);
      const [a, b] = await Promise.all([source.get(request), source.get(request)]);
      expect(a).toBe(b);
      expect(seen).toHaveLength(2);
    });
  });
});
