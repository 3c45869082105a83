import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpsCall, HttpsCallFailed } from '#shared/delivery/adapters/aliyun/https-call.ts';
import { listBucketResult, ossErrorFields } from '#shared/delivery/adapters/aliyun/oss-xml.ts';

/** The transport of the signed OSS and FC adapters, against a real loopback server (what msw cannot show: raw paths, cut-offs, silence). */
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<URL> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
}

describe('httpsCall', () => {
  it('sends the path exactly as given (no dot-segment folding), the body, and one connection per call', async () => {
    const seen: Array<{ url: string; body: string; connection: string | undefined }> = [];
    const origin = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', body, connection: req.headers.connection });
        res.end('ok');
      });
    });
    const answer = await httpsCall({
      method: 'PUT',
      origin,
      path: '/a/../b/%2E%2E/c',
      headers: {},
      body: Buffer.from('x'),
      timeoutMs: 10_000,
    });
    expect(answer.status).toBe(200);
    expect(answer.body.toString()).toBe('ok');
    expect(seen).toEqual([{ url: '/a/../b/%2E%2E/c', body: 'x', connection: 'close' }]);
  });

  it('cuts off an answer longer than maxBodyBytes instead of reading it whole', async () => {
    const origin = await serve((_req, res) => {
      res.writeHead(200);
      res.write(Buffer.alloc(1024));
      res.write(Buffer.alloc(1024));
    });
    const err = await httpsCall({ method: 'GET', origin, path: '/', headers: {}, timeoutMs: 10_000, maxBodyBytes: 1500 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpsCallFailed);
    expect(err).toMatchObject({ reason: 'too-large' });
  });

  it('gives up on a server that never answers, and on one that refuses the connection', async () => {
    const origin = await serve(() => {});
    await expect(httpsCall({ method: 'GET', origin, path: '/', headers: {}, timeoutMs: 50 })).rejects.toMatchObject({ reason: 'timeout' });
    const closed = await serve(() => {});
    servers.pop()?.close();
    await expect(httpsCall({ method: 'GET', origin: closed, path: '/', headers: {}, timeoutMs: 10_000 })).rejects.toMatchObject({
      reason: 'network',
    });
  });
});

describe('OSS XML answers', () => {
  const listing = (inner: string) =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult>\n<Name>b</Name>\n${inner}\n</ListBucketResult>`;
  const contents = (key: string) =>
    `<Contents><Key>${key}</Key><LastModified>2026-11-26T10:00:01.000Z</LastModified><ETag>&quot;5D41402ABC4B2A76B9719D911017C592&quot;</ETag><Size>5</Size></Contents>`;

  it('reads keys with escaped characters, ETags without quotes, and the continuation token', () => {
    const page = listBucketResult(
      listing(
        `<IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;1</NextContinuationToken>${contents('a&lt;b&gt; &#x4E2D;&#25991; &apos;q&apos;')}`,
      ),
    );
    expect(page).toEqual({
      objects: [
        { key: "a<b> 中文 'q'", etag: '5D41402ABC4B2A76B9719D911017C592', size: 5, lastModified: Date.parse('2026-11-26T10:00:01.000Z') },
      ],
      nextContinuationToken: 'tok&1',
    });
    expect(listBucketResult(listing(`<IsTruncated>false</IsTruncated>`))).toEqual({ objects: [] });
  });

  it('refuses an answer that is not a complete listing rather than reading it as empty', () => {
    expect(() => listBucketResult('<html>captive portal</html>')).toThrow(/not a ListBucketResult/);
    expect(() => listBucketResult(listing(contents('a')))).toThrow(/no IsTruncated/);
    expect(() => listBucketResult(listing('<IsTruncated>true</IsTruncated>'))).toThrow(/no NextContinuationToken/);
    expect(() => listBucketResult(listing(`<IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>-1</Size></Contents>`))).toThrow(
      /lacks its Key, Size or LastModified/,
    );
  });

  it('reads the code and request id of an error body, and nothing from anything else', () => {
    expect(
      ossErrorFields('<?xml version="1.0"?>\n<Error><Code>NoSuchKey</Code><Message>m</Message><RequestId>5F0A</RequestId></Error>'),
    ).toEqual({
      code: 'NoSuchKey',
      requestId: '5F0A',
    });
    expect(ossErrorFields('')).toEqual({});
    expect(ossErrorFields('<Errors><Code>x</Code></Errors>')).toEqual({});
  });
});
