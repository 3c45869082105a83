import { NotFoundError } from '#shared/platform/errors.ts';
import type { KubeObject } from '#shared/delivery/model/kube.ts';
import type { ClusterTarget, DeployStep } from '#shared/delivery/model/plan.ts';
import type { ReleaseObjectStore } from '#shared/delivery/ports/release-object-store.port.ts';

/**
 * A ReleaseObjectStore in memory that records every read; tests tamper with `objects` directly.
 * Reads resolve on a later microtask, like a real store, so concurrent readers really overlap.
 */
export class MemoryObjects implements ReleaseObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly reads: string[] = [];

  async put(digest: string, data: Uint8Array): Promise<void> {
    this.objects.set(digest, data);
  }

  async get(digest: string): Promise<Uint8Array> {
    this.reads.push(digest);
    await Promise.resolve();
    const data = this.objects.get(digest);
    if (!data) throw new NotFoundError(`release object ${digest} does not exist`);
    return data;
  }
}

export const deployStep = (name: string, targets: ClusterTarget[]): DeployStep => ({
  name,
  type: 'deploy',
  needsApproval: false,
  parallelism: 5,
  timeoutMs: 600_000,
  targets,
});

export const demoConfigMap = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'demo' },
  data,
});
