/**
 * The set-up both adapter wire tests share (alidns-wire.test.ts for GTM 2.0, cloudgtm-wire.test.ts
 * for GTM 3.0): an msw server that refuses any request no handler speaks, a fresh in-memory fake of
 * the generation before each test, and adapters on Alidns's endpoint whose backoff sleeps are
 * recorded instead of waited and whose jitter is fixed.
 */
import { type SetupServer, setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { AlidnsRpcOptions } from '#shared/traffic/adapters/aliyun/alidns-rpc.ts';
import type { FakeRpcOptions, FakeRpcService } from './rpc-msw.ts';

export const WIRE_ENDPOINT = 'https://alidns.aliyuncs.com';

export interface WireSetup<F extends FakeRpcService, O extends AlidnsRpcOptions & { instanceId: string }, A> {
  key: { accessKeyId: string; accessKeySecret: string };
  instance: string;
  fake: (options: FakeRpcOptions & { instances: string[] }) => F;
  adapter: (options: O) => A;
}

export interface Wire<F, O, A> {
  readonly server: SetupServer;
  /** The current test's fake (a new one before each test). */
  readonly fake: F;
  /** The backoff delays the adapters asked for, in order (cleared before each test). */
  readonly sleeps: number[];
  adapter(overrides?: Partial<O>): A;
}

/** Registers the server's and the fake's hooks in the calling `describe`. */
export function onTheWire<F extends FakeRpcService, O extends AlidnsRpcOptions & { instanceId: string }, A>(
  setup: WireSetup<F, O, A>,
): Wire<F, O, A> {
  const server = setupServer();
  const sleeps: number[] = [];
  let fake: F | undefined;

  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  beforeEach(() => {
    fake = setup.fake({
      endpoint: WIRE_ENDPOINT,
      keys: { [setup.key.accessKeyId]: setup.key.accessKeySecret },
      instances: [setup.instance],
    });
    server.resetHandlers(...fake.handlers());
    sleeps.length = 0;
  });
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());

  return {
    server,
    get fake(): F {
      if (!fake) throw new Error('the wire fake exists only inside a test');
      return fake;
    },
    sleeps,
    adapter: (overrides = {}) =>
      setup.adapter({
        endpoint: WIRE_ENDPOINT,
        instanceId: setup.instance,
        credentials: setup.key,
        sleep: async (ms: number) => {
          sleeps.push(ms);
        },
        random: () => 1,
        ...overrides,
      } as O),
  };
}
