import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { expect } from 'vitest';
import type { ApiClient, PackedBundle } from '#cli/client.ts';
import type { UploadOutcome } from '#shared/delivery/approval/uploads.ts';
import type { AppRef } from '#shared/delivery/model/ownership.ts';
import type { GtmEmulator } from '#sandbox/gtm/index.ts';
import { waitFor } from '../e2e/helpers.ts';

/**
 * The hostile suite's view of the world: every object on every cluster (by resourceVersion) and
 * the GTM configuration, so a case can assert that a refused bundle changed nothing anywhere.
 */

const KINDS = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
] as const;

export interface WorldSnapshot {
  /** `cluster kind ns/name` -> resourceVersion. */
  objects: Record<string, string>;
  gtm: unknown;
}

export class World {
  private readonly apis = new Map<string, KubernetesObjectApi>();

  constructor(
    private readonly kubeconfigPath: string,
    readonly clusters: string[],
    private readonly gtm: GtmEmulator,
  ) {}

  api(cluster: string): KubernetesObjectApi {
    let api = this.apis.get(cluster);
    if (!api) {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(this.kubeconfigPath);
      kubeConfig.setCurrentContext(cluster);
      api = KubernetesObjectApi.makeApiClient(kubeConfig);
      this.apis.set(cluster, api);
    }
    return api;
  }

  async snapshot(): Promise<WorldSnapshot> {
    const objects: Record<string, string> = {};
    for (const cluster of this.clusters) {
      for (const { apiVersion, kind } of KINDS) {
        const list = await this.api(cluster).list(apiVersion, kind);
        for (const item of list.items) {
          const { namespace, name, resourceVersion } = item.metadata ?? {};
          objects[`${cluster} ${kind} ${namespace ? `${namespace}/` : ''}${name}`] = resourceVersion ?? '';
        }
      }
    }
    return { objects, gtm: gtmConfiguration(this.gtm) };
  }

  async read(
    cluster: string,
    object: { apiVersion: string; kind: string; namespace?: string; name: string },
  ): Promise<KubernetesObject | undefined> {
    try {
      return await this.api(cluster).read({
        apiVersion: object.apiVersion,
        kind: object.kind,
        metadata: { name: object.name, ...(object.namespace ? { namespace: object.namespace } : {}) },
      });
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }
}

/** What GTM serves, without the health figures the probes keep moving. */
function gtmConfiguration(gtm: GtmEmulator): unknown {
  const state = gtm.state();
  return {
    domain: state.domain,
    ttl: state.ttl,
    pools: state.pools.map((pool) => ({
      name: pool.name,
      type: pool.type,
      lbaStrategy: pool.lbaStrategy,
      addresses: pool.addresses.map((a) => `${a.addr}:${a.mode}`),
    })),
    monitors: state.monitors.map((monitor) => ({ poolId: monitor.poolId, interval: monitor.interval, extendInfo: monitor.extendInfo })),
    strategies: state.strategies.map((s) => ({ name: s.name, defaultPoolIds: s.defaultPoolIds, failoverPoolIds: s.failoverPoolIds })),
  };
}

/** Asserts that nothing on any cluster nor in GTM differs from `before`. */
export async function expectUnchanged(world: World, before: WorldSnapshot): Promise<void> {
  const after = await world.snapshot();
  const changed = Object.keys({ ...before.objects, ...after.objects }).filter((key) => before.objects[key] !== after.objects[key]);
  expect(changed, 'objects created, changed or deleted on a cluster').toEqual([]);
  expect(after.gtm, 'GTM configuration').toEqual(before.gtm);
}

/** A multi-document YAML bundle, packed as the CLI would send it. */
export function yamlBundle(app: AppRef, documents: string[]): PackedBundle {
  return { app, format: 'yaml', data: Buffer.from(documents.join('\n---\n')) };
}

/** An Application of `k8s-objects` (inline objects) placed by one topology policy. */
export function application(
  app: AppRef,
  objects: unknown[],
  options: { clusters?: string[]; version?: string; topologyNamespace?: string; policies?: unknown[] } = {},
): string {
  const topology: Record<string, unknown> = { clusters: options.clusters ?? ['cluster1-beijing'] };
  if (options.topologyNamespace) topology.namespace = options.topologyNamespace;
  return JSON.stringify({
    apiVersion: 'core.oam.dev/v1beta1',
    kind: 'Application',
    metadata: { name: app.name, namespace: app.namespace, annotations: { 'app.oam.dev/publishVersion': options.version ?? 'v1' } },
    spec: {
      components: [{ name: app.name, type: 'k8s-objects', properties: { objects } }],
      policies: [{ name: 'where', type: 'topology', properties: topology }, ...(options.policies ?? [])],
    },
  });
}

export function configMap(
  namespace: string,
  name: string,
  data: Record<string, string>,
  metadata: Record<string, unknown> = {},
): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, ...metadata }, data };
}

/** Uploads through the API and waits for the ingest to finish. */
export async function ingest(client: ApiClient, bundle: PackedBundle): Promise<Extract<UploadOutcome, { status: 'completed' }>> {
  const upload = await client.upload(bundle.app, bundle);
  const outcome = await client.waitForIngest(upload, { timeoutMs: 30_000, pollMs: 50 });
  if (outcome.status !== 'completed') throw new Error(`ingest of ${upload.key} did not finish`);
  return outcome;
}

/** Waits for the application's run to end and returns its status. */
export async function runEnd(client: ApiClient, app: AppRef) {
  return waitFor(
    () => client.status(app),
    (status) => ['running', 'workflowFailed', 'workflowTerminated'].includes(status.phase),
    30_000,
    `the end of ${app.namespace}/${app.name}'s run`,
  );
}

/** A cluster registry with tenants, written where the twin can read it. */
export function registryFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tricenter-hostile-registry-')), 'clusters.yaml');
  writeFileSync(path, text);
  return path;
}
