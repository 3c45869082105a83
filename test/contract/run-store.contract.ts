import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '#shared/platform/errors.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { transitionRun } from '#shared/delivery/usecases/transition-run.ts';
import type { AppRecord, Release, RejectedUpload } from '#shared/delivery/model/records.ts';
import type { TrafficClaim } from '#shared/traffic/domain/claims.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import { createRun, next } from '#shared/delivery/workflow/decider.ts';
import { recordDrift } from '#shared/delivery/workflow/drift-history.ts';
import type { Run, TaskReport } from '#shared/delivery/workflow/run.ts';

/**
 * What every RunStore must do, run against each adapter: `describeRunStoreContract('sqlite', () => ...)`.
 * `makeStore` returns a fresh, empty store for each test.
 */

const app: AppRef = { namespace: 'demo', name: 'web-demo' };
const otherApp: AppRef = { namespace: 'demo', name: 'other' };
const source = { bucket: 'bundles', key: 'web-demo.tar.gz', etag: '5EB63BBBE01EEED093CB22BB8F5ACDC3' };

function release(id: string, createdAt: number, forApp: AppRef = app): Release {
  return {
    id,
    app: forApp,
    publishVersion: `v-${id}`,
    contentHash: `sha256:${id}`,
    createdAt,
    source,
    plan: {
      app: forApp,
      publishVersion: `v-${id}`,
      contentHash: `sha256:${id}`,
      steps: [
        {
          name: 'deploy',
          type: 'deploy',
          needsApproval: false,
          parallelism: 5,
          timeoutMs: 600_000,
          targets: [{ cluster: 'c1', packs: [] }],
        },
      ],
    },
  };
}

function run(id: string, createdAt: number, forApp: AppRef = app): Run {
  return createRun({ id, releaseId: `rel-${id}`, plan: release(id, createdAt, forApp).plan }, createdAt);
}

export function describeRunStoreContract(label: string, makeStore: () => RunStore | Promise<RunStore>): void {
  describe(`RunStore contract: ${label}`, () => {
    let store: RunStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('rejected uploads', () => {
      const rejected = (key: string, etag = 'E1', at = 1_000): RejectedUpload => ({
        source: { bucket: 'bundles', key, etag },
        reason: `object key ${JSON.stringify(key)}: bad`,
        at,
      });

      it('records an upload once per bucket + key + eTag and keeps the first record', async () => {
        expect(await store.recordRejectedUpload(rejected('bundles/rt/web.YAML'))).toEqual(rejected('bundles/rt/web.YAML'));
        expect(await store.recordRejectedUpload({ ...rejected('bundles/rt/web.YAML'), reason: 'later', at: 9_000 })).toEqual(
          rejected('bundles/rt/web.YAML'),
        );
        await store.recordRejectedUpload(rejected('bundles/rt/web.YAML', 'E2', 2_000));
        expect((await store.listRejectedUploads('bundles/rt/')).items).toEqual([
          rejected('bundles/rt/web.YAML'),
          rejected('bundles/rt/web.YAML', 'E2', 2_000),
        ]);
      });

      it('lists one folder in key order, page by page, and nothing of a folder that only shares its first letters', async () => {
        const keys = [
          'bundles/rt/sub/evil.yaml',
          'bundles/rt/%2e%2e.yaml',
          'bundles/rt/w\u0435b.yaml',
          'bundles/rt/web.YAML',
          'bundles/rt/x_%.yaml',
        ];
        for (const key of keys) await store.recordRejectedUpload(rejected(key));
        for (const key of ['bundles/rtx/a.YAML', 'bundles/r/a.YAML', 'bundles/RT/a.yaml', 'bundles/web.yaml'])
          await store.recordRejectedUpload(rejected(key));
        const first = await store.listRejectedUploads('bundles/rt/', { limit: 2 });
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await store.listRejectedUploads('bundles/rt/', { limit: 2, cursor: first.nextCursor! });
        const third = await store.listRejectedUploads('bundles/rt/', { limit: 2, cursor: second.nextCursor! });
        expect(third.nextCursor).toBeUndefined();
        const listed = [...first.items, ...second.items, ...third.items].map((r) => r.source.key);
        expect(listed).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
        expect((await store.listRejectedUploads('bundles/nobody/')).items).toEqual([]);
        expect((await store.listRejectedUploads('bundles/')).items).toHaveLength(9);
        // The longest key OSS allows, beside a short one of the same folder.
        const long = `bundles/rt/${'\u00e9'.repeat(500)}.yaml`;
        await store.recordRejectedUpload(rejected(long));
        expect((await store.listRejectedUploads('bundles/rt/', { limit: 100 })).items.map((r) => r.source.key)).toContain(long);
        expect(await store.recordRejectedUpload({ ...rejected(long), reason: 'again' })).toEqual(rejected(long));
        // A cursor of another folder's listing never reads outside the folder asked for.
        const elsewhere = await store.listRejectedUploads('bundles/', { limit: 1 });
        await expect(store.listRejectedUploads('bundles/rt/', { limit: 2, cursor: elsewhere.nextCursor! })).rejects.toThrow(
          /is not one this store returned/,
        );
      });
    });

    describe('traffic claims', () => {
      const claim = (resource: string, forApp: AppRef = app, claimedAt = 1_000): TrafficClaim => ({
        resource,
        app: forApp,
        instanceId: 'gtm-1',
        domain: 'web-demo.example.com',
        claimedAt,
      });

      it('gives a resource to its first claimant and shows everyone else that holder', async () => {
        expect(await store.getTrafficClaim('domain/web-demo.example.com')).toBeUndefined();
        expect(await store.claimTraffic(claim('domain/web-demo.example.com'))).toEqual(claim('domain/web-demo.example.com'));
        // The holder claiming again keeps its claim as it was.
        expect(await store.claimTraffic(claim('domain/web-demo.example.com', app, 5_000))).toEqual(claim('domain/web-demo.example.com'));
        expect(await store.claimTraffic(claim('domain/web-demo.example.com', otherApp, 6_000))).toEqual(
          claim('domain/web-demo.example.com'),
        );
        expect(await store.getTrafficClaim('domain/web-demo.example.com')).toEqual(claim('domain/web-demo.example.com'));
      });

      it('lets exactly one of two concurrent claimants hold a resource', async () => {
        const holders = await Promise.all([
          store.claimTraffic(claim('gtm-instance/gtm-1', app)),
          store.claimTraffic(claim('gtm-instance/gtm-1', otherApp)),
        ]);
        expect(holders[0]).toEqual(holders[1]);
        expect(await store.getTrafficClaim('gtm-instance/gtm-1')).toEqual(holders[0]);
      });

      it("releases every claim of one application and nothing of another's; released resources can be claimed again", async () => {
        await store.claimTraffic(claim('gtm-instance/gtm-1'));
        await store.claimTraffic(claim('domain/web-demo.example.com'));
        await store.claimTraffic(claim('gtm-instance/gtm-2', otherApp));
        const released = await store.releaseTrafficClaims(app);
        expect(released.map((c) => c.resource).sort()).toEqual(['domain/web-demo.example.com', 'gtm-instance/gtm-1']);
        expect(await store.getTrafficClaim('gtm-instance/gtm-1')).toBeUndefined();
        expect(await store.getTrafficClaim('gtm-instance/gtm-2')).toEqual(claim('gtm-instance/gtm-2', otherApp));
        expect(await store.releaseTrafficClaims(app)).toEqual([]);
        expect(await store.claimTraffic(claim('gtm-instance/gtm-1', otherApp, 7_000))).toEqual(
          claim('gtm-instance/gtm-1', otherApp, 7_000),
        );
      });
    });

    describe('releases', () => {
      it('stores a release once and reads it back whole', async () => {
        await store.putRelease(release('r1', 100));
        expect(await store.getRelease('r1')).toEqual(release('r1', 100));
        await expect(store.putRelease(release('r1', 200))).rejects.toBeInstanceOf(ConflictError);
        expect((await store.getRelease('r1'))?.createdAt).toBe(100);
        expect(await store.getRelease('missing')).toBeUndefined();
      });

      it('lists one application newest first, page by page', async () => {
        for (const [id, at] of [
          ['a', 100],
          ['b', 300],
          ['c', 200],
          ['d', 300],
          ['e', 50],
        ] as const)
          await store.putRelease(release(id, at));
        await store.putRelease(release('x', 1_000, otherApp));
        const first = await store.listReleases(app, { limit: 2 });
        expect(first.items.map((r) => r.id)).toEqual(['d', 'b']);
        expect(first.nextCursor).toEqual(expect.any(String));
        const second = await store.listReleases(app, { limit: 2, cursor: first.nextCursor! });
        expect(second.items.map((r) => r.id)).toEqual(['c', 'a']);
        const third = await store.listReleases(app, { limit: 2, cursor: second.nextCursor! });
        expect(third.items.map((r) => r.id)).toEqual(['e']);
        expect(third.nextCursor).toBeUndefined();
        expect((await store.listReleases({ namespace: 'demo', name: 'nobody' })).items).toEqual([]);
      });
    });

    describe('runs', () => {
      it('creates a run once, at version 1', async () => {
        const created = await store.createRun(run('run-1', 100));
        expect(created.version).toBe(1);
        expect(await store.getRun('run-1')).toEqual(created);
        await expect(store.createRun(run('run-1', 100))).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getRun('nope')).toBeUndefined();
      });

      it('updates only at the expected version, incrementing it', async () => {
        const created = await store.createRun(run('run-1', 100));
        const started = next(created, { type: 'started' }, 200).run;
        const updated = await store.updateRun(started, created.version);
        expect(updated.version).toBe(2);
        expect(await store.getRun('run-1')).toEqual(updated);
        expect((await store.getRun('run-1'))?.phase).toBe('runningWorkflow');
        await expect(store.updateRun({ ...started, phase: 'workflowFailed' }, created.version)).rejects.toBeInstanceOf(ConflictError);
        expect((await store.getRun('run-1'))?.phase).toBe('runningWorkflow');
        await expect(store.updateRun(run('ghost', 1), 1)).rejects.toBeInstanceOf(ConflictError);
      });

      it('lets exactly one of two concurrent updates with the same expected version win', async () => {
        const created = await store.createRun(run('run-1', 100));
        const results = await Promise.allSettled([
          store.updateRun({ ...created, phase: 'runningWorkflow', reason: 'writer A' }, created.version),
          store.updateRun({ ...created, phase: 'workflowTerminated', reason: 'writer B' }, created.version),
        ]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]!.reason).toBeInstanceOf(ConflictError);
        const stored = await store.getRun('run-1');
        expect(stored?.version).toBe(2);
        expect(stored?.reason).toBe((won[0] as PromiseFulfilledResult<Run>).value.reason);
      });

      it('lists runs of one application newest first with a cursor', async () => {
        for (let i = 1; i <= 5; i++) await store.createRun(run(`run-${i}`, i * 10));
        await store.createRun(run('run-other', 1_000, otherApp));
        const first = await store.listRuns(app, { limit: 3 });
        expect(first.items.map((r) => r.id)).toEqual(['run-5', 'run-4', 'run-3']);
        expect(first.items.every((r) => r.version === 1)).toBe(true);
        const rest = await store.listRuns(app, { limit: 3, cursor: first.nextCursor! });
        expect(rest.items.map((r) => r.id)).toEqual(['run-2', 'run-1']);
        expect(rest.nextCursor).toBeUndefined();
      });

      it('transitionRun reloads and decides again when another writer got there first', async () => {
        const created = await store.createRun(run('run-1', 100));
        let raced = false;
        // A store whose first read is followed by another writer's update: our write must conflict.
        const racing = new Proxy(store, {
          get(target, prop) {
            if (prop === 'getRun') {
              return async (id: string) => {
                const current = await target.getRun(id);
                if (current && !raced) {
                  raced = true;
                  await target.updateRun(next(current, { type: 'started' }, 150).run, current.version);
                }
                return current;
              };
            }
            const value = Reflect.get(target, prop) as unknown;
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        let calls = 0;
        const result = await transitionRun(racing, 'run-1', (current) => {
          calls += 1;
          return next(current, { type: 'terminate', by: 'test', reason: 'race' }, 200);
        });
        expect(calls).toBe(2);
        expect(result.run.version).toBe(created.version + 2);
        expect(result.run.phase).toBe('workflowTerminated');
        expect(result.run.decisions.map((d) => d.kind)).toEqual(['terminate']);
        await expect(transitionRun(store, 'missing', (r) => next(r, { type: 'tick' }, 0))).rejects.toBeInstanceOf(NotFoundError);
      });

      it('keeps the drift history through conditional writes: two sweeps racing both land, in order, once', async () => {
        const created = await store.createRun({ ...run('run-1', 100), phase: 'running', endedAt: 150 });
        const finding = (object: string) => ({ cluster: 'c1', object, state: 'missing' as const, action: 'healed' as const, reason: 'x' });
        await Promise.all([
          transitionRun(store, 'run-1', (r) => recordDrift(r, [finding('v1 ConfigMap a/one')], 200)),
          transitionRun(store, 'run-1', (r) => recordDrift(r, [finding('v1 ConfigMap a/two')], 300)),
        ]);
        const stored = await store.getRun('run-1');
        // A write whose answer was lost and is tried again is not recorded twice.
        expect(stored?.driftEvents?.map((e) => e.object).sort()).toEqual(['v1 ConfigMap a/one', 'v1 ConfigMap a/two']);
        expect(stored?.driftEvents?.[0]).toEqual({ ...finding(stored?.driftEvents?.[0]?.object as string), at: expect.any(Number) });
        // A stale writer never overwrites the history.
        await expect(store.updateRun({ ...created, driftEvents: [] }, created.version)).rejects.toBeInstanceOf(ConflictError);
        expect((await store.getRun('run-1'))?.driftEvents).toHaveLength(2);
      });
    });

    describe('task reports', () => {
      const report = (cluster: string, attempt: number, overrides: Partial<TaskReport> = {}): TaskReport => ({
        runId: 'run-1',
        step: 'deploy',
        cluster,
        attempt,
        outcome: { kind: 'done', message: `attempt ${attempt}` },
        at: 1_000 + attempt,
        ...overrides,
      });

      it('creates a row per run, step and cluster, and a later attempt replaces it', async () => {
        expect(await store.getTaskReport('run-1', 'deploy', 'c1')).toBeUndefined();
        expect(await store.recordTaskReport(report('c1', 1))).toEqual(report('c1', 1));
        expect(await store.getTaskReport('run-1', 'deploy', 'c1')).toEqual(report('c1', 1));
        const waiting = report('c1', 2, { outcome: { kind: 'waiting', message: '1/2 replicas ready' } });
        expect(await store.recordTaskReport(waiting)).toEqual(waiting);
        expect(await store.getTaskReport('run-1', 'deploy', 'c1')).toEqual(waiting);
      });

      it('keeps the first report of an attempt and refuses an earlier attempt: the call answers with the row it left', async () => {
        await store.recordTaskReport(report('c1', 2));
        const duplicate = report('c1', 2, { outcome: { kind: 'failed', message: 'late duplicate', retryable: true }, at: 9_000 });
        expect(await store.recordTaskReport(duplicate)).toEqual(report('c1', 2));
        expect(await store.recordTaskReport(report('c1', 1))).toEqual(report('c1', 2));
        expect(await store.getTaskReport('run-1', 'deploy', 'c1')).toEqual(report('c1', 2));
      });

      it("lists exactly one step's rows of one run, whatever characters the names hold", async () => {
        const odd = 'step","with/quotes';
        await store.recordTaskReport(report('c2', 1));
        await store.recordTaskReport(report('c1', 1));
        await store.recordTaskReport(report('c1', 1, { step: odd }));
        await store.recordTaskReport(report('c1', 1, { step: 'deploy-2' }));
        await store.recordTaskReport(report('c1', 1, { step: 'deplo' }));
        await store.recordTaskReport(report('c1', 1, { runId: 'run-10' }));
        const listed = await store.listTaskReports('run-1', 'deploy');
        expect(listed.map((r) => r.cluster).sort()).toEqual(['c1', 'c2']);
        expect(listed.every((r) => r.runId === 'run-1' && r.step === 'deploy')).toBe(true);
        expect(await store.listTaskReports('run-1', odd)).toEqual([report('c1', 1, { step: odd })]);
        expect(await store.listTaskReports('run-1', 'absent')).toEqual([]);
      });

      it('abuse: rows of a run that has not ended are never removed, by its own writes, another run ending, or a stale write ending it', async () => {
        const created = await store.createRun(run('run-1', 100));
        await store.createRun(run('run-2', 100));
        await store.recordTaskReport(report('c1', 1));
        await store.recordTaskReport(report('c2', 1));
        // Its own conditional writes while it runs (a tick that changes nothing ends nothing).
        const resumed = await store.updateRun({ ...created, updatedAt: 150 }, created.version);
        // Another run ends.
        await transitionRun(store, 'run-2', (r) => next(r, { type: 'terminate', by: 'alice', reason: 'stop', decisionId: 'd-2' }, 200));
        // A writer that read run-1 before the last write tries to end it: refused, and nothing deleted.
        await expect(store.updateRun({ ...created, phase: 'workflowTerminated', endedAt: 300 }, created.version)).rejects.toBeInstanceOf(
          ConflictError,
        );
        expect((await store.getRun('run-1'))?.version).toBe(resumed.version);
        expect((await store.listTaskReports('run-1', 'deploy')).map((r) => r.cluster).sort()).toEqual(['c1', 'c2']);
      });

      it('answers concurrent reports of many clusters without losing one', async () => {
        // A few at once: the msw fakes inject faults at every n-th request, which many writers in lockstep
        // would hand to the same writer again and again.
        const clusters = Array.from({ length: 6 }, (_, i) => `c${String(i).padStart(2, '0')}`);
        await Promise.all(clusters.map((c) => store.recordTaskReport(report(c, 1))));
        expect((await store.listTaskReports('run-1', 'deploy')).map((r) => r.cluster).sort()).toEqual(clusters);
      });
    });

    describe('decision audit', () => {
      it("keeps each decision's audit through conditional writes; a stale copy without it cannot replace it", async () => {
        const created = await store.createRun(run('run-1', 100));
        const audit = { channel: 'page' as const, source: '10.0.0.7', digest: 'd'.repeat(64), policyVersion: 'any-approver/1' };
        await transitionRun(store, 'run-1', (r) =>
          next(r, { type: 'terminate', by: 'alice', reason: 'stop', decisionId: 'd-1', audit }, 200),
        );
        const stored = await store.getRun('run-1');
        expect(stored?.decisions).toEqual([expect.objectContaining({ id: 'd-1', by: 'alice', at: 200, audit })]);
        // The copy read before the decision: writing it back would drop the decision, so the store refuses it.
        await expect(store.updateRun({ ...created, updatedAt: 300 }, created.version)).rejects.toBeInstanceOf(ConflictError);
        expect((await store.getRun('run-1'))?.decisions.map((d) => d.audit)).toEqual([audit]);
      });
    });

    describe('applications', () => {
      const record = (extra: Partial<AppRecord> = {}): AppRecord => ({ app, updatedAt: 100, version: 0, ...extra });

      it('creates the record once and updates it conditionally', async () => {
        expect(await store.getApp(app)).toBeUndefined();
        const created = await store.saveApp(record({ currentRunId: 'run-1' }), null);
        expect(created.version).toBe(1);
        await expect(store.saveApp(record(), null)).rejects.toBeInstanceOf(ConflictError);
        const failed = { error: 'app.yaml (document 2) field spec: bad', source, at: 300 };
        const updated = await store.saveApp({ ...created, lastFailedIngest: failed }, 1);
        expect(updated.version).toBe(2);
        await expect(store.saveApp({ ...created, currentRunId: 'stale' }, 1)).rejects.toBeInstanceOf(ConflictError);
        expect(await store.getApp(app)).toEqual({ ...record({ currentRunId: 'run-1' }), lastFailedIngest: failed, version: 2 });
      });

      it('lists every application by name, page by page', async () => {
        for (const name of ['c', 'a', 'b']) await store.saveApp({ app: { namespace: 'demo', name }, updatedAt: 1, version: 0 }, null);
        await store.saveApp({ app: { namespace: 'alpha', name: 'z' }, updatedAt: 1, version: 0 }, null);
        const first = await store.listApps({ limit: 3 });
        expect(first.items.map((r) => `${r.app.namespace}/${r.app.name}`)).toEqual(['alpha/z', 'demo/a', 'demo/b']);
        const rest = await store.listApps({ limit: 3, cursor: first.nextCursor! });
        expect(rest.items.map((r) => r.app.name)).toEqual(['c']);
        expect(rest.nextCursor).toBeUndefined();
      });
    });

    describe('ingest idempotency', () => {
      it('lets the first caller claim a key and shows later callers its result', async () => {
        const first = await store.claimIngest(source, 1_000);
        expect(first).toMatchObject({ claimed: true, record: { status: 'in-progress', claimedAt: 1_000 } });
        const second = await store.claimIngest(source, 1_001);
        expect(second).toMatchObject({ claimed: false, record: { status: 'in-progress' } });
        await store.completeIngest(first.record, { outcome: 'run-started', runId: 'run-1', releaseId: 'r1' }, 1_002);
        const third = await store.claimIngest(source, 10_000_000);
        expect(third).toMatchObject({
          claimed: false,
          record: { status: 'completed', result: { outcome: 'run-started', runId: 'run-1' } },
        });
        const otherEtag = await store.claimIngest({ ...source, etag: 'FFFF' }, 1_003);
        expect(otherEtag.claimed).toBe(true);
      });

      it('lets exactly one of two concurrent claims win', async () => {
        const claims = await Promise.all([store.claimIngest(source, 1), store.claimIngest(source, 1)]);
        expect(claims.filter((c) => c.claimed)).toHaveLength(1);
      });

      it('hands a stale in-progress claim over, and refuses the completion of the dead owner', async () => {
        const dead = await store.claimIngest(source, 1_000);
        expect((await store.claimIngest(source, 1_000 + 59_999, { staleAfterMs: 60_000 })).claimed).toBe(false);
        const takeover = await store.claimIngest(source, 1_000 + 60_000, { staleAfterMs: 60_000 });
        expect(takeover.claimed).toBe(true);
        await expect(store.completeIngest(dead.record, { outcome: 'failed', error: 'late' }, 70_000)).rejects.toBeInstanceOf(ConflictError);
        const done = await store.completeIngest(takeover.record, { outcome: 'unchanged' }, 70_000);
        expect(done).toMatchObject({ status: 'completed', completedAt: 70_000, result: { outcome: 'unchanged' } });
      });

      it('reads an ingest record back, and nothing for an object never ingested', async () => {
        expect(await store.getIngest(source)).toBeUndefined();
        const claim = await store.claimIngest(source, 1_000);
        expect(await store.getIngest(source)).toEqual(claim.record);
        const done = await store.completeIngest(claim.record, { outcome: 'failed', error: 'bad bundle' }, 1_001);
        expect(await store.getIngest(source)).toEqual(done);
        expect(await store.getIngest({ ...source, etag: 'FFFF' })).toBeUndefined();
      });
    });

    describe('API idempotency keys', () => {
      it('binds a key to its first request and shows later callers that binding, never replacing it', async () => {
        expect(await store.claimIdempotencyKey('key-1', 'POST demo/web-demo approve', 1_000)).toEqual({
          claimed: true,
          request: 'POST demo/web-demo approve',
          claimedAt: 1_000,
        });
        expect(await store.claimIdempotencyKey('key-1', 'POST demo/web-demo approve', 2_000)).toEqual({
          claimed: false,
          request: 'POST demo/web-demo approve',
          claimedAt: 1_000,
        });
        expect(await store.claimIdempotencyKey('key-1', 'POST demo/other reject', 3_000)).toEqual({
          claimed: false,
          request: 'POST demo/web-demo approve',
          claimedAt: 1_000,
        });
        expect((await store.claimIdempotencyKey('key-2', 'POST demo/other reject', 3_000)).claimed).toBe(true);
        expect(await store.getIngest({ bucket: 'idempotency-key:key-1', key: '', etag: '' })).toBeUndefined();
      });

      it('lets exactly one of two concurrent first uses win', async () => {
        const claims = await Promise.all([store.claimIdempotencyKey('k', 'a', 1), store.claimIdempotencyKey('k', 'b', 1)]);
        expect(claims.filter((c) => c.claimed)).toHaveLength(1);
        expect(new Set(claims.map((c) => c.request)).size).toBe(1);
      });
    });
  });
}
