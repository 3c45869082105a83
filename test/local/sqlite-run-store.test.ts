import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteRunStore } from '#shared/delivery/adapters/local/sqlite-run-store.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { describeRunStoreContract } from '../contract/run-store.contract.ts';
import { plan, deployStep } from '../workflow/plans.ts';

const dir = mkdtempSync(join(tmpdir(), 'tricenter-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeRunStoreContract('sqlite :memory:', () => new SqliteRunStore({ path: ':memory:' }));
let fileCount = 0;
describeRunStoreContract('sqlite file (WAL)', () => new SqliteRunStore({ path: join(dir, `nested/store-${++fileCount}.db`) }));

describe('SqliteRunStore on a file', () => {
  it('keeps runs across reopen, and two handles on one file still exclude each other', async () => {
    const path = join(dir, 'shared.db');
    const a = new SqliteRunStore({ path });
    const b = new SqliteRunStore({ path });
    const created = await a.createRun(createRun({ id: 'run-1', releaseId: 'r', plan: plan([deployStep('s', ['c1'])]) }, 5));
    await b.updateRun({ ...created, reason: 'from b' }, created.version);
    await expect(a.updateRun({ ...created, reason: 'from a' }, created.version)).rejects.toThrow(/changed since version 1/);
    await a.close();
    await b.close();
    const reopened = new SqliteRunStore({ path });
    expect(await reopened.getRun('run-1')).toMatchObject({ reason: 'from b', version: 2 });
    await reopened.close();
  });

  it('refuses a cursor it did not issue, naming it', async () => {
    const store = new SqliteRunStore({ path: ':memory:' });
    await expect(store.listApps({ cursor: '%%%' })).rejects.toThrow(/cursor "%%%"/);
    await store.close();
  });
});
