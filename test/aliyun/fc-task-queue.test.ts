import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { staticCredentials } from '#shared/platform/credentials.ts';
import {
  asyncTaskId,
  createFcTaskQueue,
  type FcTaskQueue,
  type FcTaskQueueOptions,
} from '#shared/delivery/adapters/aliyun/fc-task-queue.ts';
import { TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import type { ConsumingTaskQueue, QueueMessage, TaskHandler } from '#shared/delivery/ports/task-queue.port.ts';
import { describeTaskQueueContract, type ContractMessage } from '../contract/task-queue.contract.ts';
import { FakeFc } from './fc-msw.ts';

const ENDPOINT = 'https://1234567890.cn-hangzhou.fc.aliyuncs.com';
const FUNCTION = 'tricenter-deploy-step';
const KEY = { accessKeyId: 'STS.fc-wire', accessKeySecret: 'fc-secret-never-logged', securityToken: 'fc-sts-token-never-logged' };

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

function freshFc(): FakeFc {
  const fake = new FakeFc({
    endpoint: ENDPOINT,
    functions: [FUNCTION],
    keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
  });
  server.resetHandlers(...fake.handlers());
  return fake;
}

function fcQueue<T extends QueueMessage>(overrides: Partial<FcTaskQueueOptions> = {}): FcTaskQueue<T> {
  return createFcTaskQueue<T>({
    region: 'cn-hangzhou',
    accountId: '1234567890',
    functionName: FUNCTION,
    endpoint: ENDPOINT,
    credentials: staticCredentials(KEY),
    sleep: async () => {},
    ...overrides,
  });
}

/**
 * The contract's consuming side for a send-only queue: FC itself delivers accepted async events to
 * the function and retries a failed invocation (async invoke config); this harness plays that part
 * for the events the fake accepted over the wire, so the sender under test is the real adapter.
 */
class FcDeliveryHarness<T extends QueueMessage> implements ConsumingTaskQueue<T> {
  private handler: TaskHandler<T> | undefined;
  private readonly ready: Array<{ message: T; delivery: number }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly sender: FcTaskQueue<T>,
    fake: FakeFc,
    private readonly maxDeliveries = 4,
  ) {
    fake.onEvent = (_fn, event) => {
      this.ready.push({ message: JSON.parse(event.toString('utf8')) as T, delivery: 1 });
      this.pump();
    };
  }

  send(messages: readonly T[]): Promise<void> {
    return this.sender.send(messages);
  }

  start(handler: TaskHandler<T>): void {
    this.handler = handler;
    this.pump();
  }

  async stop(): Promise<void> {
    this.handler = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    this.settle();
  }

  drain(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private pump(): void {
    const handler = this.handler;
    while (handler && this.ready.length > 0) {
      const envelope = this.ready.shift()!;
      this.inFlight += 1;
      void handler(envelope.message, { delivery: envelope.delivery })
        .catch(() => {
          if (!this.handler || envelope.delivery >= this.maxDeliveries) return;
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            this.ready.push({ message: envelope.message, delivery: envelope.delivery + 1 });
            this.pump();
          }, 1);
          this.timers.add(timer);
        })
        .finally(() => {
          this.inFlight -= 1;
          this.settle();
        });
    }
  }

  private idle(): boolean {
    return this.ready.length === 0 && this.timers.size === 0 && this.inFlight === 0;
  }

  private settle(): void {
    if (this.idle()) for (const resolve of this.waiters.splice(0)) resolve();
  }
}

describeTaskQueueContract(
  'FC async invocation over msw',
  () => new FcDeliveryHarness<ContractMessage>(fcQueue<ContractMessage>(), freshFc()),
);

describe('FcTaskQueue on the wire', () => {
  let fake: FakeFc;
  beforeEach(() => {
    fake = freshFc();
  });

  const task = (key: string) => ({ key, runId: 'run-1', step: 'deploy', cluster: 'c1', attempt: 1 });

  it('invokes asynchronously with the task id and the JSON task as body, answered 202', async () => {
    const queue = fcQueue<ReturnType<typeof task>>({ qualifier: 'LATEST' });
    await queue.send([task('run-1_deploy_c1_1')]);
    expect(fake.invocations).toHaveLength(1);
    const [call] = fake.invocations;
    expect(call).toMatchObject({
      functionName: FUNCTION,
      invocationType: 'Async',
      taskId: 'run-1_deploy_c1_1',
      qualifier: 'LATEST',
      status: 202,
      securityToken: KEY.securityToken,
    });
    expect(JSON.parse(call!.body.toString('utf8'))).toEqual(task('run-1_deploy_c1_1'));
    expect(queue.stats).toEqual({ sent: 1, duplicates: 0, retries: 0 });
  });

  it('maps keys FC would refuse to valid, distinct, stable task ids', async () => {
    const keys = ['run-1/deploy/cluster1-beijing/1', 'run-1/deploy/cluster1-beijing/2', '9starts-with-digit', 'ä'.repeat(200)];
    const ids = keys.map(asyncTaskId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z_][A-Za-z0-9_-]{0,127}$/);
    expect(new Set(ids).size).toBe(keys.length);
    expect(keys.map(asyncTaskId)).toEqual(ids);
    await fcQueue().send(keys.map((key) => ({ ...task(key), key })) as never);
    expect(fake.invocations.map((c) => [c.taskId, c.status])).toEqual(ids.map((id) => [id, 202]));
  });

  it('treats 409 for a task id FC already accepted as sent (a retried send is idempotent)', async () => {
    const queue = fcQueue<ReturnType<typeof task>>();
    await queue.send([task('k1')]);
    await queue.send([task('k1')]);
    expect(fake.invocations.map((c) => c.status)).toEqual([202, 409]);
    expect(queue.stats).toEqual({ sent: 1, duplicates: 1, retries: 0 });
  });

  it('retries 429 and 5xx with bounded exponential backoff, then succeeds', async () => {
    const sleeps: number[] = [];
    const queue = fcQueue<ReturnType<typeof task>>({ sleep: async (ms) => void sleeps.push(ms), baseDelayMs: 100, maxDelayMs: 250 });
    fake.failNext(
      { status: 429, code: 'ResourceThrottled' },
      { status: 503, code: 'ServiceUnavailable' },
      { status: 500, code: 'InternalError' },
    );
    await queue.send([task('k1')]);
    expect(fake.invocations.map((c) => c.status)).toEqual([429, 503, 500, 202]);
    expect(sleeps).toEqual([100, 200, 250]);
  });

  it('gives up after maxAttempts with a retryable error, and never retries a 4xx', async () => {
    const logger = memoryLogger();
    const queue = fcQueue<ReturnType<typeof task>>({ maxAttempts: 2, logger });
    fake.failNext({ status: 500, code: 'InternalError' }, { status: 500, code: 'InternalError' });
    await expect(queue.send([task('k1')])).rejects.toMatchObject({ code: 'INTERNAL', retryable: true });
    const missing = fcQueue<ReturnType<typeof task>>({ functionName: 'no-such-function', logger });
    const err = await missing.send([task('k2')]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TricenterError);
    expect(err).toMatchObject({ code: 'INTERNAL', retryable: false });
    expect((err as Error).message).toMatch(/FunctionNotFound \(HTTP 404\) after 1 attempt/);
    expect(fake.invocations.filter((c) => c.functionName === 'no-such-function')).toHaveLength(1);
    const lines = JSON.stringify(logger.lines);
    expect(lines).toContain('task could not be sent');
    expect(lines).not.toContain(KEY.accessKeySecret);
    expect(lines).not.toContain(KEY.securityToken);
  });

  it('refuses to build an endpoint without the account id', () => {
    expect(() =>
      createFcTaskQueue({ region: 'cn-hangzhou', accountId: '', functionName: FUNCTION, credentials: staticCredentials(KEY) }),
    ).toThrow(/account id "" is not an Alibaba Cloud account id/);
  });

  it('is refused by FC when signed with the wrong secret (the signature is checked)', async () => {
    const queue = fcQueue<ReturnType<typeof task>>({ credentials: staticCredentials({ ...KEY, accessKeySecret: 'wrong' }) });
    await expect(queue.send([task('k1')])).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect(fake.invocations.at(-1)?.status).toBe(403);
  });
});
