import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '#cli/client.ts';
import type { LocalTwin } from '#local/twin.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import { deploySeedToRunning, startTestTwin, WEB_DEMO, waitFor } from '../e2e/helpers.ts';
import { createOutsideObject, describeOwnershipAttacks, victimConfig } from './ownership-cases.ts';
import { application, configMap, expectUnchanged, ingest, registryFile, World, yamlBundle, type WorldSnapshot } from './world.ts';

/**
 * The hostile-input suite on the sandbox (the ownership cases also run on real kube-apiservers:
 * test/envtest/hostile-real.test.ts): a tenant (`rt`) and a careless or malicious team of the victim's own
 * tenant (`demo`) try to reach what is not theirs, on a twin where the seed (demo/web-demo) runs.
 * Every case asserts the refusal AND that nothing changed on any cluster or in GTM.
 */

const REGISTRY = `
clusters:
  - {name: cluster1-beijing, aliases: [managedcluster-c1], labels: {city: beijing}}
  - {name: cluster2-beijing, aliases: [managedcluster-c2], labels: {city: beijing}}
  - {name: cluster1-hangzhou, aliases: [managedcluster-c3], labels: {city: hangzhou}}
tenants:
  - name: demo
    gtm: [{instance: default, domains: [web-demo.example.com, other.example.com]}]
  - name: rt
    namespaces: [rt, rt-*]
    clusters: [cluster1-beijing, cluster2-beijing]
    gtm: [{instance: default, domains: [rt.example.com]}]
`;

const RT = (name: string): AppRef => ({ namespace: 'rt', name });
const DEMO = (name: string): AppRef => ({ namespace: 'demo', name });

let twin: LocalTwin;
let client: ApiClient;
let cleanup: () => Promise<void>;
let world: World;
let before: WorldSnapshot;

beforeAll(async () => {
  ({ twin, client, cleanup } = await startTestTwin({ clustersFile: registryFile(REGISTRY), gtmVersion: '2.0' }));
  world = new World(
    twin.endpoints.kubeconfig,
    twin.endpoints.clusters.map((c) => c.name),
    twin.gtm,
  );
  await deploySeedToRunning(client);
  // The victim's traffic is in GTM before the attacks start.
  await waitFor(
    async () => twin.gtm.state().answer,
    (answer) => answer.length > 0,
    30_000,
    'the seed in GTM',
  );
  // An object created outside tricenter (by kubectl), in the victim's namespace.
  await createOutsideObject(world);
});

afterAll(async () => {
  await cleanup?.();
});

/** Every case starts from the world as it is now, and must leave it so. */
async function snapshot(): Promise<WorldSnapshot> {
  before = await world.snapshot();
  return before;
}

async function expectRefusedAtIngest(app: AppRef, documents: string[], reason: RegExp): Promise<void> {
  await snapshot();
  const outcome = await ingest(client, yamlBundle(app, documents));
  expect(outcome.outcome).toBe('failed');
  expect(outcome.error).toMatch(reason);
  expect(outcome.runId).toBeUndefined();
  await expectUnchanged(world, before);
}

describe('tenant escape: refused at ingest, before any cluster is touched', () => {
  it('an object in another tenant’s namespace', async () => {
    await expectRefusedAtIngest(
      RT('hijack'),
      [application(RT('hijack'), [victimConfig()])],
      /metadata\.namespace: ConfigMap demo\/web-demo: tenant "rt" may not deploy into namespace "demo"/,
    );
  });

  it('an object in kube-system', async () => {
    await expectRefusedAtIngest(RT('sys'), [application(RT('sys'), [configMap('kube-system', 'sys', { a: 'b' })])], /kube-system/);
  });

  it('kube-system through the topology’s namespace', async () => {
    await expectRefusedAtIngest(
      RT('topo'),
      [application(RT('topo'), [configMap('rt', 'topo', { a: 'b' })], { topologyNamespace: 'kube-system' })],
      /kube-system/,
    );
  });

  it('kube-system through a json-patch override of metadata.namespace', async () => {
    const patch = {
      name: 'move',
      type: 'override',
      properties: {
        components: [
          {
            name: 'patch',
            traits: [
              { type: 'json-patch', properties: { operations: [{ op: 'replace', path: '/metadata/namespace', value: 'kube-system' }] } },
            ],
          },
        ],
      },
    };
    const app = RT('patch');
    const doc = JSON.parse(application(app, [configMap('rt', 'patch', { a: 'b' })])) as { spec: { policies: unknown[] } };
    doc.spec.policies.push(patch);
    const workflow = JSON.stringify({
      apiVersion: 'core.oam.dev/v1alpha1',
      kind: 'Workflow',
      metadata: { name: 'patch', namespace: 'rt' },
      steps: [{ name: 'deploy', type: 'deploy', properties: { policies: ['move', 'where'] } }],
    });
    await expectRefusedAtIngest(app, [JSON.stringify(doc), workflow], /kube-system/);
  });

  it('labels on the kube-system Namespace', async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system', labels: { owned: 'rt' } } };
    await expectRefusedAtIngest(RT('nslabel'), [application(RT('nslabel'), [ns])], /Namespace/);
  });

  it('a ClusterRoleBinding to cluster-admin', async () => {
    const crb = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'rt-admin' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'rt' }],
    };
    await expectRefusedAtIngest(RT('crb'), [application(RT('crb'), [crb])], /ClusterRoleBinding/);
  });

  it('a RoleBinding in its own namespace to the cluster-admin ClusterRole', async () => {
    const rb = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rt-admin', namespace: 'rt' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'rt' }],
    };
    await expectRefusedAtIngest(RT('rb'), [application(RT('rb'), [rb])], /cluster-admin/);
  });

  it('a cluster the tenant may not use', async () => {
    await expectRefusedAtIngest(
      RT('where'),
      [application(RT('where'), [configMap('rt', 'where', { a: 'b' })], { clusters: ['cluster1-hangzhou'] })],
      /cluster1-hangzhou/,
    );
  });

  it('the same cluster through its alias', async () => {
    await expectRefusedAtIngest(
      RT('alias'),
      [application(RT('alias'), [configMap('rt', 'alias', { a: 'b' })], { clusters: ['managedcluster-c3'] })],
      /cluster1-hangzhou|managedcluster-c3/,
    );
  });

  it('a namespace that only looks like an allowed glob (anchored)', async () => {
    await expectRefusedAtIngest(RT('glob'), [application(RT('glob'), [configMap('xrt-1', 'glob', { a: 'b' })])], /xrt-1/);
  });

  it('an Application whose namespace is not the tenant of its key', async () => {
    await expectRefusedAtIngest(
      RT('web-demo'),
      [application(WEB_DEMO, [configMap('demo', 'web-demo', { a: 'b' })])],
      /names application rt\/web-demo.*demo\/web-demo/,
    );
  });

  it('an object whose name Kubernetes would refuse', async () => {
    await expectRefusedAtIngest(
      RT('names'),
      [application(RT('names'), [configMap('rt', 'ok', { a: 'b' }), configMap('rt', 'Bad_Name', { a: 'b' })])],
      /Bad_Name/,
    );
  });
});

describeOwnershipAttacks(() => ({ client, world }));

describe('GTM: an application writes only inside its own claims', () => {
  const traffic = (app: AppRef, domain: string) =>
    JSON.stringify({
      apiVersion: 'tricenter.io/v1alpha1',
      kind: 'TrafficPolicy',
      metadata: { name: app.name, namespace: app.namespace },
      spec: {
        domain,
        ttl: 60,
        ingress: { name: app.name },
        pools: [{ name: 'pool-a', clusters: ['cluster1-beijing'] }],
        healthCheck: { port: 80, interval: 60, evaluationCount: 2, timeout: 5000 },
        access: { primary: 'pool-a' },
      },
    });

  it('the victim’s domain from another tenant', async () => {
    const app = RT('dns');
    await expectRefusedAtIngest(
      app,
      [application(app, [configMap('rt', 'dns', { a: 'b' })]), traffic(app, 'web-demo.example.com')],
      /web-demo\.example\.com/,
    );
  });

  it('the victim’s domain from its own tenant', async () => {
    const app = DEMO('dns-twin');
    await expectRefusedAtIngest(
      app,
      [application(app, [configMap('demo', 'dns-twin', { a: 'b' })]), traffic(app, 'web-demo.example.com')],
      /demo\/web-demo/,
    );
  });

  it('another domain on the GTM 2.0 instance the victim holds (one domain per instance)', async () => {
    const app = RT('dns-instance');
    await expectRefusedAtIngest(
      app,
      [application(app, [configMap('rt', 'dns-instance', { a: 'b' })]), traffic(app, 'rt.example.com')],
      /demo\/web-demo/,
    );
  });

  it('the victim’s DNS answers are unchanged after every attempt', async () => {
    const answer = twin.gtm.state().answer;
    expect(answer.length).toBeGreaterThan(0);
    expect(twin.gtm.state().domain).toBe('web-demo.example.com');
  });
});

describe('bucket keys: anything but bundles/<ns>/<name>.<ext> is recorded as rejected and never deployed', () => {
  const tricks = [
    'bundles/rt/sub/evil.yaml',
    'bundles/rt/web.YAML',
    'bundles/RT/web.yaml',
    'bundles/rt/-web.yaml',
    'bundles/rt/web.yaml.bak',
    'bundles/rt/we\u0431.yaml',
    'bundles/rt/%2e%2e.yaml',
  ];

  it.each(tricks)('%s', async (key) => {
    await snapshot();
    const path = join(twin.endpoints.bucket.root, twin.endpoints.bucket.name, ...key.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, application(WEB_DEMO, [victimConfig()], { version: `trick-${key.length}` }));
    const rejected = await waitFor(
      async () => (await twin.deps.store.listRejectedUploads('bundles/')).items,
      (items) => items.some((item) => item.source.key === key),
      20_000,
      `a rejected-upload record of ${key}`,
    );
    expect(rejected.find((item) => item.source.key === key)?.reason).toMatch(/bundles\/<namespace>\/<name>|lower-case|DNS-1123|extension/);
    expect((await client.status(WEB_DEMO)).publishVersion).toBe('version8');
    await expectUnchanged(world, before);
  });
});

describe('the approval API', () => {
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${twin.endpoints.approvalUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${twin.endpoints.token}`, ...(init.headers ?? {}) },
    });

  it('malformed JSON is a 400 that decides nothing', async () => {
    await snapshot();
    const response = await api('/apps/demo/web-demo/terminate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"comment":',
    });
    expect(response.status).toBe(400);
    expect((await client.status(WEB_DEMO)).phase).toBe('running');
    await expectUnchanged(world, before);
  });

  it('a malformed URI is a 400', async () => {
    const response = await api('/apps/demo/%zz');
    expect(response.status).toBe(400);
  });

  it('a bundle over the limit is a 413 naming it, and nothing is stored', async () => {
    await snapshot();
    const response = await api('/apps/rt/big/bundle', {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'x-bundle-format': 'yaml' },
      body: new Uint8Array(11 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { message: string }).message).toMatch(/MiB/);
    await expectUnchanged(world, before);
  });

  it('an Idempotency-Key reused for another action is refused, not replayed', async () => {
    const headers = { 'content-type': 'application/json', 'idempotency-key': 'hostile-key-1' };
    const first = await api('/apps/rt/nothing/approve', { method: 'POST', headers, body: '{}' });
    expect(first.status).toBe(404);
    const reused = await api('/apps/demo/web-demo/terminate', { method: 'POST', headers, body: '{}' });
    expect([409, 422]).toContain(reused.status);
    expect((await client.status(WEB_DEMO)).phase).toBe('running');
  });

  it('a viewer token cannot decide', async () => {
    const response = await fetch(`${twin.endpoints.approvalUrl}/apps/demo/web-demo/terminate`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-token-of-this-twin', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect((await client.status(WEB_DEMO)).phase).toBe('running');
  });
});
