import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { staticCredentials } from '#shared/platform/credentials.ts';
import { createTablestoreRunStore } from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';

/**
 * The request timeout reaches the SDK's socket: an endpoint that accepts connections and never
 * answers (a hung proxy, a black-holed route) fails the attempt, and the budget ends the call.
 * Real sockets, no msw; one 100 ms timeout is the only real waiting.
 */

let server: Server;
let endpoint: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

it('an endpoint that never answers fails, retryable, once no further attempt fits the budget', async () => {
  const store = createTablestoreRunStore({
    region: 'cn-hangzhou',
    instance: 'hung',
    endpoint,
    credentials: staticCredentials({ accessKeyId: 'k', accessKeySecret: 's' }),
    // Any retry would need 100 ms more than the budget leaves after the first timeout.
    retry: { budgetMs: 150, requestTimeoutMs: 100 },
    sleep: async () => {},
  });
  const err = await store.getRun('run-1').catch((e: unknown) => e);
  expect(err).toMatchObject({
    code: 'UNREACHABLE',
    retryable: true,
    message: expect.stringMatching(
      /^GetRow tricenter_runs \(run run-1\): gave up after 1 attempt in \d+ ms \(retry budget 150 ms\); last answer NetworkingError: Connection timed out after 100ms$/,
    ),
  });
  expect(sockets).toHaveLength(1);
});
