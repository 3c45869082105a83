/**
 * Waiting on a Kubernetes object by watching it, not by sleeping: a watch without resourceVersion
 * first replays the current object as ADDED, then streams its changes, so no change is missed.
 */
import { type KubeConfig, Watch } from '@kubernetes/client-node';

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
): Promise<{ object: T; phase: WatchPhase }> {
  let last: { object: T; phase: WatchPhase } | undefined;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let settled = false;
  try {
    return await new Promise((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${collectionPath}/${name}: condition not met within ${timeoutMs} ms; last seen: ${JSON.stringify(last ?? null)}`)),
        timeoutMs,
      );
      new Watch(kubeConfig)
        .watch(
          collectionPath,
          { fieldSelector: `metadata.name=${name}` },
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
