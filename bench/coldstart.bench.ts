/**
 * Cold start per function: in a fresh `node`, the time to load the built bundle and reach its
 * handler, on top of node's own start (reported beside it as `bareNodeMs`); medians of 15 runs;
 * and bundle size (goals: <= 60 ms for
 * approval and gtm-reconcile, <= 200 ms for bundle-ingest and deploy-step; every bundle < 5 MB).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildFunctions, FUNCTIONS } from '../scripts/build.ts';

const RUNS = 15;
const GOALS: Record<string, number> = { approval: 60, 'gtm-reconcile': 60, 'bundle-ingest': 200, 'deploy-step': 200 };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Wall time of a whole `node` process (what FC pays on top of its own start). */
function medianWall(args: string[], cwd: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    const result = spawnSync(process.execPath, args, { cwd });
    if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stderr.toString()}`);
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Time from the first line of a fresh process to a loaded bundle with its handler in hand, measured inside it. */
function medianLoad(cwd: string): number {
  const script = "const t = performance.now(); const m = await import('./index.mjs'); if (typeof m.handler !== 'function') process.exit(1); process.stdout.write(String(performance.now() - t));";
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`loading ${cwd} failed: ${result.stderr}`);
    times.push(Number(result.stdout));
  }
  return median(times);
}

export async function run(): Promise<Record<string, unknown>> {
  const out = mkdtempSync(join(tmpdir(), 'tricenter-coldstart-'));
  try {
    await buildFunctions(out);
    const bare = medianWall(['-e', '0'], out);
    const functions: Record<string, unknown> = {};
    for (const name of FUNCTIONS) {
      const dir = join(out, name);
      const loadMs = medianLoad(dir);
      const files = readdirSync(dir).filter((f) => !f.endsWith('.map') && !f.endsWith('.LEGAL.txt'));
      const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
      const entryBytes = statSync(join(dir, 'index.mjs')).size;
      const coldStartMs = Math.round(loadMs * 10) / 10;
      functions[name] = { coldStartMs, goalMs: GOALS[name], meetsGoal: coldStartMs <= (GOALS[name] ?? 0), bundleBytes: bytes, entryBytes, underFiveMB: bytes < 5 * 1024 * 1024 };
    }
    return { bareNodeMs: Math.round(bare * 10) / 10, runs: RUNS, functions, loadAverage1m: (await import('node:os')).loadavg()[0] };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
