import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TricenterError } from '#shared/platform/errors.ts';
import { classifyKubeError } from '#shared/delivery/adapters/kube/errors.ts';
import { createKubeGateway, type KubeGateway } from '#shared/delivery/adapters/kube/gateway.ts';
import type { ClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';

/**
 * Error classification through the real client stack, against a tiny API server on loopback that
 * answers each ConfigMap name with the status it spells (`status-422`), or never (`hang`).
 */

const requests: string[] = [];
const deletes: Array<{ path: string; body: unknown }> = [];
const owner = { 'app.kubernetes.io/managed-by': 'tricenter', 'app.oam.dev/namespace': 'demo', 'app.oam.dev/name': 'web' };
const listedInDemo = [
  { metadata: { name: 'web-keep', namespace: 'demo', uid: 'uid-keep', labels: owner } },
  { metadata: { name: 'web-drop', namespace: 'demo', uid: 'uid-drop', resourceVersion: '41', labels: owner } },
  { metadata: { name: 'web-other-app', namespace: 'demo', uid: 'uid-other', labels: { ...owner, 'app.oam.dev/name': 'other' } } },
  { metadata: { name: 'web-unlabelled', namespace: 'demo', uid: 'uid-bare', labels: { app: 'web' } } },
];
const hanging: ServerResponse[] = [];

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code }));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  requests.push(`${req.method} ${url.pathname}`);
  if (req.method === 'GET' && url.pathname === '/api/v1') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          { name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: ['get', 'list', 'patch', 'delete'] },
          { name: 'namespaces', namespaced: false, kind: 'Namespace', verbs: ['get', 'list', 'create'] },
          // A cluster-scoped kind tricenter's list does not know (as a custom resource would be).
          { name: 'widgets', namespaced: false, kind: 'Widget', verbs: ['get', 'list', 'patch'] },
        ],
      }),
    );
    return;
  }
  if (url.pathname.startsWith('/apis/')) return status(res, 404, 'NotFound', 'the server could not find the requested resource');
  if (req.method === 'POST' && url.pathname === '/api/v1/namespaces') {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const name = (JSON.parse(body) as { metadata: { name: string } }).metadata.name;
      if (name !== 'fresh') return status(res, 409, 'AlreadyExists', `namespaces "${name}" already exists`);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, resourceVersion: '1' } }));
    });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/api/v1/configmaps')
    return status(res, 403, 'Forbidden', 'configmaps is forbidden: cannot list at the cluster scope');
  if (req.method === 'GET' && url.pathname.endsWith('/configmaps')) {
    const namespace = url.pathname.split('/')[4] ?? '';
    // Like a careless server, this one ignores the label selector: the gateway must check labels itself.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', items: namespace === 'demo' ? listedInDemo : [] }));
    return;
  }
  const name = url.pathname.split('/').pop() ?? '';
  if (req.method === 'DELETE') {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      deletes.push({ path: url.pathname, body: JSON.parse(body) as unknown });
      status(res, 200, '', 'deleted');
    });
    return;
  }
  if (req.method === 'GET') return status(res, 404, 'NotFound', `configmaps "${name}" not found`);
  if (name === 'hang') {
    hanging.push(res);
    return;
  }
  const code = /^status-(\d+)$/.exec(name)?.[1];
  if (code) return status(res, Number(code), `Reason${code}`, `server says ${code} about ${name}`);
  res.writeHead(201, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 't', resourceVersion: '7' } }));
}

function connectionsTo(server: string): ClusterConnections {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'fake', token: 'token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return { kubeConfig: async () => kubeConfig, clusterNames: () => ['fake'] };
}

function cm(name: string, namespace = 't'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { ...owner, 'app.oam.dev/namespace': namespace } },
    data: { a: 'b' },
  };
}

let server: Server;
let gateway: KubeGateway;
beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gateway = createKubeGateway({
    connections: connectionsTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    requestTimeoutMs: 300,
  });
});
afterAll(async () => {
  gateway.close();
  for (const res of hanging) res.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(name: string): Promise<TricenterError> {
  const err = await gateway.apply('fake', [cm(name)]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TricenterError);
  return err as TricenterError;
}

describe('gateway error classification', () => {
  it.each([
    [422, 'INVALID_OBJECT', false],
    [400, 'INVALID_OBJECT', false],
    [409, 'CONFLICT', true],
    [401, 'UNAUTHORIZED', false],
    [403, 'FORBIDDEN', false],
    [429, 'THROTTLED', true],
    [500, 'INTERNAL', true],
    [503, 'INTERNAL', true],
    [504, 'TIMEOUT', true],
  ] as const)('answers %i as %s (retryable %s), keeping the server message', async (code, expected, retryable) => {
    const err = await failure(`status-${code}`);
    expect(err.code).toBe(expected);
    expect(err.retryable).toBe(retryable);
    expect(err.message).toContain(`server says ${code} about status-${code}`);
    expect(err.message).toContain('cluster fake');
  });

  it('applies a good object after discovering each apiVersion once, however many objects share it', async () => {
    requests.length = 0;
    const names = Array.from({ length: 12 }, (_, i) => `ok-${i}`);
    const fresh = createKubeGateway({ connections: connectionsTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) });
    try {
      const result = await fresh.apply(
        'fake',
        names.map((name) => cm(name)),
      );
      expect(result.objects.every((o) => o.changed)).toBe(true);
      await fresh.apply(
        'fake',
        names.map((name) => cm(name)),
      );
      expect(requests.filter((r) => r === 'GET /api/v1')).toHaveLength(1);
      // Objects of one kind in one namespace are read with one list before each apply (whose they are, and "changed"), then dry-run.
      expect(fresh.requestCounts('fake')).toMatchObject({ discovery: 1, list: 2, get: 0, 'dry-run': 24, apply: 24, create: 1 });
    } finally {
      fresh.close();
    }
  });

  it('keeps connections alive instead of opening one per request', async () => {
    let connections = 0;
    const count = () => (connections += 1);
    server.on('connection', count);
    const serial = createKubeGateway({
      connections: connectionsTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      concurrency: 1,
    });
    try {
      await serial.apply(
        'fake',
        ['k1', 'k2', 'k3', 'k4', 'k5'].map((name) => cm(name)),
      );
      expect(serial.requestCounts('fake')).toMatchObject({ discovery: 1, create: 1, list: 1, get: 0, 'dry-run': 5, apply: 5 });
      expect(connections).toBe(1);
    } finally {
      server.off('connection', count);
      serial.close();
    }
  });

  it('reads a namespace with one list, creates it, dry-runs every object, then applies each once', async () => {
    requests.length = 0;
    const fresh = createKubeGateway({ connections: connectionsTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}`) });
    try {
      const result = await fresh.apply(
        'fake',
        ['a', 'b', 'c'].map((name) => cm(name, 'fresh')),
      );
      expect(result.objects.map((o) => o.changed)).toEqual([true, true, true]);
      expect(requests.filter((r) => r.startsWith('GET /api/v1/namespaces/'))).toEqual(['GET /api/v1/namespaces/fresh/configmaps']);
      expect(fresh.requestCounts('fake')).toMatchObject({ create: 1, list: 1, get: 0, 'dry-run': 3, apply: 3 });
    } finally {
      fresh.close();
    }
  });

  it('prunes per namespace when it may not list cluster-wide, deleting only objects with our labels, by uid and resourceVersion', async () => {
    requests.length = 0;
    deletes.length = 0;
    const app = { namespace: 'demo', name: 'web' };
    const keep = [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'demo', name: 'web-keep' }];
    const pruned = await gateway.prune('fake', app, keep);
    expect(pruned).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'demo', name: 'web-drop' }]);
    expect(deletes).toEqual([
      {
        path: '/api/v1/namespaces/demo/configmaps/web-drop',
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          propagationPolicy: 'Background',
          preconditions: { uid: 'uid-drop', resourceVersion: '41' },
        },
      },
    ]);
    expect(requests).toContain('GET /api/v1/configmaps');
    expect(requests).toContain('GET /api/v1/namespaces/demo/configmaps');
    expect((await gateway.listOwned('fake', app)).map((r) => r.name).sort()).toEqual(['web-drop', 'web-keep']);

    // Keeping a Namespace does not make namespaces candidates for deletion.
    requests.length = 0;
    await gateway.prune('fake', app, [...keep, { apiVersion: 'v1', kind: 'Namespace', name: 'demo' }]);
    expect(requests.filter((r) => r.startsWith('GET /api/v1/namespaces') && !r.includes('/configmaps'))).toEqual([]);
  });

  it('builds a new client when the connections hand out a new kubeconfig (an ACK one was refreshed)', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let current = await connectionsTo(url).kubeConfig('fake');
    const rotating: ClusterConnections = { kubeConfig: async () => current, clusterNames: () => ['fake'] };
    const rebuilt = createKubeGateway({ connections: rotating });
    try {
      await rebuilt.apply('fake', [cm('r1')]);
      await rebuilt.apply('fake', [cm('r1')]);
      expect(rebuilt.requestCounts('fake')).toMatchObject({ discovery: 1, apply: 2 });
      current = await connectionsTo(url).kubeConfig('fake');
      await rebuilt.apply('fake', [cm('r1')]);
      // A fresh client: its own discovery and counters.
      expect(rebuilt.requestCounts('fake')).toMatchObject({ discovery: 1, apply: 1 });
    } finally {
      rebuilt.close();
    }
  });

  it('refuses a kind the cluster serves cluster-scoped that tenancy checked as namespaced, before any request about it', async () => {
    requests.length = 0;
    const widget: KubeObject = { apiVersion: 'v1', kind: 'Widget', metadata: { name: 'w', namespace: 't', labels: owner } };
    const err = await gateway.apply('fake', [cm('w-ok'), widget]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORBIDDEN', retryable: false });
    expect((err as Error).message).toContain('nothing applied, Widget t/w: the cluster serves this kind cluster-scoped');
    expect(requests.filter((r) => !r.startsWith('GET /api/v1'))).toEqual([]);
    expect(requests.filter((r) => r.startsWith('GET /api/v1/'))).toEqual([]);
  });

  it('says which kind the cluster does not serve', async () => {
    const err = await gateway
      .apply('fake', [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 't' } }])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'INVALID_OBJECT',
      retryable: false,
      message: expect.stringContaining('does not serve kind Deployment in apps/v1'),
    });
  });

  it('turns a request that gets no answer into UNREACHABLE after the request timeout', async () => {
    const err = await failure('hang');
    expect(err.code).toBe('UNREACHABLE');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('after 300 ms');
  });

  it('turns a refused connection into UNREACHABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const nowhere = createKubeGateway({ connections: connectionsTo(`http://127.0.0.1:${port}`), requestTimeoutMs: 2_000 });
    const err = await nowhere.health('fake', [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 't', name: 'x' }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNREACHABLE', retryable: true, message: expect.stringContaining('ECONNREFUSED') });
    nowhere.close();
  });

  it('classifies network error codes wherever they sit in the cause chain', () => {
    const req = { cluster: 'c', action: 'apply' };
    const withCode = (code: string) => Object.assign(new Error('x'), { code });
    expect(classifyKubeError(withCode('ECONNRESET'), req)).toMatchObject({ code: 'UNREACHABLE', retryable: true });
    expect(classifyKubeError(withCode('ENOTFOUND'), req)).toMatchObject({ code: 'UNREACHABLE', retryable: true });
    expect(classifyKubeError(new Error('outer', { cause: withCode('EAI_AGAIN') }), req)).toMatchObject({
      code: 'UNREACHABLE',
      retryable: true,
    });
    expect(classifyKubeError(withCode('DEPTH_ZERO_SELF_SIGNED_CERT'), req)).toMatchObject({ code: 'UNREACHABLE', retryable: false });
    expect(classifyKubeError(new Error('bug'), req)).toMatchObject({ code: 'INTERNAL', retryable: false });
  });
});
