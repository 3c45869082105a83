/**
 * Waiting on a Kubernetes object by watching it, not by sleeping: a watch without resourceVersion
 * first replays the current object as ADDED, then streams its changes, so no change is missed.
 */
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { rawRequest } from './kube-raw.ts';

export type WatchPhase = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * Resolves with the first object (and its phase) for which `until` holds.
 * @param collectionPath e.g. `/apis/apps/v1/namespaces/demo/deployments`
 */
export async function waitForObject<T extends object>(
  kubeConfig: KubeConfig,
  collectionPath: string,
  name: string,
  until: (object: T, phase: WatchPhase) => boolean,
  timeoutMs = 30_000,
  /** Watch changes after this version only (no replay of the current object). */
  resourceVersion?: string,
): Promise<{ object: T; phase: WatchPhase }> {
  let last: { object: T; phase: WatchPhase } | undefined;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  try {
    return await new Promise((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`${collectionPath}/${name}: condition not met within ${timeoutMs} ms; last seen: ${JSON.stringify(last ?? null)}`),
          ),
        timeoutMs,
      );
      new Watch(kubeConfig)
        .watch(
          collectionPath,
          { fieldSelector: `metadata.name=${name}`, ...(resourceVersion ? { resourceVersion } : {}) },
          (phase, object: T) => {
            last = { object, phase: phase as WatchPhase };
            if (until(object, phase as WatchPhase)) resolve(last);
          },
          (error: unknown) => reject(new Error(`watch of ${collectionPath}/${name} ended before the condition: ${String(error)}`)),
        )
        .then((controller) => {
          abort = controller;
          // The condition may have held on the first event, before the controller was handed over.
          if (settled) controller.abort();
        }, reject);
    });
  } finally {
    settled = true;
    clearTimeout(timer);
    abort?.abort();
  }
}

/**
 * Resolves once the object is gone: at once if it is already, else on its DELETED event (watched from
 * the version just read, so a deletion between the read and the watch is not missed).
 */
export async function waitForDeletion(kubeConfig: KubeConfig, collectionPath: string, name: string, timeoutMs = 30_000): Promise<void> {
  const current = await rawRequest(kubeConfig, { method: 'GET', path: `${collectionPath}/${name}` });
  if (current.status === 404) return;
  if (current.status !== 200) throw new Error(`GET ${collectionPath}/${name}: ${current.status} ${JSON.stringify(current.body)}`);
  const version = (current.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
  await waitForObject(kubeConfig, collectionPath, name, (_object, phase) => phase === 'DELETED', timeoutMs, version);
}
