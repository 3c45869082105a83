/**
 * CLI start-up as a user meets it: whole-process wall time and peak RSS of `tricenter --help`
 * (goal: within 150 ms of `node -e 0`), `tricenter status demo/web-demo` against a running twin
 * (goal: 300 ms) and `tricenter render examples/web-demo` (goal: 400 ms); medians of RUNS runs.
 * `compiled` says whether bin/tricenter.mjs ran the build in dist/cli or fell back to tsx.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ApiClient, packBundle } from '#cli/client.ts';
import { silentLogger } from '#shared/platform/log.ts';
import { startLocalTwin } from '#local/twin.ts';
import { compiledCli } from '../bin/compiled-cli.mjs';

const RUNS = 7;
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/tricenter.mjs');
// Peak RSS, read inside the measured process as it exits (fd 3), so every node it runs is counted.
const REPORT_PEAK_RSS =
  'data:text/javascript,import { writeSync } from "node:fs"; process.on("exit", () => writeSync(3, String(process.resourceUsage().maxRSS)));';

interface Sample {
  wallMs: number;
  peakRssKiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (ms: number) => Math.round(ms * 10) / 10;

/** One process, asynchronously: the twin answering `status` lives in this process's event loop. */
function once(args: string[]): Promise<Sample> {
  return new Promise((done, fail) => {
    const start = performance.now();
    const child = spawn(process.execPath, ['--import', REPORT_PEAK_RSS, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let rss = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdio[3]?.on('data', (d: Buffer) => (rss += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const wallMs = performance.now() - start;
      if (code !== 0) fail(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`));
      else done({ wallMs, peakRssKiB: Number(rss) });
    });
  });
}

async function measure(args: string[]): Promise<{ wallMs: number; peakRssMiB: number }> {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) samples.push(await once(args));
  return { wallMs: round(median(samples.map((s) => s.wallMs))), peakRssMiB: round(median(samples.map((s) => s.peakRssKiB)) / 1024) };
}

const compiled = () => 'entry' in compiledCli(join(ROOT, 'dist/cli'), ROOT);

export async function run(): Promise<Record<string, unknown>> {
  const compiledAtStart = compiled();
  const bare = await measure(['-e', '0']);
  const help = await measure([BIN, '--help']);
  const render = await measure([BIN, 'render', 'examples/web-demo']);

  const dir = mkdtempSync(join(tmpdir(), 'tricenter-cli-bench-'));
  // An hour between timer ticks: the twin stays idle while the CLI is measured against it.
  const twin = await startLocalTwin({
    dir,
    clustersFile: 'examples/web-demo/clusters.yaml',
    readyDelayMs: 50,
    dataPlanePort: 0,
    approvalPort: 0,
    timerIntervalMs: 3_600_000,
    logger: silentLogger,
  });
  let status;
  let serverMs;
  try {
    const { approvalUrl, token } = twin.endpoints;
    const client = new ApiClient({ endpoint: approvalUrl, token });
    const bundle = await packBundle('examples/web-demo');
    await client.upload(bundle.app, bundle);
    // The seed waits for approval after its first step: a status with steps, tasks and workloads.
    for (let phase = ''; phase !== 'workflowSuspending'; phase = (await client.status(bundle.app).catch(() => undefined))?.phase ?? '') {
      await new Promise((wait) => setTimeout(wait, 100));
    }
    status = await measure([BIN, 'status', 'demo/web-demo', '--endpoint', approvalUrl, '--token', token]);
    // What the twin itself takes to answer (it observes every cluster's workloads), inside the CLI's figure.
    const answers: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const start = performance.now();
      await client.status(bundle.app);
      answers.push(performance.now() - start);
    }
    serverMs = round(median(answers));
  } finally {
    await twin.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  // A source edited meanwhile sends later runs to tsx: such figures would mix both paths.
  if (compiled() !== compiledAtStart) throw new Error('the compiled CLI went stale during the bench (a source changed); run it again');
  const helpOverBareMs = round(help.wallMs - bare.wallMs);
  return {
    runs: RUNS,
    compiled: compiledAtStart,
    bareNode: bare,
    help: { ...help, overBareMs: helpOverBareMs, goalOverBareMs: 150, meetsGoal: helpOverBareMs <= 150 },
    status: { ...status, serverMs, goalMs: 300, meetsGoal: status.wallMs <= 300 },
    render: { ...render, goalMs: 400, meetsGoal: render.wallMs <= 400 },
    loadAverage1m: loadavg()[0],
  };
}
