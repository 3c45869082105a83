import { setupServer, type SetupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createTables, tablestoreClient } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { FakeTablestore, type FakeInstanceAddress } from './tablestore-msw.ts';

/** The msw server of one test file: listening for its tests, an unhandled request an error. */
export function listeningServer(): SetupServer {
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => server.close());
  return server;
}

/**
 * A fresh fake instance at `at` behind `server`, its tables made by the real setup; `inject`
 * (faults) applies after the setup, so only the adapter under test meets them.
 */
export async function freshInstance(
  server: SetupServer,
  at: FakeInstanceAddress,
  options: { inject?: (fake: FakeTablestore) => void; rowsPerCall?: number } = {},
): Promise<FakeTablestore> {
  const fake = new FakeTablestore({
    endpoint: at.endpoint,
    instance: at.instance,
    keys: { [at.key.accessKeyId]: { secret: at.key.accessKeySecret, stsToken: at.key.securityToken } },
    ...(options.rowsPerCall !== undefined ? { rowsPerCall: options.rowsPerCall } : {}),
  });
  server.resetHandlers(...fake.handlers());
  await createTables(tablestoreClient({ endpoint: at.endpoint, instance: at.instance, credentials: at.key }), at.prefix);
  options.inject?.(fake);
  return fake;
}

/** A fresh fake instance without tables behind `server` before each test (setup makes them), handed to `use`. */
export function emptyInstanceEachTest(
  server: SetupServer,
  at: { endpoint: string; instance: string; accessKeyId: string; accessKeySecret: string; securityToken: string },
  use: (fake: FakeTablestore) => void,
): void {
  beforeEach(() => {
    const fake = new FakeTablestore({
      endpoint: at.endpoint,
      instance: at.instance,
      keys: { [at.accessKeyId]: { secret: at.accessKeySecret, stsToken: at.securityToken } },
    });
    server.resetHandlers(...fake.handlers());
    use(fake);
  });
}
