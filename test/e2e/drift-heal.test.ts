import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packBundle, type ApiClient } from '#cli/client.ts';
import { formatStatus } from '#cli/status-view.ts';
import type { LocalTwin } from '#local/twin.ts';
import { sweepDrift } from '#shared/delivery/usecases/keep-state.ts';
import type { AppStatus } from '#shared/delivery/usecases/status.ts';
import { rawRequest } from '../helpers/kube-raw.ts';
import { deploySeedToRunning, startTestTwin, waitForPhase, WEB_DEMO } from './helpers.ts';

/**
 * Drift and self-heal on the local twin: objects edited and deleted behind tricenter's back through
 * the sandbox's Kubernetes API (what `kubectl edit`, `kubectl scale`, `kubectl delete` send), then a
 * sweep round. The twin's own timer is slowed to an hour so that each round here is the test's.
 */
const DEPLOYMENT = '/apis/apps/v1/namespaces/demo/deployments/web-demo';
const CONFIGMAP = '/api/v1/namespaces/demo/configmaps/web-demo';
const SERVICE = '/api/v1/namespaces/demo/services/web-demo';

describe('drift: found, shown, healed, recorded', () => {
  let twin: LocalTwin;
  let client: ApiClient;
  let cleanup: () => Promise<void>;
  const bundles = mkdtempSync(join(tmpdir(), 'tricenter-drift-bundles-'));

  const kube = (cluster: string) => {
    const config = new KubeConfig();
    config.loadFromFile(twin.endpoints.kubeconfig);
    config.setCurrentContext(cluster);
    return config;
  };
  const get = async (cluster: string, path: string) => (await rawRequest(kube(cluster), { method: 'GET', path })).body as any;
  const kubectlPatch = async (cluster: string, path: string, body: unknown) => {
    const response = await rawRequest(kube(cluster), {
      method: 'PATCH',
      path,
      body,
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
  };
  const driftOf = (status: AppStatus, cluster: string) => status.clusters.find((c) => c.cluster === cluster)?.drift;

  /** The seed bundle with `edit` applied to its app.yaml and a new publishVersion, deployed to `running` (approving the gate). */
  const deployVariant = async (version: string, edit: (appYaml: string) => string): Promise<AppStatus> => {
    const dir = join(bundles, version);
    cpSync('examples/web-demo', dir, { recursive: true });
    const appYaml = readFileSync(join(dir, 'app.yaml'), 'utf8').replace('publishVersion: version8', `publishVersion: ${version}`);
    writeFileSync(join(dir, 'app.yaml'), edit(appYaml));
    const packed = await packBundle(dir);
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending');
    await client.decide(WEB_DEMO, 'approve');
    const status = await waitForPhase(client, 'running');
    expect(status.publishVersion).toBe(version);
    return status;
  };

  beforeAll(async () => {
    ({ twin, client, cleanup } = await startTestTwin({ timerIntervalMs: 3_600_000 }));
    await deploySeedToRunning(client);
  });
  afterAll(async () => {
    await cleanup?.();
    rmSync(bundles, { recursive: true, force: true });
  });

  it('a running release is in sync everywhere, and a round changes nothing', async () => {
    const status = await client.status(WEB_DEMO);
    for (const cluster of ['cluster1-beijing', 'cluster2-beijing', 'cluster1-hangzhou']) {
      expect(driftOf(status, cluster)).toEqual({ inSync: 4, objects: [] });
    }
    expect(formatStatus(status)).toMatch(/DRIFT/);
    expect(formatStatus(status)).toMatch(/in sync/);
    const round = await sweepDrift(twin.deps);
    expect(round).toMatchObject({ apps: 1, clusters: 3, objects: 12, drifted: 0, healed: 0, unobserved: [] });
    expect((await client.status(WEB_DEMO)).driftEvents).toBeUndefined();
  });

  it('an edit and a delete show as DRIFT, one round heals both and records each heal', async () => {
    await kubectlPatch('cluster1-beijing', DEPLOYMENT, {
      spec: { replicas: 2, template: { spec: { containers: [{ name: 'web-demo', image: 'evil.example.com/miner:1' }] } } },
    });
    const deleted = await rawRequest(kube('cluster2-beijing'), { method: 'DELETE', path: CONFIGMAP });
    expect(deleted.status).toBe(200);

    const drifted = await client.status(WEB_DEMO);
    expect(driftOf(drifted, 'cluster1-beijing')?.objects).toEqual([
      {
        object: 'apps/v1 Deployment demo/web-demo',
        state: 'modified',
        fields: expect.arrayContaining(['spec.replicas', 'spec.template.spec.containers[0].image']),
      },
    ]);
    expect(driftOf(drifted, 'cluster2-beijing')?.objects).toEqual([{ object: 'v1 ConfigMap demo/web-demo', state: 'missing' }]);
    expect(driftOf(drifted, 'cluster1-hangzhou')?.objects).toEqual([]);
    const text = formatStatus(drifted);
    expect(text).toMatch(/cluster1-beijing .* 1 drifted/);
    expect(text).toMatch(/DRIFTED OBJECT/);

    const round = await sweepDrift(twin.deps);
    expect(round).toMatchObject({ drifted: 2, healed: 2, healFailed: 0, reported: 0 });

    const live = await get('cluster1-beijing', DEPLOYMENT);
    expect(live.spec.replicas).toBe(5);
    expect(live.spec.template.spec.containers[0].image).toMatch(/web-demo:0\.4\.0$/);
    expect((await get('cluster2-beijing', CONFIGMAP)).data['config.json']).toContain('beijing-db');

    const healed = await client.status(WEB_DEMO);
    for (const cluster of ['cluster1-beijing', 'cluster2-beijing']) expect(driftOf(healed, cluster)?.objects).toEqual([]);
    expect(healed.driftEvents).toEqual([
      expect.objectContaining({ cluster: expect.any(String), action: 'healed', at: expect.any(Number) }),
      expect.objectContaining({ cluster: expect.any(String), action: 'healed' }),
    ]);
    expect(healed.driftEvents).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ cluster: 'cluster1-beijing', object: 'apps/v1 Deployment demo/web-demo', state: 'modified' }),
        expect.objectContaining({ cluster: 'cluster2-beijing', object: 'v1 ConfigMap demo/web-demo', state: 'missing' }),
      ]),
    );
    expect(formatStatus(healed)).toMatch(/DRIFT AT .*\n.*healed/);

    // Healed is healed: the next round finds nothing and writes nothing.
    expect(await sweepDrift(twin.deps)).toMatchObject({ drifted: 0, healed: 0 });
    expect((await client.status(WEB_DEMO)).driftEvents).toHaveLength(2);
  });

  it('abuse: an object re-created by someone else under our name is reported, never overwritten', async () => {
    expect((await rawRequest(kube('cluster1-hangzhou'), { method: 'DELETE', path: SERVICE })).status).toBe(200);
    const theirs = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web-demo', namespace: 'demo', labels: { team: 'someone-else' } },
      spec: { selector: { app: 'theirs' }, ports: [{ port: 81, protocol: 'TCP' }] },
    };
    const created = await rawRequest(kube('cluster1-hangzhou'), { method: 'POST', path: '/api/v1/namespaces/demo/services', body: theirs });
    expect(created.status).toBe(201);

    const round = await sweepDrift(twin.deps);
    expect(round).toMatchObject({ drifted: 1, healed: 0, reported: 1 });
    const live = await get('cluster1-hangzhou', SERVICE);
    expect(live.spec.selector).toEqual({ app: 'theirs' });
    expect(live.metadata.labels).toEqual({ team: 'someone-else' });
    const status = await client.status(WEB_DEMO);
    expect(driftOf(status, 'cluster1-hangzhou')?.objects).toEqual([{ object: 'v1 Service demo/web-demo', state: 'foreign' }]);
    expect(status.driftEvents?.at(-1)).toMatchObject({ cluster: 'cluster1-hangzhou', state: 'foreign', action: 'reported' });

    // Reported once, not once per round.
    await sweepDrift(twin.deps);
    expect((await client.status(WEB_DEMO)).driftEvents).toHaveLength(3);
    // Hand it back, as its owner would, so that the next release can deploy there.
    expect((await rawRequest(kube('cluster1-hangzhou'), { method: 'DELETE', path: SERVICE })).status).toBe(200);
  });

  it('apply-once: the listed path keeps the edit, everything else of the object is healed', async () => {
    const applyOnce = `apiVersion: core.oam.dev/v1alpha1
kind: Policy
metadata: {name: replicas-by-hpa, namespace: demo}
type: apply-once
properties:
  enable: true
  rules:
    - selector: {resourceTypes: [Deployment]}
      strategy: {path: ["spec.replicas"]}
---
`;
    await deployVariant('version9-apply-once', (yaml) => `${applyOnce}${yaml}`);
    await kubectlPatch('cluster1-beijing', DEPLOYMENT, {
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'web-demo', image: 'evil.example.com/miner:1' }] } } },
    });
    // The replicas edit alone is no drift; the image is.
    const drifted = await client.status(WEB_DEMO);
    expect(driftOf(drifted, 'cluster1-beijing')?.objects).toEqual([
      { object: 'apps/v1 Deployment demo/web-demo', state: 'modified', fields: ['spec.template.spec.containers[0].image'] },
    ]);
    expect(await sweepDrift(twin.deps)).toMatchObject({ healed: 1 });
    const live = await get('cluster1-beijing', DEPLOYMENT);
    expect(live.spec.replicas).toBe(3);
    expect(live.spec.template.spec.containers[0].image).toMatch(/web-demo:0\.4\.0$/);
    expect(driftOf(await client.status(WEB_DEMO), 'cluster1-beijing')?.objects).toEqual([]);
    expect(await sweepDrift(twin.deps)).toMatchObject({ drifted: 0 });
  });

  it('selfHeal false: drift is reported (once), never applied again', async () => {
    await deployVariant('version10-no-self-heal', (yaml) =>
      yaml.replace('    app.oam.dev/publishVersion:', '    tricenter.io/self-heal: "false"\n    app.oam.dev/publishVersion:'),
    );
    await kubectlPatch('cluster2-beijing', DEPLOYMENT, { spec: { replicas: 1 } });
    const first = await sweepDrift(twin.deps);
    expect(first).toMatchObject({ drifted: 1, healed: 0, reported: 1 });
    expect((await get('cluster2-beijing', DEPLOYMENT)).spec.replicas).toBe(1);
    const status = await client.status(WEB_DEMO);
    expect(driftOf(status, 'cluster2-beijing')?.objects).toEqual([
      { object: 'apps/v1 Deployment demo/web-demo', state: 'modified', fields: ['spec.replicas'] },
    ]);
    expect(status.driftEvents).toEqual([
      expect.objectContaining({ cluster: 'cluster2-beijing', action: 'reported', reason: expect.stringMatching(/self-heal is off/) }),
    ]);
    await sweepDrift(twin.deps);
    expect((await client.status(WEB_DEMO)).driftEvents).toHaveLength(1);
  });
});
