/**
 * Retention of per-cluster task rows in the local run store: an ended run's rows are redundant (its
 * record took them in), so the write that ends a run deletes them in the same transaction, a report
 * that arrives after the run ended is not kept, and a state folder written before that is cleaned
 * when it is opened. A run that has not ended keeps every row (the contract suite checks that too).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { transitionRun } from '#shared/delivery/usecases/transition-run.ts';
import { createRun, next } from '#shared/delivery/workflow/decider.ts';
import { isEnded, type Run, type RunPhase, type TaskReport } from '#shared/delivery/workflow/run.ts';
import { deployStep, plan } from '../workflow/plans.ts';

const dir = mkdtempSync(join(tmpdir(), 'tricenter-task-rows-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const report = (runId: string, cluster: string, attempt = 1): TaskReport => ({
  runId,
  step: 's',
  cluster,
  attempt,
  outcome: { kind: 'done', message: `attempt ${attempt}` },
  at: 1_000 + attempt,
});
const newRun = (id: string): Run => createRun({ id, releaseId: `rel-${id}`, plan: plan([deployStep('s', ['c1', 'c2'])]) }, 5);
const terminate = (store: SqliteRunStore, id: string) =>
  transitionRun(store, id, (r) => next(r, { type: 'terminate', by: 'alice', reason: 'stop', decisionId: `d-${id}` }, 200));
const clustersOf = async (store: SqliteRunStore, runId: string) => (await store.listTaskReports(runId, 's')).map((r) => r.cluster);

describe('SqliteRunStore task rows retention', () => {
  it('the write that ends a run deletes its rows, and only its rows; a later report of it is answered and not kept', async () => {
    const store = new SqliteRunStore({ path: ':memory:' });
    await store.createRun(newRun('run-1'));
    await store.createRun(newRun('run-2'));
    for (const id of ['run-1', 'run-2']) for (const c of ['c1', 'c2']) await store.recordTaskReport(report(id, c));

    const ended = await terminate(store, 'run-1');
    expect(ended.run.phase).toBe('workflowTerminated');
    expect(await clustersOf(store, 'run-1')).toEqual([]);
    expect(await clustersOf(store, 'run-2')).toEqual(['c1', 'c2']);

    // A task that finished after its run did: the call answers with its report, and no row is left.
    expect(await store.recordTaskReport(report('run-1', 'c1', 2))).toEqual(report('run-1', 'c1', 2));
    expect(await store.getTaskReport('run-1', 's', 'c1')).toBeUndefined();
    // Rows of a run the store does not hold (yet) are kept: only an ended run's are refused.
    expect(await store.recordTaskReport(report('run-9', 'c1'))).toEqual(report('run-9', 'c1'));
    expect(await clustersOf(store, 'run-9')).toEqual(['c1']);
    await store.close();
  });

  it('a state folder written before runs deleted their rows is cleaned when opened; running runs keep theirs', async () => {
    const path = join(dir, 'old.db');
    const store = new SqliteRunStore({ path });
    await store.createRun(newRun('run-1'));
    await store.createRun(newRun('run-2'));
    for (const id of ['run-1', 'run-2']) await store.recordTaskReport(report(id, 'c1'));
    await store.close();
    // What an older version left: run-1 ended, its rows still there.
    const raw = new Database(path);
    const body = JSON.parse((raw.prepare('SELECT body FROM runs WHERE id = ?').get('run-1') as { body: string }).body) as Run;
    raw.prepare('UPDATE runs SET body = ? WHERE id = ?').run(JSON.stringify({ ...body, phase: 'workflowFailed', endedAt: 9 }), 'run-1');
    raw.close();

    const reopened = new SqliteRunStore({ path });
    expect(await clustersOf(reopened, 'run-1')).toEqual([]);
    expect(await clustersOf(reopened, 'run-2')).toEqual(['c1']);
    await reopened.close();
  });

  it("the store's SQL notion of an ended run is the workflow's, phase by phase", async () => {
    const phases: RunPhase[] = [
      'rendering',
      'runningWorkflow',
      'workflowSuspending',
      'workflowTerminated',
      'workflowFailed',
      'running',
      'unhealthy',
    ];
    const path = join(dir, 'phases.db');
    const store = new SqliteRunStore({ path });
    for (const phase of phases) {
      await store.createRun({ ...newRun(`run-${phase}`), phase });
      await store.recordTaskReport(report(`run-${phase}`, 'c1'));
    }
    await store.close();
    // Opening removes the rows of exactly the ended ones.
    const reopened = new SqliteRunStore({ path });
    for (const phase of phases) {
      const kept = (await clustersOf(reopened, `run-${phase}`)).length === 1;
      expect({ phase, kept }).toEqual({ phase, kept: !isEnded({ ...newRun('x'), phase }) });
    }
    await reopened.close();
  });
});
