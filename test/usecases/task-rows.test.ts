import { afterEach, describe, expect, it } from 'vitest';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { objectRef } from '#shared/delivery/model/kube.ts';
import type { Release } from '#shared/delivery/model/records.ts';
import type { ClusterGateway } from '#shared/delivery/ports/cluster-gateway.port.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import type { WorkflowDeps } from '#shared/delivery/usecases/deps.ts';
import { performEffects } from '#shared/delivery/usecases/effects.ts';
import { ReleaseManifests } from '#shared/delivery/usecases/release-manifests.ts';
import { runDeployTask, type TaskResult } from '#shared/delivery/usecases/run-task.ts';
import { appStatus } from '#shared/delivery/usecases/status.ts';
import { tickRun } from '#shared/delivery/usecases/sweep.ts';
import { startRun } from '#shared/delivery/workflow/decider.ts';
import type { DeployTask, TaskReport } from '#shared/delivery/workflow/run.ts';
import { PASS_CLAIM_CLUSTER } from '#shared/delivery/workflow/task-reports.ts';
import { ManualClock } from '#shared/platform/clock.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { MemoryObjects } from './memory-objects.ts';

/**
 * The report path over per-task rows (workflow/task-reports.ts), on the SQLite store made to answer
 * like a remote one (every call resolves on a later turn of the event loop, so concurrent reports
 * interleave their reads and conditional writes as they do on Tablestore): a step over many
 * clusters writes the run record once per pass, not once per task, and duplicates touch no cluster.
 */

const T0 = 1_000_000;
const STEP = 'everywhere';

function clusters(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `c${String(i).padStart(2, '0')}`);
}

function release(names: string[], parallelism = names.length): Release {
  const app = { namespace: 'demo', name: 'web-demo' };
  return {
    id: 'rel-1',
    app,
    publishVersion: 'v1',
    contentHash: 'sha256:v1',
    createdAt: T0,
    source: { bucket: 'bundles', key: 'bundles/demo/web-demo.yaml', etag: 'E1' },
    plan: {
      app,
      publishVersion: 'v1',
      contentHash: 'sha256:v1',
      steps: [
        {
          name: STEP,
          type: 'deploy',
          needsApproval: false,
          parallelism,
          timeoutMs: 600_000,
          targets: names.map((cluster) => ({ cluster, packs: [] })),
        },
      ],
    },
  };
}

/** Every call of `inner` answers a turn of the event loop later; run writes and their conflicts are counted. */
function remote(inner: RunStore): { store: RunStore; runWrites: { ok: number; conflicts: number } } {
  const runWrites = { ok: 0, conflicts: 0 };
  const later = () => new Promise((resolve) => setImmediate(resolve));
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'close') return value;
      return async (...args: unknown[]) => {
        await later();
        try {
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (prop === 'updateRun') runWrites.ok += 1;
          return result;
        } catch (err) {
          if (prop === 'updateRun' && (err as { code?: string }).code === 'CONFLICT') runWrites.conflicts += 1;
          throw err;
        } finally {
          await later();
        }
      };
    },
  });
  return { store, runWrites };
}

function countingGateway(onVerify: () => Promise<void>): { gateway: ClusterGateway; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const count = (name: string, cluster: string) => calls.set(`${name} ${cluster}`, (calls.get(`${name} ${cluster}`) ?? 0) + 1);
  const gateway = {
    verify: async (cluster: string) => {
      count('verify', cluster);
      await onVerify();
    },
    apply: async (cluster: string, manifests: Parameters<ClusterGateway['apply']>[1]) => {
      count('apply', cluster);
      return { cluster, objects: manifests.map((m) => ({ ref: objectRef(m), changed: true })) };
    },
    health: async (cluster: string) => ({ cluster, healthy: true, objects: [] }),
    prune: async () => [],
    workloads: async () => [],
  } as unknown as ClusterGateway;
  return { gateway, calls };
}

interface Harness {
  deps: WorkflowDeps;
  sqlite: SqliteRunStore;
  runWrites: { ok: number; conflicts: number };
  calls: Map<string, number>;
  sent: DeployTask[];
  clock: ManualClock;
  /** Runs inside the gateway's verify (while a task is out on its cluster). */
  duringVerify: { hook: () => Promise<void> };
}

let open: SqliteRunStore | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function harness(names: string[], parallelism = names.length): Promise<Harness> {
  const sqlite = new SqliteRunStore({ path: ':memory:' });
  open = sqlite;
  const { store, runWrites } = remote(sqlite);
  const duringVerify = { hook: async () => {} };
  const { gateway, calls } = countingGateway(() => duringVerify.hook());
  const sent: DeployTask[] = [];
  const clock = new ManualClock(T0);
  const deps: WorkflowDeps = {
    store,
    queue: { send: async (tasks) => void sent.push(...tasks) },
    gateway,
    bundles: {} as WorkflowDeps['bundles'],
    manifests: new ReleaseManifests(new MemoryObjects()),
    registry: async () => ({ clusters: [] }),
    clock,
    logger: silentLogger,
    newId: () => 'unused',
    healthWait: { totalMs: 0, pollMs: 1 },
  };
  const rel = release(names, parallelism);
  await sqlite.putRelease(rel);
  const start = startRun({ id: 'run-1', releaseId: rel.id, plan: rel.plan }, T0);
  const created = await sqlite.createRun(start.run);
  await sqlite.saveApp({ app: rel.app, currentRunId: created.id, lastReleaseId: rel.id, updatedAt: T0, version: 0 }, null);
  await performEffects(deps, created, start.effects);
  return { deps, sqlite, runWrites, calls, sent, clock, duringVerify };
}

/** Delivers every message sent so far at once (as FC's async invocations run side by side), until none is left. */
async function deliverAll(h: Harness): Promise<TaskResult[]> {
  const results: TaskResult[] = [];
  while (h.sent.length > 0) {
    const batch = h.sent.splice(0);
    results.push(...(await Promise.all(batch.map((task) => runDeployTask(h.deps, task)))));
  }
  return results;
}

describe('task rows: the report path', () => {
  it('rolls a step out to 24 clusters with two run writes (the end of each pass), whatever the interleaving', async () => {
    const names = clusters(24);
    const h = await harness(names);
    // Pass claims as the store answered them: the rows themselves go with the write that ends the run.
    const claims: TaskReport[] = [];
    const record = h.sqlite.recordTaskReport.bind(h.sqlite);
    h.sqlite.recordTaskReport = async (report) => {
      const held = await record(report);
      if (report.cluster === PASS_CLAIM_CLUSTER) claims.push(held);
      return held;
    };
    const results = await deliverAll(h);
    expect(results).toHaveLength(48);
    expect(results.every((r) => r.handled)).toBe(true);
    const run = await h.sqlite.getRun('run-1');
    expect(run?.phase).toBe('running');
    expect(run?.steps[0]?.tasks.every((t) => t.status === 'done' && t.attempt === 2)).toBe(true);
    // Verification over, then the real writes: the run record changed twice, however many clusters.
    expect(h.runWrites.ok).toBe(2);
    // Delivered in lockstep, every reporter of a pass sees every row; they claim the pass and only the
    // first claimant writes the run: no conditional write of the run record loses.
    expect(h.runWrites.conflicts).toBe(0);
    for (const name of names) {
      expect(h.calls.get(`verify ${name}`)).toBe(1);
      expect(h.calls.get(`apply ${name}`)).toBe(1);
    }
    // The run ended: its record took every row in, and the write that ended it deleted them.
    expect(await h.sqlite.listTaskReports('run-1', STEP)).toEqual([]);
    // The last pass's claim: named by the sum of the attempts (24 x 2), one reporter's.
    const last = claims.filter((c) => c.attempt === 48);
    expect(last.length).toBeGreaterThan(0);
    expect(new Set(last.map((c) => c.outcome.message)).size).toBe(1);
    expect(last[0]).toMatchObject({ outcome: { kind: 'done', message: expect.stringMatching(/^taken in by c\d\d attempt 2$/) } });
  });

  it('writes the run for each done that frees a parallelism slot', async () => {
    const h = await harness(clusters(3), 1);
    await deliverAll(h);
    expect((await h.sqlite.getRun('run-1'))?.phase).toBe('running');
    // 3 verifications and 3 applies one after the other: every report but none changes the aggregate.
    expect(h.runWrites.ok).toBe(6);
  });

  it('ignores a repeated message of an attempt that already reported, before touching the cluster', async () => {
    const h = await harness(clusters(3));
    const [first] = h.sent.splice(0, 1);
    expect(await runDeployTask(h.deps, first!)).toEqual({ handled: true, outcome: expect.objectContaining({ kind: 'done' }) });
    // Its report is in its row; the run record still has the task out (the other two have not reported).
    expect((await h.sqlite.getRun('run-1'))?.steps[0]?.tasks[0]?.status).toBe('sent');
    const again = await runDeployTask(h.deps, first!);
    expect(again).toEqual({ handled: false, reason: expect.stringContaining('has already reported') });
    expect(h.calls.get(`verify ${first!.cluster}`)).toBe(1);
    expect(h.runWrites.ok).toBe(0);
  });

  it('a repeated message after the run write failed deploys nothing and takes the rows in', async () => {
    const h = await harness(clusters(2));
    const batch = h.sent.splice(0);
    await runDeployTask(h.deps, batch[0]!);
    // The last reporter's run write fails (the instance dies, the store answers an error): the queue delivers it again.
    const failing = {
      ...h.deps,
      store: new Proxy(h.deps.store, {
        get: (target, prop, receiver) =>
          prop === 'updateRun' ? async () => Promise.reject(new Error('instance died')) : Reflect.get(target, prop, receiver),
      }),
    };
    await expect(runDeployTask(failing, batch[1]!)).rejects.toThrow('instance died');
    expect((await h.sqlite.getRun('run-1'))?.steps[0]?.verifying).toBe(true);
    const again = await runDeployTask(h.deps, batch[1]!);
    expect(again).toEqual({ handled: true, outcome: expect.objectContaining({ kind: 'done' }) });
    expect(h.calls.get(`verify ${batch[1]!.cluster}`)).toBe(1);
    expect((await h.sqlite.getRun('run-1'))?.steps[0]?.verifying).toBeUndefined();
    expect(h.sent.map((t) => t.attempt)).toEqual([2, 2]);
  });

  it('a claimant that dies for good leaves the pass to the next tick, which takes the rows in and moves on', async () => {
    const h = await harness(clusters(3));
    const batch = h.sent.splice(0);
    await runDeployTask(h.deps, batch[0]!);
    await runDeployTask(h.deps, batch[1]!);
    const dying = {
      ...h.deps,
      store: new Proxy(h.deps.store, {
        get: (target, prop, receiver) =>
          prop === 'updateRun' ? async () => Promise.reject(new Error('instance died')) : Reflect.get(target, prop, receiver),
      }),
    };
    await expect(runDeployTask(dying, batch[2]!)).rejects.toThrow('instance died');
    // Its message is never delivered again; it alone saw every row and claimed the pass, so nobody wrote the run.
    expect((await h.sqlite.getRun('run-1'))?.steps[0]?.tasks.map((t) => t.status)).toEqual(['sent', 'sent', 'sent']);
    h.clock.advance(60_001);
    expect(await tickRun(h.deps, 'run-1')).toBe(true);
    // Every row said done: the verification pass is over, nothing is re-sent as lost, the real writes go out.
    expect(h.sent.map((t) => t.key)).toEqual(['c00', 'c01', 'c02'].map((c) => `run-1/${STEP}/${c}/2`));
    await deliverAll(h);
    expect((await h.sqlite.getRun('run-1'))?.phase).toBe('running');
  });

  it('refuses a report whose row already holds another outcome of the same attempt (a duplicate that reported first)', async () => {
    const h = await harness(clusters(2));
    const [first] = h.sent.splice(0, 1);
    const task = first!;
    // Another delivery of the same attempt ran at the same time and its report landed first.
    const earlier = {
      runId: 'run-1',
      step: STEP,
      cluster: task.cluster,
      attempt: task.attempt,
      outcome: { kind: 'waiting' as const, message: '0/2 ready' },
      at: T0 - 1,
    };
    h.duringVerify.hook = async () => {
      await h.sqlite.recordTaskReport(earlier);
    };
    expect(await runDeployTask(h.deps, task)).toEqual({ handled: false, reason: expect.stringContaining('duplicate or stale') });
    expect(await h.sqlite.getTaskReport('run-1', STEP, task.cluster)).toEqual(earlier);
  });

  it('shows reported tasks in the status before the run record takes them in', async () => {
    const h = await harness(clusters(3));
    const [first] = h.sent.splice(0, 1);
    await runDeployTask(h.deps, first!);
    const status = await appStatus(h.deps, { namespace: 'demo', name: 'web-demo' });
    expect(status?.steps[0]?.clusters.map((c) => c.status)).toEqual(['done', 'sent', 'sent']);
  });

  it('a tick takes the rows in and re-sends only the task that never reported', async () => {
    const h = await harness(clusters(3));
    const batch = h.sent.splice(0);
    await runDeployTask(h.deps, batch[0]!);
    await runDeployTask(h.deps, batch[2]!);
    // The message for the second cluster was lost; a minute later the sweep ticks the run.
    h.clock.advance(60_001);
    expect(await tickRun(h.deps, 'run-1')).toBe(true);
    expect(h.sent.map((t) => t.key)).toEqual([`run-1/${STEP}/c01/2`]);
    const run = await h.sqlite.getRun('run-1');
    expect(run?.steps[0]?.tasks.map((t) => [t.status, t.attempt])).toEqual([
      ['done', 1],
      ['sent', 2],
      ['done', 1],
    ]);
    await deliverAll(h);
    expect((await h.sqlite.getRun('run-1'))?.phase).toBe('running');
    expect(h.calls.get('verify c00')).toBe(1);
    expect(h.calls.get('apply c00')).toBe(1);
  });
});
