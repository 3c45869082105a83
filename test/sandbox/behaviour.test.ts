import { request } from 'node:http';
import { PatchStrategy } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, deployment, exampleManifests, failure, testSandbox, watchUntil, type Clients } from './helpers.ts';

/** What the sandbox's controllers, data plane and faults do, as a client and a browser would see it. */
let sandbox: Awaited<ReturnType<typeof testSandbox>>;
const clients: Record<string, Clients> = {};
const NAMES = ['east', 'west'];

async function applyAll(c: Clients, objects: Array<Record<string, any>>): Promise<void> {
  for (const obj of objects) await c.objects.patch(obj as any, undefined, undefined, 'test', true, PatchStrategy.ServerSideApply);
}

function httpGet(url: string, host: string, accept?: string): Promise<{ code: number; text: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { Host: host, ...(accept ? { Accept: accept } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

const dataPlane = (name: string): string => sandbox.clusters.find((c) => c.name === name)?.dataPlaneUrl ?? '';
const demoReady = (c: Clients) =>
  watchUntil(
    c.kc,
    '/apis/apps/v1/namespaces/demo/deployments',
    'web-demo',
    (d) => d.status?.updatedReplicas === 5 && d.status?.availableReplicas === 5 && d.status?.observedGeneration === d.metadata.generation,
    'web-demo rolled out',
  );

beforeAll(async () => {
  sandbox = await testSandbox(NAMES, { readyDelayMs: 200 });
  for (const name of NAMES) {
    clients[name] = clientsFor(sandbox, name);
    await applyAll(clients[name] as Clients, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'demo' } }, ...exampleManifests()]);
  }
});
afterAll(async () => sandbox?.cleanup());

describe('deployment controller', () => {
  it('reports progress, then a completed rollout after the ready delay', async () => {
    const c = clients.east as Clients;
    const created = (await c.objects.patch(
      deployment('slow', 'demo', { replicas: 3 }) as any,
      undefined,
      undefined,
      'test',
      true,
      PatchStrategy.ServerSideApply,
    )) as Record<string, any>;
    const seen: Array<Record<string, any>> = [];
    const ready = await watchUntil(
      c.kc,
      '/apis/apps/v1/namespaces/demo/deployments',
      'slow',
      (d) => {
        seen.push(d);
        return d.status?.readyReplicas === 3;
      },
      'slow ready',
      { resourceVersion: created.metadata.resourceVersion },
    );
    const progressing = seen.find((d) => d.status?.observedGeneration === 1 && !d.status?.readyReplicas);
    expect(progressing?.status).toMatchObject({ replicas: 3, updatedReplicas: 3, unavailableReplicas: 3 });
    expect(progressing?.status.conditions).toEqual([
      expect.objectContaining({ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' }),
      expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }),
    ]);
    expect(ready.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(ready.status.conditions).toEqual([
      expect.objectContaining({ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }),
      expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }),
    ]);
  });

  it('restarts the rollout on a spec change, and an image tagged `fail` never becomes ready', async () => {
    const c = clients.east as Clients;
    const changed = (await c.objects.patch(
      deployment('slow', 'demo', { replicas: 3, image: 'nginx:fail' }) as any,
      undefined,
      undefined,
      'test',
      true,
      PatchStrategy.ServerSideApply,
    )) as Record<string, any>;
    expect(changed.metadata.generation).toBe(2);
    const observed = await watchUntil(
      c.kc,
      '/apis/apps/v1/namespaces/demo/deployments',
      'slow',
      (d) => d.status?.observedGeneration === 2,
      'generation 2 observed',
    );
    expect(observed.status.updatedReplicas).toBeUndefined();
    expect(observed.status.conditions).toContainEqual(expect.objectContaining({ type: 'Progressing', reason: 'ReplicaSetUpdated' }));
    // A later, unrelated write must not find the failing rollout completed, however long it waited.
    const fresh = (await c.objects.patch(
      deployment('fresh-fail', 'demo', { image: 'registry.local/app:fail' }) as any,
      undefined,
      undefined,
      'test',
      true,
      PatchStrategy.ServerSideApply,
    )) as Record<string, any>;
    const failing = await watchUntil(
      c.kc,
      '/apis/apps/v1/namespaces/demo/deployments',
      'fresh-fail',
      (d) => d.status?.observedGeneration === 1,
      'fresh-fail observed',
    );
    expect(failing.status.readyReplicas).toBeUndefined();
    expect(failing.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }),
    );
    expect(fresh.metadata.generation).toBe(1);
  });

  it("gives each Ingress its cluster's own address", async () => {
    for (const [index, name] of NAMES.entries()) {
      const ingress = await watchUntil(
        (clients[name] as Clients).kc,
        '/apis/networking.k8s.io/v1/namespaces/demo/ingresses',
        'web-demo',
        (i) => (i.status?.loadBalancer?.ingress ?? []).length > 0,
        'an address',
      );
      expect(ingress.status.loadBalancer.ingress).toEqual([{ ip: `127.0.0.${2 + index}` }]);
      expect(sandbox.clusters[index]?.ingressAddress).toBe(`127.0.0.${2 + index}`);
    }
  });
});

describe('data plane', () => {
  it('answers as the pod would: cluster, env, mounted ConfigMap files (text and JSON)', async () => {
    await demoReady(clients.west as Clients);
    const text = await httpGet(`${dataPlane('west')}/`, 'web-demo.example.com');
    expect(text.code).toBe(200);
    expect(text.text).toContain('cluster: west');
    expect(text.text).toContain('ENV_NAME=cluster1-beijing');
    expect(text.text).toContain('/config-file/config.json:');
    expect(text.text).toContain('database-host: "beijing-db.pg.aliyun.com"');

    const json = await httpGet(`${dataPlane('west')}/any/path?format=json`, 'web-demo.example.com');
    expect(json.type).toContain('application/json');
    const body = JSON.parse(json.text) as Record<string, any>;
    expect(body).toMatchObject({ cluster: 'west', namespace: 'demo', deployment: 'web-demo', env: { ENV_NAME: 'cluster1-beijing' } });
    expect(body.files['/config-file/config.json']).toContain('beijing-db.pg.aliyun.com');
    expect(JSON.parse((await httpGet(`${dataPlane('west')}/`, 'web-demo.example.com', 'application/json')).text).cluster).toBe('west');
  });

  it('resolves env from a ConfigMap key and serves the live ConfigMap content', async () => {
    const c = clients.west as Clients;
    await applyAll(c, [
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'web-demo', namespace: 'demo' },
        data: { 'config.json': '{"v": 2}\n', region: 'north' },
      },
    ]);
    const manifest = exampleManifests().find((m) => m.kind === 'Deployment') as Record<string, any>;
    manifest.spec.template.spec.containers[0].env.push({
      name: 'REGION',
      valueFrom: { configMapKeyRef: { name: 'web-demo', key: 'region' } },
    });
    await applyAll(c, [manifest]);
    await demoReady(c);
    const body = JSON.parse((await httpGet(`${dataPlane('west')}/?format=json`, 'web-demo.example.com')).text) as Record<string, any>;
    expect(body.env).toEqual({ ENV_NAME: 'cluster1-beijing', REGION: 'north' });
    expect(body.files).toEqual({ '/config-file/config.json': '{"v": 2}\n' });
  });

  it('keeps serving the ready revision while a new one rolls out (here: never, its image fails)', async () => {
    const c = clients.west as Clients;
    const manifest = exampleManifests().find((m) => m.kind === 'Deployment') as Record<string, any>;
    manifest.spec.template.spec.containers[0].env = [{ name: 'ENV_NAME', value: 'next' }];
    manifest.spec.template.spec.containers[0].image = 'web-demo:fail';
    await applyAll(c, [manifest]);
    await watchUntil(
      c.kc,
      '/apis/apps/v1/namespaces/demo/deployments',
      'web-demo',
      (d) => d.status?.observedGeneration === d.metadata.generation,
      'the new generation observed',
    );
    const body = JSON.parse((await httpGet(`${dataPlane('west')}/?format=json`, 'web-demo.example.com')).text) as Record<string, any>;
    expect(body.env.ENV_NAME).toBe('cluster1-beijing');
  });

  it('answers 404 without a matching rule and 503 without a ready backend', async () => {
    const unknownHost = await httpGet(`${dataPlane('west')}/`, 'nobody.example.com');
    expect(unknownHost.code).toBe(404);
    expect(unknownHost.text).toContain('<center>nginx</center>');
    const c = clients.west as Clients;
    await applyAll(c, [
      deployment('broken', 'demo', { image: 'app:fail' }),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'broken', namespace: 'demo' },
        spec: { selector: { app: 'broken' }, ports: [{ port: 80, protocol: 'TCP' }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'broken', namespace: 'demo' },
        spec: {
          rules: [
            {
              host: 'broken.example.com',
              http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'broken', port: { number: 80 } } } }] },
            },
          ],
        },
      },
    ]);
    const unavailable = await httpGet(`${dataPlane('west')}/`, 'broken.example.com');
    expect(unavailable.code).toBe(503);
    expect(unavailable.text).toContain('503 Service Temporarily Unavailable');
  });
});

describe('faults', () => {
  const apiError = async (name: string): Promise<string> => {
    try {
      await (clients[name] as Clients).core.listNamespace();
      return 'none';
    } catch (err) {
      const e = err as { code?: string; cause?: { code?: string } };
      return e.code ?? e.cause?.code ?? String(err);
    }
  };

  it('data-plane-down answers 503 while the API keeps working; heal restores both', async () => {
    await demoReady(clients.east as Clients);
    await sandbox.setFault('east', 'data-plane-down');
    expect((await httpGet(`${dataPlane('east')}/`, 'web-demo.example.com')).code).toBe(503);
    expect(await apiError('east')).toBe('none');
    expect((await httpGet(`${dataPlane('west')}/`, 'web-demo.example.com')).code).toBe(200);
    await sandbox.setFault('east', 'none');
    expect((await httpGet(`${dataPlane('east')}/`, 'web-demo.example.com')).code).toBe(200);
  });

  it('api-unreachable refuses connections on the same port until healed', async () => {
    await sandbox.setFault('east', 'api-unreachable');
    expect(await apiError('east')).toBe('ECONNREFUSED');
    expect((await httpGet(`${dataPlane('east')}/`, 'web-demo.example.com')).code).toBe(200);
    await sandbox.setFault('east', 'none');
    expect(await apiError('east')).toBe('none');
  });

  it('both: the API refuses and the data plane answers 503; the other cluster is untouched', async () => {
    await sandbox.setFault('east', 'both');
    expect(await apiError('east')).toBe('ECONNREFUSED');
    expect((await httpGet(`${dataPlane('east')}/`, 'web-demo.example.com')).code).toBe(503);
    expect(await apiError('west')).toBe('none');
    await sandbox.setFault('east', 'none');
    expect(await apiError('east')).toBe('none');
    expect((await failure((clients.east as Clients).core.readNamespace({ name: 'absent' }))).code).toBe(404);
  });

  it('counts the API requests each cluster served', async () => {
    sandbox.resetStats();
    await (clients.west as Clients).core.listNamespace();
    await (clients.west as Clients).core.readNamespace({ name: 'demo' });
    expect(sandbox.stats('west')).toEqual({ requests: 2, byVerb: { list: 1, get: 1 } });
    expect(sandbox.stats('east').requests).toBe(0);
  });
});
