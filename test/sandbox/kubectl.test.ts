import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXAMPLE_DIR, testSandbox } from './helpers.ts';

/**
 * Conformance with a real client: kubectl, unchanged, against the sandbox's kubeconfig. Runs when
 * kubectl is on PATH; otherwise the suite is skipped and says so.
 */
function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasKubectl = kubectlAvailable();
if (!hasKubectl) console.warn('kubectl is not on PATH: skipping the kubectl conformance checks (test/sandbox/kubectl.test.ts)');

const run = promisify(execFile);
let sandbox: Awaited<ReturnType<typeof testSandbox>>;
const APP = join(EXAMPLE_DIR, 'app-meta.yaml');

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', sandbox.kubeconfigPath, '--context', 'conformance', ...args], {
    timeout: 60_000,
  });
  return stdout;
}

async function kubectlFails(...args: string[]): Promise<string> {
  try {
    await kubectl(...args);
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
  throw new Error(`kubectl ${args.join(' ')} succeeded, expected a failure`);
}

describe.skipIf(!hasKubectl)('kubectl conformance', () => {
  beforeAll(async () => {
    sandbox = await testSandbox(['conformance'], { readyDelayMs: 300 });
    const namespaceFile = join(sandbox.dir, 'namespace.yaml');
    await writeFile(namespaceFile, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: demo\n');
    await kubectl('apply', '--server-side', '-f', namespaceFile);
  });
  afterAll(async () => sandbox?.cleanup());

  it('api-resources lists the served kinds with short names', async () => {
    const out = await kubectl('api-resources');
    expect(out).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(out).toMatch(/ingresses\s+ing\s+networking\.k8s\.io\/v1\s+true\s+Ingress/);
    expect(out).toMatch(/namespaces\s+ns\s+v1\s+false\s+Namespace/);
  });

  it('apply --server-side of the example, twice', async () => {
    const first = await kubectl('apply', '--server-side', '-f', APP);
    expect(first.trim().split('\n')).toEqual([
      'deployment.apps/web-demo serverside-applied',
      'service/web-demo serverside-applied',
      'ingress.networking.k8s.io/web-demo serverside-applied',
      'configmap/web-demo serverside-applied',
    ]);
    const versions = () =>
      kubectl('get', 'configmap/web-demo', 'service/web-demo', '-n', 'demo', '-o', 'jsonpath={.items[*].metadata.resourceVersion}');
    const before = await versions();
    await kubectl('apply', '--server-side', '-f', APP);
    expect(await versions()).toBe(before);
  });

  it('rollout status and wait --for=condition=Available', async () => {
    expect(await kubectl('rollout', 'status', 'deploy/web-demo', '-n', 'demo', '--timeout=60s')).toContain(
      'deployment "web-demo" successfully rolled out',
    );
    expect(await kubectl('wait', '--for=condition=Available', 'deploy/web-demo', '-n', 'demo', '--timeout=60s')).toContain(
      'deployment.apps/web-demo condition met',
    );
  });

  it('get deploy,svc,ingress,cm shows server-side columns, the Ingress with its address', async () => {
    const out = await kubectl('get', 'deploy,svc,ingress,cm', '-n', 'demo');
    expect(out).toMatch(/deployment\.apps\/web-demo\s+5\/5\s+5\s+5\s+\S+/);
    expect(out).toMatch(/service\/web-demo\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP/);
    expect(out).toMatch(/ingress\.networking\.k8s\.io\/web-demo\s+<none>\s+web-demo\.example\.com\s+127\.0\.0\.2\s+80/);
    expect(out).toMatch(/configmap\/web-demo\s+1\s+/);
  });

  it('get -o yaml shows the object as a real server stores it', async () => {
    const deployment = parse(await kubectl('get', 'deploy', 'web-demo', '-n', 'demo', '-o', 'yaml')) as Record<string, any>;
    expect(deployment).toMatchObject({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web-demo', namespace: 'demo', generation: 1 },
    });
    expect(deployment.spec.strategy.type).toBe('RollingUpdate');
    expect(deployment.status.conditions.map((c: { type: string }) => c.type)).toEqual(['Available', 'Progressing']);
    const fields = parse(await kubectl('get', 'deploy', 'web-demo', '-n', 'demo', '-o', 'yaml', '--show-managed-fields')) as Record<
      string,
      any
    >;
    expect(fields.metadata.managedFields.map((m: { manager: string; operation: string }) => `${m.manager}/${m.operation}`)).toEqual([
      'kubectl/Apply',
      'kube-controller-manager/Update',
    ]);
  });

  it('reports a server-side apply conflict the way kubectl users know it', async () => {
    await kubectl('scale', 'deploy/web-demo', '-n', 'demo', '--replicas=2');
    const err = await kubectlFails('apply', '--server-side', '-f', APP);
    expect(err).toContain('Apply failed with 1 conflict: conflict with "kubectl" using apps/v1: .spec.replicas');
    expect(await kubectl('apply', '--server-side', '--force-conflicts', '-f', APP)).toContain(
      'deployment.apps/web-demo serverside-applied',
    );
  });

  it('create namespace|configmap|secret (typed commands, sent as protobuf)', async () => {
    expect(await kubectl('create', 'namespace', 'typed')).toContain('namespace/typed created');
    await kubectl('create', 'configmap', 'settings', '-n', 'typed', '--from-literal=color=blue', '--from-literal=size=L');
    await kubectl('create', 'secret', 'generic', 'creds', '-n', 'typed', '--from-literal=password=s3cret');
    expect(JSON.parse(await kubectl('get', 'configmap', 'settings', '-n', 'typed', '-o', 'jsonpath={.data}'))).toEqual({
      color: 'blue',
      size: 'L',
    });
    const secret = JSON.parse(await kubectl('get', 'secret', 'creds', '-n', 'typed', '-o', 'json', '--show-managed-fields')) as Record<
      string,
      any
    >;
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from(secret.data.password, 'base64').toString()).toBe('s3cret');
    expect(secret.metadata.managedFields[0].manager).toBe('kubectl-create');
    expect(await kubectlFails('create', 'deployment', 'd', '--image=nginx', '-n', 'typed')).toContain(
      'the body of the request was in an unknown format',
    );
  });

  it('delete removes the objects, and then they are not found', async () => {
    const out = await kubectl('delete', '-f', APP);
    expect(out).toContain('deployment.apps "web-demo" deleted');
    expect(out).toContain('ingress.networking.k8s.io "web-demo" deleted');
    expect(await kubectlFails('get', 'deploy', 'web-demo', '-n', 'demo')).toContain(
      'Error from server (NotFound): deployments.apps "web-demo" not found',
    );
    expect(await kubectl('delete', 'namespace', 'demo')).toContain('namespace "demo" deleted');
  });
});
