import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, deployment, failure, rawRequest, testSandbox, watchUntil, type Clients } from './helpers.ts';

/** The simulated API server's semantics, through @kubernetes/client-node as any client would see them. */
let sandbox: Awaited<ReturnType<typeof testSandbox>>;
let c: Clients;

beforeAll(async () => {
  sandbox = await testSandbox(['alpha']);
  c = clientsFor(sandbox, 'alpha');
  await c.core.createNamespace({ body: { metadata: { name: 'api' } } });
});
afterAll(async () => sandbox?.cleanup());

const apply = (obj: Record<string, any>, manager: string, force = false) =>
  c.objects.patch(obj as any, undefined, undefined, manager, force, PatchStrategy.ServerSideApply) as Promise<Record<string, any>>;

describe('create and read', () => {
  it('creates with server-set metadata and real defaults', async () => {
    const created = await c.apps.createNamespacedDeployment({ namespace: 'api', body: deployment('web', 'api') as any });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.generation).toBe(1);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(created.spec?.revisionHistoryLimit).toBe(10);
    expect(created.spec?.progressDeadlineSeconds).toBe(600);
    expect(created.spec?.template.spec?.containers[0]?.terminationMessagePolicy).toBe('File');
    const read = await c.apps.readNamespacedDeployment({ name: 'web', namespace: 'api' });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
    expect(read.metadata?.managedFields?.[0]).toMatchObject({ operation: 'Update', fieldsType: 'FieldsV1' });
  });

  it('assigns a cluster IP and defaults Service ports', async () => {
    const svc = await c.core.createNamespacedService({
      namespace: 'api',
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
    });
    expect(svc.spec?.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(svc.spec?.type).toBe('ClusterIP');
    expect(svc.spec?.ports?.[0]).toMatchObject({ port: 80, protocol: 'TCP', targetPort: 80 });
  });

  it('answers 404 NotFound, 409 AlreadyExists, and 404 for a missing namespace', async () => {
    const missing = await failure(c.apps.readNamespacedDeployment({ name: 'nope', namespace: 'api' }));
    expect(missing.code).toBe(404);
    expect(missing.status).toMatchObject({
      kind: 'Status',
      reason: 'NotFound',
      message: 'deployments.apps "nope" not found',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
    });
    const duplicate = await failure(c.apps.createNamespacedDeployment({ namespace: 'api', body: deployment('web', 'api') as any }));
    expect(duplicate.code).toBe(409);
    expect(duplicate.status.reason).toBe('AlreadyExists');
    const noNamespace = await failure(c.core.createNamespacedConfigMap({ namespace: 'ghost', body: { metadata: { name: 'x' } } }));
    expect(noNamespace.code).toBe(404);
    expect(noNamespace.status).toMatchObject({
      reason: 'NotFound',
      message: 'namespaces "ghost" not found',
      details: { kind: 'namespaces', name: 'ghost' },
    });
  });

  it('rejects invalid objects with 422 and the causes', async () => {
    const mismatch = deployment('bad', 'api');
    mismatch.spec.template.metadata.labels = { app: 'other' };
    const invalid = await failure(c.apps.createNamespacedDeployment({ namespace: 'api', body: mismatch as any }));
    expect(invalid.code).toBe(422);
    expect(invalid.status.reason).toBe('Invalid');
    expect(invalid.status.details.causes).toEqual([
      expect.objectContaining({ field: 'spec.template.metadata.labels', reason: 'FieldValueInvalid' }),
    ]);
    expect(invalid.status.message).toContain('`selector` does not match template `labels`');

    const badName = await failure(c.core.createNamespacedConfigMap({ namespace: 'api', body: { metadata: { name: 'Not_Valid' } } }));
    expect(badName.code).toBe(422);
    expect(badName.status.details.causes[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueInvalid' });

    const noPort = await failure(
      c.core.createNamespacedService({ namespace: 'api', body: { metadata: { name: 'np' }, spec: { ports: [{ name: 'x' } as any] } } }),
    );
    expect(noPort.code).toBe(422);
    expect(noPort.status.details.causes).toContainEqual(expect.objectContaining({ field: 'spec.ports[0].port' }));

    const noName = await rawRequest(sandbox, 'alpha', 'POST', '/api/v1/namespaces/api/configmaps', {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }),
      contentType: 'application/json',
    });
    expect(noName.code).toBe(422);
    expect(noName.body.details.causes[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueRequired' });
  });
});

describe('list with selectors', () => {
  beforeAll(async () => {
    const labelled: Array<[string, Record<string, string>]> = [
      ['a', { tier: 'web', env: 'prod' }],
      ['b', { tier: 'web', env: 'dev' }],
      ['c', { tier: 'db' }],
    ];
    for (const [name, labels] of labelled)
      await c.core.createNamespacedConfigMap({ namespace: 'api', body: { metadata: { name: `sel-${name}`, labels } } });
  });

  const names = async (labelSelector: string, fieldSelector?: string) =>
    (await c.core.listNamespacedConfigMap({ namespace: 'api', labelSelector, ...(fieldSelector ? { fieldSelector } : {}) })).items
      .map((i) => i.metadata?.name)
      .filter((n) => n?.startsWith('sel-'));

  it.each([
    ['tier=web', ['sel-a', 'sel-b']],
    ['tier==db', ['sel-c']],
    ['tier!=web', ['sel-c']],
    ['env in (prod,staging)', ['sel-a']],
    ['env notin (prod)', ['sel-b', 'sel-c']],
    ['env', ['sel-a', 'sel-b']],
    ['!env', ['sel-c']],
    ['tier=web,env=dev', ['sel-b']],
  ])('%s', async (selector, expected) => {
    expect(await names(selector)).toEqual(expected);
  });

  it('filters by metadata.name and rejects a bad selector with 400', async () => {
    expect(await names('', 'metadata.name=sel-b')).toEqual(['sel-b']);
    const bad = await failure(c.core.listNamespacedConfigMap({ namespace: 'api', labelSelector: 'a in b' }));
    expect(bad.code).toBe(400);
    expect(bad.status.reason).toBe('BadRequest');
  });

  it('pages with limit and continue', async () => {
    const first = await c.core.listNamespacedConfigMap({ namespace: 'api', labelSelector: 'tier', limit: 2 });
    expect(first.items.map((i) => i.metadata?.name)).toEqual(['sel-a', 'sel-b']);
    expect(first.metadata?.remainingItemCount).toBe(1);
    const rest = await c.core.listNamespacedConfigMap({
      namespace: 'api',
      labelSelector: 'tier',
      limit: 2,
      _continue: first.metadata?._continue ?? '',
    });
    expect(rest.items.map((i) => i.metadata?.name)).toEqual(['sel-c']);
    expect(rest.metadata?._continue).toBeUndefined();
  });

  it('serves Tables to printers, for lists and for watches (kubectl get, kubectl get -w)', async () => {
    const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
    const list = await rawRequest(sandbox, 'alpha', 'GET', '/api/v1/namespaces/api/configmaps?labelSelector=tier%3Ddb', { accept });
    expect(list.body).toMatchObject({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      rows: [{ cells: ['sel-c', 0, expect.any(String)], object: { kind: 'PartialObjectMetadata' } }],
    });
    expect(list.body.columnDefinitions.map((col: { name: string }) => col.name)).toEqual(['Name', 'Data', 'Age']);
    const watch = await rawRequest(
      sandbox,
      'alpha',
      'GET',
      '/api/v1/namespaces/api/configmaps?labelSelector=tier%3Ddb&watch=1&timeoutSeconds=1',
      { accept },
    );
    const events = watch.text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; object: Record<string, any> });
    expect(events).toEqual([
      {
        type: 'ADDED',
        object: expect.objectContaining({ kind: 'Table', rows: [expect.objectContaining({ cells: ['sel-c', 0, expect.any(String)] })] }),
      },
    ]);
  });

  it('lists across namespaces with a list resourceVersion', async () => {
    const all = await c.core.listConfigMapForAllNamespaces({ labelSelector: 'tier' });
    expect(all.items).toHaveLength(3);
    expect(Number(all.metadata?.resourceVersion)).toBeGreaterThan(0);
  });
});

describe('update', () => {
  it('conflicts on a stale resourceVersion and bumps generation only on spec changes', async () => {
    const live = await c.apps.readNamespacedDeployment({ name: 'web', namespace: 'api' });
    const labelled = structuredClone(live);
    labelled.metadata!.labels = { ...labelled.metadata!.labels, extra: 'yes' };
    const relabelled = await c.apps.replaceNamespacedDeployment({ name: 'web', namespace: 'api', body: labelled });
    expect(relabelled.metadata?.generation).toBe(live.metadata?.generation);
    expect(Number(relabelled.metadata?.resourceVersion)).toBeGreaterThan(Number(live.metadata?.resourceVersion));

    const stale = await failure(c.apps.replaceNamespacedDeployment({ name: 'web', namespace: 'api', body: live }));
    expect(stale.code).toBe(409);
    expect(stale.status).toMatchObject({ reason: 'Conflict', details: { name: 'web', group: 'apps', kind: 'deployments' } });
    expect(stale.status.message).toContain('the object has been modified');

    relabelled.spec!.replicas = 4;
    const scaled = await c.apps.replaceNamespacedDeployment({ name: 'web', namespace: 'api', body: relabelled });
    expect(scaled.metadata?.generation).toBe((live.metadata?.generation ?? 0) + 1);
  });

  it('keeps status out of main-resource writes and spec out of status writes', async () => {
    const live = await c.apps.readNamespacedDeployment({ name: 'web', namespace: 'api' });
    const viaMain = structuredClone(live);
    viaMain.status = { ...viaMain.status, replicas: 99 };
    const afterMain = await c.apps.replaceNamespacedDeployment({ name: 'web', namespace: 'api', body: viaMain });
    expect(afterMain.status?.replicas).not.toBe(99);

    const viaStatus = structuredClone(afterMain);
    viaStatus.status = { ...viaStatus.status, observedGeneration: 1234 };
    viaStatus.spec!.replicas = 7;
    const afterStatus = await c.apps.replaceNamespacedDeploymentStatus({ name: 'web', namespace: 'api', body: viaStatus });
    expect(afterStatus.status?.observedGeneration).toBe(1234);
    expect(afterStatus.spec?.replicas).toBe(afterMain.spec?.replicas);
    expect(afterStatus.metadata?.generation).toBe(afterMain.metadata?.generation);
  });
});

describe('patch', () => {
  it('merge patch, strategic merge patch by container name, JSON patch', async () => {
    const merged = await c.apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'api', body: { metadata: { annotations: { note: 'merge' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.annotations).toEqual({ note: 'merge' });

    const strategic = await c.apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: 'api',
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'app', env: [{ name: 'A', value: '1' }] },
                  { name: 'side', image: 'busybox:1' },
                ],
              },
            },
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    const containers = strategic.spec?.template.spec?.containers ?? [];
    expect(containers.map((x) => x.name)).toEqual(['app', 'side']);
    expect(containers[0]).toMatchObject({ image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] });

    const patched = await c.apps.patchNamespacedDeployment(
      { name: 'web', namespace: 'api', body: [{ op: 'replace', path: '/spec/replicas', value: 1 }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(patched.spec?.replicas).toBe(1);

    const failedTest = await failure(
      c.apps.patchNamespacedDeployment(
        { name: 'web', namespace: 'api', body: [{ op: 'test', path: '/spec/replicas', value: 42 }] },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    expect(failedTest.code).toBe(422);
  });

  it('answers 415 for an unknown patch type and 405 for a method the resource lacks', async () => {
    const unknown = await rawRequest(sandbox, 'alpha', 'PATCH', '/apis/apps/v1/namespaces/api/deployments/web', {
      body: '{}',
      contentType: 'text/plain',
    });
    expect(unknown.code).toBe(415);
    expect(unknown.body.reason).toBe('UnsupportedMediaType');
    const wrongMethod = await rawRequest(sandbox, 'alpha', 'POST', '/apis/apps/v1/namespaces/api/deployments/web', {
      body: '{}',
      contentType: 'application/json',
    });
    expect(wrongMethod.code).toBe(405);
    expect(wrongMethod.body.reason).toBe('MethodNotAllowed');
  });

  it('rejects a wrong token with a 401 Status', async () => {
    const denied = await rawRequest(sandbox, 'alpha', 'GET', '/api/v1/namespaces', { token: 'not-the-token' });
    expect(denied.code).toBe(401);
    expect(denied.body).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
  });
});

describe('server-side apply', () => {
  const config = (replicas: number, labels: Record<string, string> = { app: 'ssa' }) => ({
    ...deployment('ssa', 'api', { replicas }),
    metadata: { name: 'ssa', namespace: 'api', labels },
  });

  it('creates, and applying the same configuration again changes nothing', async () => {
    await apply(config(2), 'deployer');
    // The deployment controller writes status right after creation: compare with the settled object.
    const settled = await watchUntil(
      c.kc,
      '/apis/apps/v1/namespaces/api/deployments',
      'ssa',
      (d) => d.status?.readyReplicas === 2,
      'ssa ready',
    );
    const again = await apply(config(2), 'deployer');
    expect(again.metadata.resourceVersion).toBe(settled.metadata.resourceVersion);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa-cm', namespace: 'api' }, data: { a: '1' } };
    expect((await apply(cm, 'deployer')).metadata.resourceVersion).toBe((await apply(cm, 'deployer')).metadata.resourceVersion);
  });

  it('reports a conflict with another manager, and force takes the field over', async () => {
    const conflict = await failure(apply(config(5), 'intruder'));
    expect(conflict.code).toBe(409);
    expect(conflict.status.reason).toBe('Conflict');
    expect(conflict.status.message).toBe('Apply failed with 1 conflict: conflict with "deployer": .spec.replicas');
    expect(conflict.status.details.causes).toEqual([
      { reason: 'FieldManagerConflict', message: 'conflict with "deployer"', field: '.spec.replicas' },
    ]);

    const forced = await apply(config(5), 'intruder', true);
    expect(forced.spec.replicas).toBe(5);
    const owners = (forced.metadata.managedFields as Array<{ manager: string; fieldsV1: Record<string, any> }>).filter(
      (m) => m.fieldsV1['f:spec']?.['f:replicas'],
    );
    expect(owners.map((m) => m.manager)).toEqual(['intruder']);
  });

  it('removes a field the applier no longer sets, unless another manager owns it', async () => {
    await apply(config(5, { app: 'ssa', temp: 'x', shared: 'y' }), 'intruder', true);
    await apply(config(5, { app: 'ssa', shared: 'y' }), 'deployer', true);
    const pruned = await apply(config(5, { app: 'ssa' }), 'intruder');
    expect(pruned.metadata.labels).toEqual({ app: 'ssa', shared: 'y' });
  });

  it('shares a field set to the same value, and merges containers by name', async () => {
    const partial = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ssa', namespace: 'api' },
      spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'FROM_SIDECAR', value: '1' }] }] } } },
    };
    const merged = await apply(partial, 'env-injector');
    const container = merged.spec.template.spec.containers[0];
    expect(container.image).toBe('nginx:1.25');
    expect(container.env).toEqual([{ name: 'FROM_SIDECAR', value: '1' }]);
  });

  it('requires a fieldManager, and 1.20 rejects list keys left out (Service port protocol)', async () => {
    const noManager = await rawRequest(sandbox, 'alpha', 'PATCH', '/api/v1/namespaces/api/configmaps/m', {
      body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m"}}',
      contentType: 'application/apply-patch+yaml',
    });
    expect(noManager.code).toBe(422);
    expect(noManager.body.message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    const noProtocol = await failure(
      apply(
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'noproto', namespace: 'api' }, spec: { ports: [{ port: 80 }] } },
        'deployer',
      ),
    );
    expect(noProtocol.code).toBe(500);
    expect(noProtocol.status.message).toContain('associative list with keys has an element that omits key field "protocol"');
  });
});

describe('delete', () => {
  it('deletes, then answers 404', async () => {
    await c.core.createNamespacedConfigMap({ namespace: 'api', body: { metadata: { name: 'doomed' } } });
    const status = (await c.core.deleteNamespacedConfigMap({ name: 'doomed', namespace: 'api' })) as Record<string, any>;
    expect(status).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'doomed', kind: 'configmaps' } });
    expect((await failure(c.core.readNamespacedConfigMap({ name: 'doomed', namespace: 'api' }))).code).toBe(404);
    expect((await failure(c.core.deleteNamespacedConfigMap({ name: 'doomed', namespace: 'api' }))).code).toBe(404);
  });

  it('cascades a namespace deletion to its contents', async () => {
    await c.core.createNamespace({ body: { metadata: { name: 'short-lived' } } });
    await c.core.createNamespacedConfigMap({ namespace: 'short-lived', body: { metadata: { name: 'inside' } } });
    const terminating = await c.core.deleteNamespace({ name: 'short-lived' });
    expect((terminating as Record<string, any>).status?.phase).toBe('Terminating');
    await watchUntil(c.kc, '/api/v1/namespaces', 'short-lived', (_obj, type) => type === 'DELETED', 'the namespace to go', {
      resourceVersion: (terminating as Record<string, any>).metadata.resourceVersion,
    });
    expect((await failure(c.core.readNamespace({ name: 'short-lived' }))).code).toBe(404);
    expect((await failure(c.core.readNamespacedConfigMap({ name: 'inside', namespace: 'short-lived' }))).code).toBe(404);
  });
});
