/**
 * Cold start per function: wall time of a fresh `node` that loads the built bundle and reaches its
 * handler, minus a bare `node -e 0` (medians of 15 runs each), and bundle size (goals: <= 60 ms for
 * approval and gtm-reconcile, <= 200 ms for bundle-ingest and deploy-step; every bundle < 5 MB).
 * Also the first call of the approval handler (config, auth, no cloud call) as a second figure.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildFunctions, FUNCTIONS } from '../scripts/build.ts';

const RUNS = 15;
const GOALS: Record<string, number> = { approval: 60, 'gtm-reconcile': 60, 'bundle-ingest': 200, 'deploy-step': 200 };

function medianWall(args: string[], cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { cwd, env: { ...process.env, TRICENTER_REGION: 'cn-hangzhou', TRICENTER_BUCKET: 'b', TRICENTER_OTS_INSTANCE: 'i' } });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stderr.toString()}`);
    times.push(performance.now() - start);
  }
  return [...times].sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? Number.NaN;
}

export async function run(): Promise<Record<string, unknown>> {
  const out = mkdtempSync(join(tmpdir(), 'tricenter-coldstart-'));
  try {
    await buildFunctions(out);
    const bare = medianWall(['-e', '0'], out);
    const functions: Record<string, unknown> = {};
    for (const name of FUNCTIONS) {
      const dir = join(out, name);
      const loaded = medianWall(['--input-type=module', '-e', "const m = await import('./index.mjs'); if (typeof m.handler !== 'function') process.exit(1);"], dir);
      const files = readdirSync(dir).filter((f) => !f.endsWith('.map') && !f.endsWith('.LEGAL.txt'));
      const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
      const entryBytes = statSync(join(dir, 'index.mjs')).size;
      const coldStartMs = Math.round((loaded - bare) * 10) / 10;
      functions[name] = { coldStartMs, goalMs: GOALS[name], meetsGoal: coldStartMs <= (GOALS[name] ?? 0), bundleBytes: bytes, entryBytes, underFiveMB: bytes < 5 * 1024 * 1024 };
    }
    return { bareNodeMs: Math.round(bare * 10) / 10, runs: RUNS, functions, loadAverage1m: (await import('node:os')).loadavg()[0] };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
