import type { ClusterGateway } from '../../delivery/ports/cluster-gateway.port.ts';

/** What one round's observer read: cluster API lists sent, and asks answered from them. */
export interface RoundObserverStats {
  lists: number;
  asks: number;
}

/**
 * The Ingress observations of one traffic round: the first application that asks for an Ingress
 * in a cluster's namespace has that namespace's Ingresses listed once (`ingressAddressesIn`); every
 * later application of the round asking for the same cluster and namespace shares that answer, or
 * that failure (one failed list, not one per application). Each application still gets only the
 * Ingress its own policy names, in the namespace its policy names, exactly as a read by name would
 * answer it ([] when that namespace holds no Ingress of that name): the cache changes how often a
 * cluster is asked, never what an application sees.
 *
 * Build one per round and drop it with the round: nothing is kept across rounds, so addresses that
 * changed are seen by the next round.
 */
export function roundObserver(
  gateway: Pick<ClusterGateway, 'ingressAddressesIn'>,
): Pick<ClusterGateway, 'ingressAddresses'> & { stats: RoundObserverStats } {
  const lists = new Map<string, Promise<Map<string, string[]>>>();
  const stats: RoundObserverStats = { lists: 0, asks: 0 };
  return {
    stats,
    async ingressAddresses(cluster, ingress) {
      stats.asks += 1;
      const key = JSON.stringify([cluster, ingress.namespace]);
      let listed = lists.get(key);
      if (!listed) {
        stats.lists += 1;
        listed = gateway.ingressAddressesIn(cluster, ingress.namespace);
        lists.set(key, listed);
      }
      // A copy: one application's plan can never change what another is given.
      return [...((await listed).get(ingress.name) ?? [])];
    },
  };
}
