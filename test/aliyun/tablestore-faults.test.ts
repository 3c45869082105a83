import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import protos from 'tablestore/lib/protocol/tablestore_compiled_proto.js';
import { staticCredentials } from '#shared/platform/credentials.ts';
import { WRITE_TOKEN_COLUMN } from '#shared/delivery/adapters/aliyun/tablestore-client.ts';
import { classifyOtsFailure, decodeOtsErrorBody, otsServiceError } from '#shared/delivery/adapters/aliyun/tablestore-errors.ts';
import {
  createTablestoreRunStore,
  type TablestoreRunStore,
  type TablestoreRunStoreOptions,
} from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';
import { createTables, tablestoreClient } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { ConflictError, type TricenterError } from '#shared/platform/errors.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { deployStep, plan } from '../workflow/plans.ts';
import { FakeTablestore, OTS_ERRORS, runStoreOn } from './tablestore-msw.ts';

const ENDPOINT = 'https://tricenter-faults.cn-hangzhou.ots.aliyuncs.com';
const UNREACHABLE = 'https://tricenter-gone.cn-hangzhou.ots.aliyuncs.com';
const INSTANCE = 'tricenter-faults';
const KEY = { accessKeyId: 'STS.faults-key', accessKeySecret: 'faults-secret', securityToken: 'faults-token' };
const PREFIX = 'faults_';
const START = 1_000_000;

const server = setupServer();
let fake: FakeTablestore;
let clock: ManualClock;
let sleeps: number[];

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());
beforeEach(async () => {
  fake = new FakeTablestore({
    endpoint: ENDPOINT,
    instance: INSTANCE,
    keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
  });
  server.resetHandlers(...fake.handlers());
  await createTables(tablestoreClient({ endpoint: ENDPOINT, instance: INSTANCE, credentials: KEY }), PREFIX);
  fake.calls.length = 0;
  clock = new ManualClock(START);
  sleeps = [];
});

/** A store whose backoff takes no real time: the sleeper records each delay and moves the clock on. */
function store(overrides: Partial<TablestoreRunStoreOptions> = {}): TablestoreRunStore {
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    clock.advance(ms);
  };
  return runStoreOn({ endpoint: ENDPOINT, instance: INSTANCE, prefix: PREFIX, key: KEY }, { clock, sleep }, overrides);
}

const newRun = (id: string, createdAt: number) =>
  createRun({ id, releaseId: `rel-${id}`, plan: plan([deployStep('deploy', ['c1'])]) }, createdAt);
const actions = () => fake.calls.map((c) => [c.action, c.fault ?? c.errorCode ?? c.status]);

describe('Tablestore error bodies', () => {
  const encode = (message: Record<string, unknown>) => protos.main.proto.Error!.encode(message).finish();

  it('decodes the protobuf Error the service answers with, code and message', () => {
    expect(decodeOtsErrorBody(encode({ code: 'OTSServerBusy', message: 'Server is busy.' }))).toEqual({
      code: 'OTSServerBusy',
      message: 'Server is busy.',
    });
    const error = otsServiceError(403, encode({ code: 'OTSConditionCheckFail', message: 'Condition check failed.' }), 'req-1');
    expect(error).toMatchObject({ code: 'OTSConditionCheckFail', message: 'Condition check failed.', httpStatus: 403, requestId: 'req-1' });
  });

  it('classifies each code: conflict, retryable (and whether a write may have landed), permanent', () => {
    const kind = (code: string, status = 503, message = 'Too frequent table operations.') => {
      const f = classifyOtsFailure(otsServiceError(status, encode({ code, message }), undefined));
      return [f.kind, f.retryable, f.outcomeUnknown];
    };
    expect(kind('OTSConditionCheckFail', 403)).toEqual(['conflict', false, false]);
    for (const code of ['OTSServerBusy', 'OTSRowOperationConflict', 'OTSQuotaExhausted', 'OTSNotEnoughCapacityUnit'])
      expect(kind(code)).toEqual(['throttled', true, false]);
    expect(kind('OTSTimeout')).toEqual(['timeout', true, true]);
    for (const code of ['OTSPartitionUnavailable', 'OTSServerUnavailable', 'OTSInternalServerError'])
      expect(kind(code)).toEqual(['unavailable', true, true]);
    for (const code of ['OTSParameterInvalid', 'OTSObjectNotExist', 'OTSAuthFailed', 'OTSStsTokenExpired'])
      expect(kind(code, 400)).toEqual(['permanent', false, false]);
    expect(kind('OTSQuotaExhausted', 403, 'Number of tables exceeded the quota.')).toEqual(['permanent', false, false]);
  });

  it('does not take a proxy page or a forged body for an OTS code: the HTTP status decides', () => {
    const page = otsServiceError(502, Buffer.from('<html><body>502 Bad Gateway</body></html>'), undefined);
    expect(page.code).toBe('HTTP 502');
    expect(page.message).toContain('502 Bad Gateway');
    expect(classifyOtsFailure(page)).toMatchObject({ kind: 'unavailable', retryable: true });
    const forged = otsServiceError(400, encode({ code: 'OTSConditionCheckFail<script>', message: 'x' }), undefined);
    expect(classifyOtsFailure(forged)).toMatchObject({ kind: 'permanent', code: 'HTTP 400' });
    expect(decodeOtsErrorBody(Buffer.from([0xff, 0xff, 0xff]))).toBeUndefined();
  });
});

describe('TablestoreRunStore under faults', () => {
  it('retries a write after a burst of OTSServerBusy, with growing jittered backoff, and stores it once', async () => {
    const logger = memoryLogger();
    fake.inject({ action: 'PutRow', error: OTS_ERRORS.serverBusy }, 3);
    await store({ logger }).createRun(newRun('run-1', 1));
    expect(actions()).toEqual([
      ['PutRow', 'OTSServerBusy'],
      ['PutRow', 'OTSServerBusy'],
      ['PutRow', 'OTSServerBusy'],
      ['PutRow', 200],
    ]);
    expect(sleeps).toHaveLength(3);
    expect(sleeps.map((ms, i) => ms >= 50 * 2 ** i && ms <= 100 * 2 ** i)).toEqual([true, true, true]);
    expect(fake.tables.get('faults_runs')!.rows.size).toBe(1);
    expect(logger.lines.filter((l) => l.msg === 'tablestore call retried').map((l) => [l.code, l.attempt])).toEqual([
      ['OTSServerBusy', 1],
      ['OTSServerBusy', 2],
      ['OTSServerBusy', 3],
    ]);
  });

  it('retries reads and writes on every retryable code', async () => {
    const s = store();
    await s.createRun(newRun('run-1', 1));
    for (const error of Object.values(OTS_ERRORS)) {
      fake.inject({ action: 'GetRow', error });
      expect(await s.getRun('run-1')).toMatchObject({ id: 'run-1' });
      fake.inject({ action: 'PutRow', error });
      const current = (await s.getRun('run-1'))!;
      await s.updateRun({ ...current, reason: error.code }, current.version);
    }
    expect((await s.getRun('run-1'))?.version).toBe(1 + Object.keys(OTS_ERRORS).length);
  });

  it('never retries a conditional write that lost its race: ConflictError after one request', async () => {
    const s = store();
    const created = await s.createRun(newRun('run-1', 1));
    await s.updateRun(created, 1);
    fake.calls.length = 0;
    await expect(s.updateRun(created, 1)).rejects.toBeInstanceOf(ConflictError);
    expect(actions()).toEqual([['PutRow', 'OTSConditionCheckFail']]);
    expect(sleeps).toEqual([]);
  });

  it('does not retry a permanent error, and names its code, message and request id', async () => {
    fake.inject({ action: 'GetRow', error: { code: 'OTSParameterInvalid', status: 400, message: 'Invalid primary key: id is too long.' } });
    const err = (await store()
      .getRun('run-1')
      .catch((e: unknown) => e)) as TricenterError;
    expect(err).toMatchObject({ code: 'INTERNAL', retryable: false });
    expect(err.message).toMatch(
      /^GetRow faults_runs \(run run-1\) failed: OTSParameterInvalid: Invalid primary key: id is too long\., request 0005-fake-\d+$/,
    );
    expect(fake.calls).toHaveLength(1);

    fake.inject({ action: 'GetRow', error: { code: 'OTSAuthFailed', status: 403, message: 'Signature mismatch.' } });
    await expect(store().getRun('run-1')).rejects.toMatchObject({
      code: 'FORBIDDEN',
      retryable: false,
      message: expect.stringContaining('OTSAuthFailed: Signature mismatch.'),
    });
    expect(fake.calls).toHaveLength(2);
  });

  it('gives up when the budget is spent, with a retryable error naming the last code', async () => {
    const logger = memoryLogger();
    fake.injectEvery(1, { error: OTS_ERRORS.serverBusy });
    const err = (await store({ logger })
      .getRun('run-1')
      .catch((e: unknown) => e)) as TricenterError;
    expect(err).toMatchObject({ code: 'THROTTLED', retryable: true });
    expect(err.message).toMatch(
      /^GetRow faults_runs \(run run-1\): gave up after \d+ attempts in \d+ ms \(retry budget 10000 ms\); last answer OTSServerBusy: Server is busy\.$/,
    );
    // No attempt was started that could not end within the budget (4 s per attempt).
    expect(clock.now() - START + 4_000).toBeLessThanOrEqual(10_000);
    expect(fake.calls.length).toBe(sleeps.length + 1);
    expect(logger.lines.find((l) => l.msg === 'tablestore call gave up')).toMatchObject({ code: 'OTSServerBusy', budgetMs: 10_000 });
  });

  it('honours a configured budget and request timeout', async () => {
    fake.injectEvery(1, { error: OTS_ERRORS.serverUnavailable });
    const err = (await store({ retry: { budgetMs: 2_000, requestTimeoutMs: 1_000, baseDelayMs: 200 } })
      .getRun('x')
      .catch((e: unknown) => e)) as TricenterError;
    expect(err).toMatchObject({
      code: 'UNREACHABLE',
      retryable: true,
      message: expect.stringContaining('(retry budget 2000 ms); last answer OTSServerUnavailable: Server is not available.'),
    });
    expect(clock.now() - START).toBeLessThanOrEqual(1_000);
  });

  it('refuses retry settings that would mean no timeout or no budget', () => {
    expect(() => store({ retry: { budgetMs: 0 } })).toThrow(/must be positive milliseconds: budgetMs 0, requestTimeoutMs 0/);
    expect(() => store({ retry: { requestTimeoutMs: Number.NaN } })).toThrow(/requestTimeoutMs NaN/);
  });

  it('fails within the budget when the endpoint never answers (each attempt times out)', async () => {
    const requestTimeoutMs = 4_000;
    let attempts = 0;
    server.use(
      http.post(`${UNREACHABLE}/:action`, () => {
        attempts += 1;
        clock.advance(requestTimeoutMs);
        return HttpResponse.error();
      }),
    );
    const err = (await store({ endpoint: UNREACHABLE })
      .getRun('run-1')
      .catch((e: unknown) => e)) as TricenterError;
    expect(err).toMatchObject({
      code: 'UNREACHABLE',
      retryable: true,
      message: expect.stringMatching(/gave up after 2 attempts in \d+ ms \(retry budget 10000 ms\); last answer NetworkingError/),
    });
    expect(attempts).toBe(2);
    expect(clock.now() - START).toBeLessThanOrEqual(10_000);
  });

  it("makes one request per attempt: the SDK's own retries (20, ~40 s) are off", async () => {
    let requests = 0;
    server.use(
      http.post(`${UNREACHABLE}/:action`, () => {
        requests += 1;
        return HttpResponse.error();
      }),
    );
    await expect(
      store({ endpoint: UNREACHABLE, retry: { budgetMs: 1_000, requestTimeoutMs: 1_000 } }).getRun('run-1'),
    ).rejects.toMatchObject({ code: 'UNREACHABLE' });
    expect(requests).toBe(1);
  });

  describe('a write whose answer was lost', () => {
    it('create-if-absent that landed: the retry meets its own row, reads it back and succeeds', async () => {
      const logger = memoryLogger();
      fake.inject({ action: 'PutRow', applied: true });
      const s = store({ logger });
      const created = await s.createRun(newRun('run-1', 1));
      expect(actions()).toEqual([
        ['PutRow', 'dropped'],
        ['PutRow', 'OTSConditionCheckFail'],
        ['GetRow', 200],
      ]);
      expect(await s.getRun('run-1')).toEqual(created);
      expect(logger.lines.some((l) => l.msg === 'tablestore write had landed before its answer was lost')).toBe(true);
    });

    it('a versioned update answered OTSTimeout after it landed succeeds once, at the next version', async () => {
      const s = store();
      const created = await s.createRun(newRun('run-1', 1));
      fake.inject({ action: 'PutRow', applied: true, error: OTS_ERRORS.timeout });
      const updated = await s.updateRun({ ...created, reason: 'moved on' }, created.version);
      expect(updated.version).toBe(2);
      expect(await s.getRun('run-1')).toEqual(updated);
    });

    it('an ingest claim whose answer was lost is still ours (not mistaken for another claimer)', async () => {
      fake.inject({ action: 'PutRow', applied: true });
      const claim = await store().claimIngest({ bucket: 'b', key: 'bundles/demo/app.yaml', etag: 'E1' }, 5);
      expect(claim).toMatchObject({ claimed: true, record: { status: 'in-progress', claimedAt: 5 } });
    });

    it('that did not land while another writer took the row: ConflictError, the other write intact', async () => {
      const rival = createTablestoreRunStore({
        region: 'cn-hangzhou',
        instance: INSTANCE,
        tablePrefix: PREFIX,
        endpoint: ENDPOINT,
        credentials: staticCredentials(KEY),
      });
      const rivalRun = { ...newRun('run-1', 1), reason: 'the rival' };
      let raced = false;
      const s = store({
        sleep: async () => {
          if (raced) return;
          raced = true;
          await rival.createRun(rivalRun);
        },
      });
      fake.inject({ action: 'PutRow' });
      await expect(s.createRun(newRun('run-1', 1))).rejects.toBeInstanceOf(ConflictError);
      expect(await s.getRun('run-1')).toMatchObject({ reason: 'the rival', version: 1 });
      const row = [...fake.tables.get('faults_runs')!.rows.values()][0]!;
      expect(row.columns.get(WRITE_TOKEN_COLUMN)?.cell).toMatchObject({ t: 'string' });
    });
  });
});

describe('tricenter setup under faults', () => {
  it('retries CreateTable while table operations are throttled, a table created although its answer was lost reads as existing', async () => {
    fake = new FakeTablestore({
      endpoint: ENDPOINT,
      instance: INSTANCE,
      keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret, stsToken: KEY.securityToken } },
    });
    server.resetHandlers(...fake.handlers());
    fake.inject({ action: 'CreateTable', error: OTS_ERRORS.quotaExhausted }, 2);
    fake.inject({ action: 'CreateTable', applied: true });
    const results = await createTables(tablestoreClient({ endpoint: ENDPOINT, instance: INSTANCE, credentials: KEY }), PREFIX, undefined, {
      clock,
      sleep: async (ms) => void clock.advance(ms),
    });
    expect(results[0]).toEqual({ table: 'faults_releases', status: 'exists' });
    expect(results.slice(1).every((r) => r.status === 'created')).toBe(true);
    expect(actions().slice(0, 4)).toEqual([
      ['CreateTable', 'OTSQuotaExhausted'],
      ['CreateTable', 'OTSQuotaExhausted'],
      ['CreateTable', 'dropped'],
      ['CreateTable', 'OTSObjectAlreadyExist'],
    ]);
    expect(fake.tables.size).toBe(results.length);
  });
});
