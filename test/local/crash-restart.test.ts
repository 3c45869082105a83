import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient, packBundle } from '#cli/client.ts';
import type { LocalEndpoints } from '#local/twin.ts';
import { parseClusterRegistry } from '#shared/delivery/model/bundle.ts';
import { loadBundle } from '#shared/delivery/bundle/load.ts';
import { startSandbox } from '#sandbox/index.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import { bumpVersion, variantOfWebDemo } from '../e2e/bundles.ts';
import { WEB_DEMO, waitFor } from '../e2e/helpers.ts';

/**
 * `tricenter local up` killed with SIGKILL and started again on the same state folder, as a person
 * would do it: child processes, the real CLI, the seed bundle. The run must still be there (waiting,
 * or finishing what it was doing), `approve` must work, and every cluster must end on one version.
 */
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/tricenter.mjs');
const PUBLISH_VERSION = 'app.oam.dev/publishVersion';

interface Up {
  child: ChildProcess;
  endpoints: LocalEndpoints;
  client: ApiClient;
  output(): string;
  exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function stateFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tricenter-crash-'));
  dirs.push(dir);
  return dir;
}

function launch(dir: string, extra: string[]): { child: ChildProcess; output(): string; exited: Promise<number | null> } {
  const args = [
    'local',
    'up',
    '--no-demo',
    '--manual-approval',
    '--dir',
    dir,
    '--approval-port',
    '0',
    '--data-plane-port',
    '0',
    '--ready-delay',
    '1000',
    '--probe-scale',
    '0.01',
    ...extra,
  ];
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Starts `local up` and waits until it says it is serving. */
async function up(dir: string, extra: string[] = []): Promise<Up> {
  const started = launch(dir, extra);
  const ready = await Promise.race([
    waitFor(
      async () => started.output(),
      (text) => text.includes('The local twin keeps running'),
      45_000,
      'local up to serve',
    ),
    started.exited.then((code) => {
      throw new Error(`local up exited with ${String(code)}: ${started.output()}`);
    }),
  ]);
  expect(ready).toContain('approval API');
  const endpoints = JSON.parse(readFileSync(join(dir, 'endpoints.json'), 'utf8')) as LocalEndpoints;
  return { ...started, endpoints, client: new ApiClient({ endpoint: endpoints.approvalUrl, token: endpoints.token }) };
}

/** Starts `local up` expecting a refusal: its exit code and what it printed. */
async function refused(dir: string, extra: string[] = []): Promise<{ code: number | null; output: string }> {
  const started = launch(dir, extra);
  const code = await Promise.race([
    started.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`local up did not exit: ${started.output()}`)), 45_000)),
  ]);
  return { code, output: started.output() };
}

async function kill9(twin: Up): Promise<void> {
  twin.child.kill('SIGKILL');
  await twin.exited;
}

async function upload(client: ApiClient, bundleDir = 'examples/web-demo'): Promise<void> {
  const packed = await packBundle(resolve(ROOT, bundleDir));
  await client.upload(packed.app, packed);
}

function until(client: ApiClient, accept: (s: AppStatus) => boolean, what: string, timeoutMs = 30_000): Promise<AppStatus> {
  return waitFor(() => client.status(WEB_DEMO), accept, timeoutMs, what);
}

/** The demo's Deployments on every cluster, read from the clusters themselves: version and readiness. */
async function deploymentsEverywhere(
  endpoints: LocalEndpoints,
): Promise<Array<{ cluster: string; version: string; image: string; ready: boolean }>> {
  const kc = new KubeConfig();
  kc.loadFromFile(endpoints.kubeconfig);
  return Promise.all(
    endpoints.clusters.map(async ({ name }) => {
      kc.setCurrentContext(name);
      const list = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: WEB_DEMO.namespace });
      const d = list.items.find((item) => item.metadata?.labels?.['app.oam.dev/name'] === WEB_DEMO.name);
      return {
        cluster: name,
        version: d?.metadata?.annotations?.[PUBLISH_VERSION] ?? '(none)',
        image: d?.spec?.template.spec?.containers[0]?.image ?? '(none)',
        ready: d !== undefined && d.status?.observedGeneration === d.metadata?.generation && d.status?.readyReplicas === d.spec?.replicas,
      };
    }),
  );
}

async function expectOneVersion(endpoints: LocalEndpoints, version: string): Promise<void> {
  const deployments = await waitFor(
    () => deploymentsEverywhere(endpoints),
    (all) => all.every((d) => d.ready),
    20_000,
    'every Deployment ready',
  );
  expect(deployments.map((d) => d.version)).toEqual(endpoints.clusters.map(() => version));
  expect(new Set(deployments.map((d) => d.image)).size).toBe(1);
}

describe('local up after a SIGKILL', () => {
  let suspendedDir: string;
  let resumed: Up;

  it('killed while the run waits for approval: the run is still waiting, approve works (even with the endpoints read before the kill), all clusters end on one version', async () => {
    suspendedDir = stateFolder();
    const first = await up(suspendedDir);
    await upload(first.client);
    const waiting = await until(first.client, (s) => s.phase === 'workflowSuspending', 'the approval gate');
    const killedAt = Date.now();
    await kill9(first);
    // The dead process's lock is still there: the next start takes it over.
    expect(JSON.parse(readFileSync(join(suspendedDir, 'lock'), 'utf8'))).toEqual({ pid: first.child.pid });

    resumed = await up(suspendedDir);
    const status = await until(first.client, () => true, 'the approval API of the restarted twin');
    console.log(`restart: kill -> approval API answering in ${Date.now() - killedAt} ms (including the CLI's start)`);
    expect(resumed.output()).toContain(`Resumed the state folder ${suspendedDir}`);
    expect(resumed.endpoints).toMatchObject({ approvalUrl: first.endpoints.approvalUrl, token: first.endpoints.token });
    expect(status).toMatchObject({ phase: 'workflowSuspending', runId: waiting.runId });
    expect(status.steps.find((s) => s.awaiting === 'approval')).toBeDefined();

    await first.client.decide(WEB_DEMO, 'approve', 'after the crash');
    const running = await until(first.client, (s) => s.phase === 'running', 'running after the approval');
    expect(running.runId).toBe(waiting.runId);
    await expectOneVersion(resumed.endpoints, 'version8');
  }, 120_000);

  it('a second local up on the same state folder refuses, naming the pid that holds it', async () => {
    const second = await refused(suspendedDir);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain(`state folder ${suspendedDir} is in use by another tricenter local up (pid ${resumed.child.pid}`);
    // The running twin is untouched.
    expect((await resumed.client.status(WEB_DEMO)).phase).toBe('running');
  }, 60_000);

  it('--fresh wipes the state folder: no run, new secrets, empty clusters', async () => {
    resumed.child.kill('SIGTERM');
    expect(await resumed.exited).toBe(0);
    const fresh = await up(suspendedDir, ['--fresh']);
    expect(fresh.output()).not.toContain('Resumed');
    expect(fresh.endpoints.token).not.toBe(resumed.endpoints.token);
    await expect(fresh.client.status(WEB_DEMO)).rejects.toThrow(/404/);
    expect((await deploymentsEverywhere(fresh.endpoints)).map((d) => d.version)).toEqual(fresh.endpoints.clusters.map(() => '(none)'));
    await kill9(fresh);
  }, 60_000);

  it('killed mid-rollout of a new version (a step applying and waiting for health): after the restart the run finishes and no cluster stays on the old version', async () => {
    const dir = stateFolder();
    const first = await up(dir);
    await upload(first.client);
    await until(first.client, (s) => s.phase === 'workflowSuspending', 'version8 at the gate');
    await first.client.decide(WEB_DEMO, 'approve');
    await until(first.client, (s) => s.phase === 'running', 'version8 running');

    await upload(first.client, variantOfWebDemo({ 'app.yaml': bumpVersion('version9') }));
    await until(first.client, (s) => s.publishVersion === 'version9' && s.phase === 'workflowSuspending', 'version9 at the gate');
    await first.client.decide(WEB_DEMO, 'approve');
    const rolling = await until(
      first.client,
      (s) =>
        s.steps.some(
          (step, i) => i > 0 && step.type === 'deploy' && step.phase === 'running' && step.clusters.some((c) => c.status === 'sent'),
        ),
      'the last step to be rolling out',
    );
    await kill9(first);
    expect(rolling.phase).toBe('runningWorkflow');

    const second = await up(dir);
    const done = await until(
      second.client,
      (s) => s.publishVersion === 'version9' && s.phase === 'running',
      'version9 running after the restart',
    );
    expect(done.runId).toBe(rolling.runId);
    await expectOneVersion(second.endpoints, 'version9');
    await kill9(second);
  }, 120_000);

  it('--kubeconfig (clusters that outlive the twin): killed while waiting for approval, the run resumes and finishes', async () => {
    const dir = stateFolder();
    // Clusters of their own, in this process: they keep running while the twin is killed, as real ones do.
    const registry = parseClusterRegistry(await loadBundle(join(ROOT, 'examples/web-demo/clusters.yaml')));
    const clusters = await startSandbox({ clusters: registry.clusters, dir: join(dir, 'clusters'), readyDelayMs: 200, dataPlanePort: 0 });
    try {
      const first = await up(dir, ['--kubeconfig', clusters.kubeconfigPath]);
      await upload(first.client);
      const waiting = await until(first.client, (s) => s.phase === 'workflowSuspending', 'the approval gate');
      await kill9(first);

      const second = await up(dir, ['--kubeconfig', clusters.kubeconfigPath]);
      expect(second.output()).toContain('Resumed the state folder');
      expect(await second.client.status(WEB_DEMO)).toMatchObject({ phase: 'workflowSuspending', runId: waiting.runId });
      await second.client.decide(WEB_DEMO, 'approve');
      await until(second.client, (s) => s.phase === 'running', 'running after the approval');
      await expectOneVersion({ ...second.endpoints, kubeconfig: clusters.kubeconfigPath }, 'version8');
      await kill9(second);

      // The same folder with simulated clusters would deploy the runs somewhere else: refused.
      const other = await refused(dir);
      expect(other.code).not.toBe(0);
      expect(other.output).toContain(`was used with the clusters of ${clusters.kubeconfigPath}`);
    } finally {
      await clusters.stop();
    }
  }, 120_000);

  describe('abuse', () => {
    it('a damaged run store is refused with the file named and what to do, and nothing is wiped', async () => {
      const dir = stateFolder();
      const first = await up(dir);
      await upload(first.client);
      await until(first.client, (s) => s.phase === 'workflowSuspending', 'the approval gate');
      // Stopped cleanly, so that the store is whole in its file (after a SIGKILL its pages are in the
      // write-ahead log, which SQLite replays; a torn log tail it drops by design).
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      const store = join(dir, 'state.db');
      writeFileSync(store, 'overwritten by accident\n'.repeat(200));
      const before = readFileSync(store);

      const second = await refused(dir);
      expect(second.code).not.toBe(0);
      expect(second.output).toContain(`state file ${store} cannot be read as the run store`);
      expect(second.output).toContain('--fresh');
      expect(readFileSync(store).equals(before)).toBe(true);
      expect(readFileSync(join(dir, 'twin.json'), 'utf8')).toContain('"format": 1');
    }, 90_000);
  });
});
