import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '#shared/platform/log.ts';
import { createClusterConnections } from '#shared/delivery/adapters/kube/connections.ts';
import { clusterRegistrySchema } from '#shared/delivery/model/clusters.ts';

const dir = mkdtempSync(join(tmpdir(), 'tricenter-connections-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET_TOKEN = 'file-token-never-logged';

function kubeconfig(contexts: Array<{ name: string; server: string }>, current: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: contexts.map((c) => ({ name: c.name, cluster: { server: c.server, 'insecure-skip-tls-verify': true } })),
    users: contexts.map((c) => ({ name: c.name, user: { token: `${SECRET_TOKEN}-${c.name}` } })),
    contexts: contexts.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    'current-context': current,
  });
}

const sandboxPath = join(dir, 'sandbox.kubeconfig');
writeFileSync(
  sandboxPath,
  kubeconfig(
    [
      { name: 'cluster1-beijing', server: 'https://127.0.0.1:1001' },
      { name: 'cluster2-beijing', server: 'https://127.0.0.1:1002' },
    ],
    'cluster2-beijing',
  ),
);
const homeDir = join(dir, 'home');
writeFileSync(
  join(dir, 'other.kubeconfig'),
  kubeconfig(
    [
      { name: 'prod', server: 'https://127.0.0.1:2001' },
      { name: 'edge', server: 'https://127.0.0.1:2002' },
    ],
    'prod',
  ),
);

const registry = clusterRegistrySchema.parse({
  clusters: [
    { name: 'cluster1-beijing', aliases: ['c1'] },
    { name: 'cluster2-beijing', connection: { kubeconfig: { path: sandboxPath } } },
    { name: 'cluster1-hangzhou', connection: { kubeconfig: { path: join(dir, 'other.kubeconfig'), context: 'edge' } } },
    { name: 'cluster9', connection: { kubeconfig: { path: join(dir, 'other.kubeconfig') } } },
    { name: 'from-secret', connection: { kubeconfigEnv: 'KUBECONFIG_SECRET' } },
    { name: 'from-secret-ctx', connection: { kubeconfigEnv: 'KUBECONFIG_SECRET', context: 'edge' } },
    { name: 'unset-env', connection: { kubeconfigEnv: 'NOT_SET' } },
    { name: 'garbage-env', connection: { kubeconfigEnv: 'GARBAGE' } },
    { name: 'home-default', connection: { kubeconfig: {} } },
    { name: 'ack', connection: { ackClusterId: 'c123', region: 'cn-hangzhou' } },
  ],
});

const env = {
  KUBECONFIG_SECRET: Buffer.from(
    kubeconfig(
      [
        { name: 'prod', server: 'https://127.0.0.1:3001' },
        { name: 'edge', server: 'https://127.0.0.1:3002' },
      ],
      'prod',
    ),
  ).toString('base64'),
  GARBAGE: Buffer.from('clusters: [: not yaml').toString('base64'),
};

describe('cluster connections from the registry', () => {
  const logger = memoryLogger();
  const connections = createClusterConnections({ clusters: registry.clusters, defaultKubeconfigPath: sandboxPath, env, homeDir, logger });

  it('uses the default kubeconfig with a context named after the cluster, by name or alias, once', async () => {
    const kc = await connections.kubeConfig('cluster1-beijing');
    expect(kc.getCurrentContext()).toBe('cluster1-beijing');
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1001');
    expect(await connections.kubeConfig('c1')).toBe(kc);
    expect(connections.clusterNames()).toContain('cluster1-hangzhou');
  });

  it('callers that arrive together share one load: one KubeConfig (so one client, one set of connections), logged once', async () => {
    const quiet = memoryLogger();
    const fresh = createClusterConnections({
      clusters: registry.clusters,
      defaultKubeconfigPath: sandboxPath,
      env,
      homeDir,
      logger: quiet,
    });
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => fresh.kubeConfig(i % 2 === 0 ? 'cluster1-beijing' : 'c1')));
    expect(new Set(all).size).toBe(1);
    expect(quiet.lines.filter((line) => line.msg === 'cluster connection resolved')).toHaveLength(1);
  });

  it('gives the registry rate limit of a cluster, by name or alias, and none when the entry sets none', () => {
    const limited = createClusterConnections({
      clusters: [
        { name: 'busy', aliases: ['b'], labels: {}, rateLimit: { qps: 50, burst: 100 } },
        { name: 'calm', aliases: [], labels: {} },
      ],
    });
    expect(limited.rateLimit?.('b')).toEqual({ qps: 50, burst: 100 });
    expect(limited.rateLimit?.('calm')).toBeUndefined();
  });

  it('reads a kubeconfig path and context from the entry; the context defaults to the cluster name', async () => {
    expect((await connections.kubeConfig('cluster2-beijing')).getCurrentCluster()?.server).toBe('https://127.0.0.1:1002');
    expect((await connections.kubeConfig('cluster1-hangzhou')).getCurrentCluster()?.server).toBe('https://127.0.0.1:2002');
    // No silent fall back to the file's current context: that could be any cluster.
    await expect(connections.kubeConfig('cluster9')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringMatching(
        /cluster "cluster9": context "cluster9" not found in kubeconfig .*other\.kubeconfig \(contexts: prod, edge\)/,
      ),
    });
  });

  it('decodes a base64 kubeconfig from an environment variable', async () => {
    expect((await connections.kubeConfig('from-secret')).getCurrentCluster()?.server).toBe('https://127.0.0.1:3001');
    expect((await connections.kubeConfig('from-secret-ctx')).getCurrentCluster()?.server).toBe('https://127.0.0.1:3002');
    await expect(connections.kubeConfig('unset-env')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('NOT_SET'),
    });
    await expect(connections.kubeConfig('garbage-env')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('GARBAGE'),
    });
  });

  it('defaults to $KUBECONFIG, then ~/.kube/config, and names the file it could not read', async () => {
    await expect(connections.kubeConfig('home-default')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining(join(homeDir, '.kube', 'config')),
    });
    const viaEnv = createClusterConnections({ clusters: registry.clusters, env: { KUBECONFIG: sandboxPath }, homeDir });
    expect((await viaEnv.kubeConfig('cluster1-beijing')).getCurrentContext()).toBe('cluster1-beijing');
  });

  it('needs an ACK source for ackClusterId entries, and rejects unknown clusters', async () => {
    await expect(connections.kubeConfig('ack')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('credentials'),
    });
    await expect(connections.kubeConfig('nowhere')).rejects.toMatchObject({
      code: 'VALIDATION',
      message: expect.stringContaining('not in the cluster registry'),
    });
  });

  it('never logs a kubeconfig credential', () => {
    expect(logger.lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(logger.lines)).not.toContain(SECRET_TOKEN);
  });
});
