/**
 * The workflow on the local twin with ready delay 0: upload -> workflowSuspending and approve ->
 * running for the seed (goal: each < 500 ms), store writes per run, and one deploy step fanning
 * out to 50 sandbox clusters against the same step on one cluster (goal: < 3x).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ApiClient, packBundle } from '#cli/client.ts';
import { startLocalTwin, type LocalTwin } from '#local/twin.ts';
import { silentLogger, type Logger } from '#shared/platform/log.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import type { RunPhase } from '#shared/delivery/workflow/run.ts';
import { bumpVersion, variantOfWebDemo } from '../test/e2e/bundles.ts';

const APP: AppRef = { namespace: 'demo', name: 'web-demo' };
const WRITES = ['putRelease', 'createRun', 'updateRun', 'saveApp', 'claimIngest', 'completeIngest'] as const;

async function twinFor(
  clustersFile: string,
  dir: string,
  logger: Logger = silentLogger,
): Promise<{ twin: LocalTwin; client: ApiClient; writes: Map<string, number> }> {
  const twin = await startLocalTwin({
    dir,
    clustersFile,
    readyDelayMs: 0,
    dataPlanePort: 0,
    approvalPort: 0,
    timerIntervalMs: 60_000,
    healthWait: { totalMs: 5_000, pollMs: 5 },
    logger,
  });
  const writes = new Map<string, number>();
  const store = twin.deps.store;
  twin.deps.store = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if ((WRITES as readonly string[]).includes(String(prop))) writes.set(String(prop), (writes.get(String(prop)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as RunStore;
  return { twin, client: new ApiClient({ endpoint: twin.endpoints.approvalUrl, token: twin.endpoints.token }), writes };
}

/** Polls the store (not the HTTP status, whose live cluster reads would add to the figure) until the app's run reaches `phase`. */
async function until(twin: LocalTwin, app: AppRef, version: string, phase: RunPhase): Promise<number> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const record = await twin.deps.store.getApp(app);
    const run = record?.currentRunId ? await twin.deps.store.getRun(record.currentRunId) : undefined;
    if (run?.publishVersion === version && run.phase === phase) return performance.now();
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`${app.namespace}/${app.name} ${version} never reached ${phase}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const round = (ms: number) => Math.round(ms * 10) / 10;

async function seedFigures(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-bench-'));
  const { twin, client, writes } = await twinFor('examples/web-demo/clusters.yaml', dir);
  const toSuspending: number[] = [];
  const toRunning: number[] = [];
  let writesPerRun: Record<string, number> = {};
  try {
    for (let i = 0; i < 6; i++) {
      const version = `bench${i}`;
      const packed = await packBundle(variantOfWebDemo({ 'app.yaml': bumpVersion(version) }));
      writes.clear();
      const uploaded = performance.now();
      await client.upload(APP, packed);
      toSuspending.push((await until(twin, APP, version, 'workflowSuspending')) - uploaded);
      const approved = performance.now();
      await client.decide(APP, 'approve');
      toRunning.push((await until(twin, APP, version, 'running')) - approved);
      await twin.queue.drain();
      writesPerRun = Object.fromEntries(writes);
    }
  } finally {
    await twin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // The first round also pays for client start-up (TLS, discovery); the median is the steady figure.
  return {
    uploadToSuspendingMs: { median: round(median(toSuspending.slice(1))), first: round(toSuspending[0] ?? NaN), goal: '< 500' },
    approveToRunningMs: { median: round(median(toRunning.slice(1))), first: round(toRunning[0] ?? NaN), goal: '< 500' },
    storeWritesPerRun: {
      ...writesPerRun,
      total: Object.values(writesPerRun).reduce((a, b) => a + b, 0),
      note: 'a new version: claim + release + run + app record + reports + approval; the previous run is terminated too',
    },
  };
}

/** One deploy step to every cluster labelled `fanout: yes`, parallelism = the cluster count. */
export async function fanOut(clusters: number, logger: Logger = silentLogger): Promise<{ cold: number; warm: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-bench-'));
  const names = Array.from({ length: clusters }, (_, i) => `bench-${i}`);
  writeFileSync(join(dir, 'clusters.yaml'), `clusters:\n${names.map((n) => `  - name: ${n}\n    labels: {fanout: "yes"}`).join('\n')}\n`);
  const bundle = variantOfWebDemo({
    'app.yaml': (t) =>
      `${t.slice(0, t.indexOf('apiVersion: core.oam.dev/v1beta1'))}`
        .replace(/^[\s\S]*?---\napiVersion: core.oam.dev\/v1alpha1\nkind: Workflow[\s\S]*?(?=---\n)/m, '')
        .replace(/apiVersion: core.oam.dev\/v1alpha1\nkind: Policy[\s\S]*?(?=apiVersion: core.oam.dev\/v1beta1|$)/, '') +
      `apiVersion: core.oam.dev/v1alpha1\nkind: Policy\nmetadata: {name: everywhere, namespace: demo}\ntype: topology\nproperties:\n  clusterLabelSelector: {fanout: "yes"}\n---\n` +
      `apiVersion: core.oam.dev/v1alpha1\nkind: Workflow\nmetadata: {name: fan-out, namespace: demo}\nsteps:\n  - type: deploy\n    name: everywhere\n    properties: {policies: [everywhere], parallelism: ${clusters}}\n---\n` +
      t.slice(t.indexOf('apiVersion: core.oam.dev/v1beta1')).replace('ref: deploy-demo', 'ref: fan-out'),
  });
  rmSync(join(bundle, 'traffic.yaml'));
  rmSync(join(bundle, 'clusters.yaml'));
  const { twin, client } = await twinFor(join(dir, 'clusters.yaml'), dir, logger);
  try {
    const packed = await packBundle(bundle);
    const start = performance.now();
    await client.upload(APP, packed);
    const cold = (await until(twin, APP, 'version8', 'running')) - start;
    // The same step again, with the gateway's clients, TLS sessions and discovery already warm.
    const again = await packBundle(
      variantOfWebDemo({
        'app.yaml': () => readFileSync(join(bundle, 'app.yaml'), 'utf8').replace('publishVersion: version8', 'publishVersion: version9'),
      }),
    );
    const warmStart = performance.now();
    await client.upload(APP, again);
    const warm = (await until(twin, APP, 'version9', 'running')) - warmStart;
    return { cold, warm };
  } finally {
    await twin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const seed = await seedFigures();
  const one = await fanOut(1);
  const fifty = await fanOut(50);
  return {
    ...seed,
    fanOutOneStep: {
      cold: { oneClusterMs: round(one.cold), fiftyClustersMs: round(fifty.cold), ratio: round(fifty.cold / one.cold) },
      warm: { oneClusterMs: round(one.warm), fiftyClustersMs: round(fifty.warm), ratio: round(fifty.warm / one.warm) },
      goal: 'ratio < 3',
      note: 'one process on 2 cores runs the 50 simulated API servers and every worker; cold includes a TLS handshake and API discovery per cluster',
    },
  };
}
