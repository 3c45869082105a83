import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TABLESTORE_UNDECLARED_NAMES, tablestoreStrictModePlugin } from '#shared/delivery/adapters/aliyun/tablestore-bundling.ts';
import type { createTablestoreRunStore as CreateStore } from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';
import type {
  createTables as CreateTables,
  tablestoreClient as TablestoreClient,
} from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';
import type { staticCredentials as StaticCredentials } from '#shared/platform/credentials.ts';
import { createRun } from '#shared/delivery/workflow/decider.ts';
import { deployStep, plan } from '../workflow/plans.ts';
import { FakeTablestore } from './tablestore-msw.ts';

/** The run store as a function ships it: bundled by esbuild (strict mode), talking to the msw Tablestore. */

interface Bundled {
  createTablestoreRunStore: typeof CreateStore;
  createTables: typeof CreateTables;
  tablestoreClient: typeof TablestoreClient;
  staticCredentials: typeof StaticCredentials;
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENDPOINT = 'https://bundled.cn-hangzhou.ots.aliyuncs.com';
const KEY = { accessKeyId: 'LTAI-bundle', accessKeySecret: 'bundle-secret' };
const dir = mkdtempSync(join(tmpdir(), 'tricenter-ots-bundle-'));
const server = setupServer();
let fake: FakeTablestore;

async function bundle(name: string, plugins: Plugin[]): Promise<Bundled> {
  const outfile = join(dir, `${name}.cjs`);
  await build({
    stdin: {
      contents: [
        "export { createTablestoreRunStore } from '#shared/delivery/adapters/aliyun/tablestore-run-store.ts';",
        "export { createTables, tablestoreClient } from '#shared/delivery/adapters/aliyun/tablestore-tables.ts';",
        "export { staticCredentials } from '#shared/platform/credentials.ts';",
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    // Strict throughout, as every function bundle is (an ESM bundle by definition, a CommonJS one through the
    // "use strict" esbuild puts on top of an entry with code); CommonJS keeps loading it native and fast here.
    format: 'cjs',
    banner: { js: '"use strict";' },
    outfile,
    logLevel: 'silent',
    plugins,
  });
  return createRequire(import.meta.url)(outfile) as Bundled;
}

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake = new FakeTablestore({ endpoint: ENDPOINT, instance: 'bundled', keys: { [KEY.accessKeyId]: { secret: KEY.accessKeySecret } } });
  server.resetHandlers(...fake.handlers());
});

const newRun = (id: string, at: number) => createRun({ id, releaseId: 'r', plan: plan([deployStep('deploy', ['c1'])]) }, at);

describe('the Tablestore run store inside an esbuild bundle', () => {
  it('breaks without the plugin: the SDK assigns undeclared names, and bundles are strict', async () => {
    const bundled = await bundle('plain', []);
    // The SDK loaded natively by the fake (sloppy mode) leaks these names onto globalThis, which would hide the failure.
    for (const name of TABLESTORE_UNDECLARED_NAMES) Reflect.deleteProperty(globalThis, name);
    const store = bundled.createTablestoreRunStore({
      region: 'cn-hangzhou',
      instance: 'bundled',
      endpoint: ENDPOINT,
      credentials: bundled.staticCredentials(KEY),
    });
    await expect(store.getRun('run-1')).rejects.toThrow(/is not defined/);
    expect(fake.calls).toEqual([]);
  });

  it('works with tablestoreStrictModePlugin: setup, conditional writes, conflicts and listings', async () => {
    const bundled = await bundle('fixed', [tablestoreStrictModePlugin()]);
    const credentials = bundled.staticCredentials(KEY);
    await bundled.createTables(
      bundled.tablestoreClient({ endpoint: ENDPOINT, instance: 'bundled', credentials: credentials() }),
      'tricenter_',
    );
    const store = bundled.createTablestoreRunStore({ region: 'cn-hangzhou', instance: 'bundled', endpoint: ENDPOINT, credentials });
    const created = await store.createRun(newRun('run-1', 10));
    await store.createRun(newRun('run-2', 20));
    const updated = await store.updateRun({ ...created, reason: 'bundled' }, 1);
    expect(updated.version).toBe(2);
    await expect(store.updateRun(created, 1)).rejects.toMatchObject({ code: 'CONFLICT', name: 'ConflictError' });
    expect(await store.getRun('run-1')).toMatchObject({ reason: 'bundled', version: 2 });
    expect((await store.listRuns({ namespace: 'demo', name: 'web-demo' })).items.map((r) => r.id)).toEqual(['run-2', 'run-1']);
    expect(fake.calls.filter((c) => c.status === 403).map((c) => c.errorCode)).toEqual(['OTSConditionCheckFail']);
  });
});
