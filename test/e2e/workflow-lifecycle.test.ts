import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import { bumpVersion, variantOfWebDemo } from './bundles.ts';
import { packTarGz } from './pack.ts';
import { startTestTwin, waitFor, waitForPhase, WEB_DEMO } from './helpers.ts';

/** Releases over time on the local twin: new versions, pruning, bad bundles, a rollout that never gets healthy. */
describe('workflow lifecycle on the local twin', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin());
  });
  afterAll(async () => cleanup?.());

  const upload = async (dir: string) => {
    const packed = await packBundle(dir);
    return client.upload(packed.app, packed);
  };
  const deployAll = async (dir: string, version: string) => {
    await upload(dir);
    await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === version && s.phase === 'workflowSuspending',
      20_000,
      `${version} at the approval gate`,
    );
    await client.decide(WEB_DEMO, 'approve');
    return waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === version && s.phase === 'running',
      20_000,
      `${version} running`,
    );
  };

  it('a bad bundle becomes a failed record that status shows, and nothing is applied', async () => {
    const broken = variantOfWebDemo({ 'app.yaml': (t) => t.replace('type: scaler', 'type: scaler-typo') });
    // The CLI would refuse it before upload; send the bytes as any OSS client could.
    await client.upload(WEB_DEMO, { app: WEB_DEMO, format: 'tar.gz', data: await packTarGz(broken) });
    const status = await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.lastFailedIngest !== undefined,
      10_000,
      'the failed record',
    );
    expect(status.phase).toBe('none');
    expect(status.lastFailedIngest?.error).toMatch(/app\.yaml.*scaler-typo.*(env|scaler)/s);
    for (const cluster of twin.sandbox.clusters) expect(await twin.deps.gateway.listOwned(cluster.name, WEB_DEMO)).toEqual([]);
  });

  it('a new publishVersion terminates the running run and starts a new one', async () => {
    await upload('examples/web-demo');
    const first = await waitForPhase(client, 'workflowSuspending');
    await upload(variantOfWebDemo({ 'app.yaml': bumpVersion('version9') }));
    const second = await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === 'version9' && s.phase === 'workflowSuspending',
      20_000,
      'version9 suspended',
    );
    expect(second.runId).not.toBe(first.runId);
    const { runs } = await client.runs(WEB_DEMO);
    expect(runs.map((r) => [r.publishVersion, r.phase])).toEqual([
      ['version9', 'workflowSuspending'],
      ['version8', 'workflowTerminated'],
    ]);
    expect(String(runs[1]?.reason)).toContain(String(second.runId));
  });

  it('an object the new release no longer has is pruned once it succeeds, everywhere', async () => {
    await client.decide(WEB_DEMO, 'approve');
    await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === 'version9' && s.phase === 'running',
      20_000,
      'version9 running',
    );
    const ingressNames = async () =>
      Promise.all(twin.sandbox.clusters.map(async (c) => (await twin.deps.gateway.listOwned(c.name, WEB_DEMO)).map((r) => r.kind).sort()));
    expect(await ingressNames()).toEqual(twin.sandbox.clusters.map(() => ['ConfigMap', 'Deployment', 'Ingress', 'Service']));

    const withoutIngress = variantOfWebDemo({
      'app.yaml': (t) =>
        bumpVersion('version10')(t).replace(/\n\s+- apiVersion: networking\.k8s\.io\/v1\n\s+kind: Ingress\n\s+name: web-demo/, ''),
    });
    await deployAll(withoutIngress, 'version10');
    await waitFor(ingressNames, (kinds) => kinds.every((k) => !k.includes('Ingress')), 10_000, 'the Ingress pruned on every cluster');
    expect(await ingressNames()).toEqual(twin.sandbox.clusters.map(() => ['ConfigMap', 'Deployment', 'Service']));
  });

  it('rollback starts a run of the newest earlier release that succeeded', async () => {
    await client.decide(WEB_DEMO, 'rollback', 'the Ingress is needed after all');
    const rolled = await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === 'version9' && s.phase === 'workflowSuspending',
      20_000,
      'rollback to version9',
    );
    expect(rolled.steps[0]?.phase).toBe('succeeded');
  });

  it('an image that never becomes ready fails the run at the step deadline, with the deadline as reason', async () => {
    const neverReady = variantOfWebDemo({
      'app-meta.yaml': (t) => t.replace('web-demo:0.4.0', 'web-demo:fail'),
      'app.yaml': (t) =>
        bumpVersion('version11')(t).replace('    name: deploy-cluster1-beijing\n', '    name: deploy-cluster1-beijing\n    timeout: 3s\n'),
    });
    await upload(neverReady);
    const failed = await waitFor(
      () => client.status(WEB_DEMO),
      (s) => s.publishVersion === 'version11' && s.phase === 'workflowFailed',
      20_000,
      'version11 failed',
    );
    expect(failed.reason).toMatch(/deploy-cluster1-beijing.*deadline.*3s.*cluster1-beijing/s);
    expect(failed.steps.slice(1).map((s) => s.phase)).toEqual(['skipped', 'skipped']);
  });
});
