import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import * as fc3 from '@alicloud/fc20230330';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { describe, expect, it } from 'vitest';
import { createFcTaskQueue } from '#shared/delivery/adapters/aliyun/fc-task-queue.ts';
import { acs3SignedHeaders, ossV1Authorization, percentEncode } from '#shared/delivery/adapters/aliyun/signatures.ts';
import { staticCredentials } from '#shared/platform/credentials.ts';

/**
 * The signers of the OSS and FC adapters against the SDKs they replaced: ali-oss's own canonical
 * string and HMAC, and @alicloud/openapi-core's ACS3 getAuthorization, on requests with the
 * characters that break hand-written signers (non-ASCII keys, `+`, spaces, `!'()*`, sorted
 * sub-resources, padded header values).
 */
const require = createRequire(import.meta.url);
const ossSign = require('ali-oss/lib/common/signUtils.js') as {
  authorization(id: string, secret: string, canonical: string): string;
  buildCanonicalString(
    method: string,
    resource: string,
    request: { headers: Record<string, string>; parameters?: Record<string, string | null> },
  ): string;
};
// The OpenAPI core the FC SDK signs with, loaded as the SDK loads it.
const acs3 = (
  createRequire(require.resolve('@alicloud/fc20230330'))('@alicloud/openapi-core/dist/utils.js') as {
    default: {
      getAuthorization(
        request: { pathname: string; method: string; query: Record<string, string>; headers: Record<string, string> },
        algorithm: string,
        payload: string,
        id: string,
        secret: string,
      ): string;
    };
  }
).default;

const KEYS = { accessKeyId: 'STS.sign-test', accessKeySecret: 'sign-secret', securityToken: 'sts-token' };

describe('OSS signature V1', () => {
  const cases: Array<{
    method: string;
    key: string;
    headers: Record<string, string>;
    sub: Record<string, string | undefined> | undefined;
  }> = [
    { method: 'GET', key: 'bundles/demo/web-demo.yaml', headers: {}, sub: undefined },
    {
      method: 'PUT',
      key: 'bundles/демо app/web demo+1 (v2) 中文.tar.gz',
      headers: { 'content-md5': 'DLmI0EKn8o3V/itVs/Wseg==', 'content-type': 'text/yaml' },
      sub: undefined,
    },
    {
      method: 'HEAD',
      key: 'a/../b',
      headers: { 'if-match': '"ABC"', 'x-oss-meta-b': ' padded ', 'x-oss-meta-a': 'first' },
      sub: undefined,
    },
    { method: 'GET', key: '', headers: {}, sub: { 'continuation-token': 'ChR0b2tlbi93aXRoKz0=', acl: undefined } },
  ];
  for (const c of cases) {
    it(`matches ali-oss for ${c.method} "${c.key}"`, () => {
      const headers: Record<string, string> = {
        ...c.headers,
        'x-oss-date': 'Thu, 03 Dec 2026 17:49:38 GMT',
        'x-oss-security-token': KEYS.securityToken,
      };
      const parameters = c.sub ? Object.fromEntries(Object.entries(c.sub).map(([k, v]) => [k, v ?? null])) : undefined;
      const canonical = ossSign.buildCanonicalString(c.method, `/tricenter-bundles/${c.key}`, {
        headers,
        ...(parameters ? { parameters } : {}),
      });
      expect(
        ossV1Authorization(KEYS, {
          method: c.method,
          bucket: 'tricenter-bundles',
          key: c.key,
          headers,
          ...(c.sub ? { subresources: c.sub } : {}),
        }),
      ).toBe(ossSign.authorization(KEYS.accessKeyId, KEYS.accessKeySecret, canonical));
    });
  }

  it('changes with the secret, the key and every signed header (a forged request does not verify)', () => {
    const base = { method: 'GET', bucket: 'b-1', key: 'k', headers: { 'x-oss-date': 'Thu, 03 Dec 2026 17:49:38 GMT' } };
    const signature = ossV1Authorization(KEYS, base);
    expect(ossV1Authorization({ ...KEYS, accessKeySecret: 'other' }, base)).not.toBe(signature);
    expect(ossV1Authorization(KEYS, { ...base, key: 'k2' })).not.toBe(signature);
    expect(ossV1Authorization(KEYS, { ...base, headers: { ...base.headers, 'x-oss-meta-x': '1' } })).not.toBe(signature);
    expect(ossV1Authorization(KEYS, { ...base, headers: { 'x-oss-date': 'Thu, 03 Dec 2026 17:49:39 GMT' } })).not.toBe(signature);
  });
});

describe('Alibaba Cloud V3 signature (ACS3-HMAC-SHA256)', () => {
  const sign = (url: string, extra: Record<string, string> = {}) => {
    const body = Buffer.from('{"key":"run-1/deploy/c1/1"}');
    const headers = acs3SignedHeaders(KEYS, {
      method: 'POST',
      url: new URL(url),
      body,
      date: new Date(Date.UTC(2026, 11, 3, 17, 49, 28, 123)),
      nonce: 'nonce-1',
      headers: {
        'content-type': 'application/octet-stream',
        'x-acs-action': 'InvokeFunction',
        'x-acs-version': '2023-03-30',
        'x-fc-invocation-type': 'Async',
        ...extra,
      },
    });
    return { headers, body };
  };

  it('matches @alicloud/openapi-core over the signed headers, for plain and awkward query values', () => {
    for (const url of [
      'https://1234.cn-hangzhou.fc.aliyuncs.com/2023-03-30/functions/tricenter-deploy-step/invocations',
      "https://1234.cn-hangzhou.fc.aliyuncs.com/2023-03-30/functions/fn/invocations?qualifier=LATEST&b=a b!'()*&a=中文",
    ]) {
      const { headers } = sign(url, { 'x-acs-meta': '  padded  ' });
      const match = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(
        headers.authorization ?? '',
      );
      expect(match?.[1]).toBe(KEYS.accessKeyId);
      const signed = match![2]!.split(';');
      expect(signed).toEqual([
        'content-type',
        'host',
        'x-acs-action',
        'x-acs-content-sha256',
        'x-acs-date',
        'x-acs-meta',
        'x-acs-security-token',
        'x-acs-signature-nonce',
        'x-acs-version',
      ]);
      const parsed = new URL(url);
      const expected = acs3.getAuthorization(
        {
          pathname: parsed.pathname,
          method: 'POST',
          query: Object.fromEntries(parsed.searchParams),
          headers: Object.fromEntries(signed.map((n) => [n, headers[n]!])),
        },
        'ACS3-HMAC-SHA256',
        headers['x-acs-content-sha256']!,
        KEYS.accessKeyId,
        KEYS.accessKeySecret,
      );
      expect(headers.authorization).toBe(expected);
    }
  });

  it('dates to the second in UTC, hashes the body, carries the STS token, and leaves x-fc-* unsigned', () => {
    const { headers } = sign('https://1234.cn-hangzhou.fc.aliyuncs.com/x');
    expect(headers['x-acs-date']).toBe('2026-12-03T17:49:28Z');
    expect(headers['x-acs-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
    expect(headers['x-acs-security-token']).toBe(KEYS.securityToken);
    expect(headers.host).toBe('1234.cn-hangzhou.fc.aliyuncs.com');
    expect(headers.authorization).not.toContain('x-fc-');
    expect(headers.authorization).not.toContain(KEYS.accessKeySecret);
  });

  it('percent-encodes as RFC 3986 (the characters encodeURIComponent leaves alone)', () => {
    expect(percentEncode("a b!'()*~-_.")).toBe('a%20b%21%27%28%29%2A~-_.');
  });
});

describe('the FC task queue on the wire', () => {
  it('sends what @alicloud/fc20230330 sends for an async InvokeFunction, bar the per-request values', async () => {
    const seen: Array<{ url: string; headers: Record<string, string>; body: string }> = [];
    const server = setupServer(
      http.post('https://1234.cn-hangzhou.fc.aliyuncs.com/2023-03-30/functions/:name/invocations', async ({ request }) => {
        seen.push({ url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() });
        return new HttpResponse(null, { status: 202 });
      }),
    );
    server.listen({ onUnhandledRequest: 'error' });
    try {
      const message = { key: 'run-1_deploy_c1_1', runId: 'run-1' };
      const Client = ((fc3.default as unknown as { default?: unknown }).default ?? fc3.default) as new (
        config: Record<string, unknown>,
      ) => InstanceType<typeof fc3.default>;
      const sdk = new Client({ ...KEYS, regionId: 'cn-hangzhou', endpoint: '1234.cn-hangzhou.fc.aliyuncs.com', protocol: 'https' });
      await sdk.invokeFunctionWithOptions(
        'tricenter-deploy-step',
        new fc3.InvokeFunctionRequest({ body: Readable.from([Buffer.from(JSON.stringify(message))]), qualifier: 'LATEST' }),
        new fc3.InvokeFunctionHeaders({ xFcInvocationType: 'Async', xFcAsyncTaskId: message.key }),
        { autoretry: false } as never,
      );
      await createFcTaskQueue<typeof message>({
        region: 'cn-hangzhou',
        accountId: '1234',
        functionName: 'tricenter-deploy-step',
        qualifier: 'LATEST',
        credentials: staticCredentials(KEYS),
      }).send([message]);
      const [fromSdk, fromAdapter] = seen;
      const perRequest = [
        'authorization',
        'x-acs-date',
        'x-acs-signature-nonce',
        'user-agent',
        'transfer-encoding',
        'content-length',
        'x-acs-credentials-provider',
      ];
      const stable = (headers: Record<string, string>) =>
        Object.fromEntries(Object.entries(headers).filter(([name]) => !perRequest.includes(name)));
      expect(fromAdapter!.url).toBe(fromSdk!.url);
      expect(fromAdapter!.body).toBe(fromSdk!.body);
      expect(stable(fromAdapter!.headers)).toEqual(stable(fromSdk!.headers));
      expect(fromAdapter!.headers.authorization?.split(',Signature=')[0]).toBe(
        fromSdk!.headers.authorization?.split(',Signature=')[0]?.replace('x-acs-credentials-provider;', ''),
      );
    } finally {
      server.close();
    }
  });
});
