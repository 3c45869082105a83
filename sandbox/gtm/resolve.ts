import type { GtmPool, GtmStore, GtmStrategy, LbaStrategy } from './state.ts';

/**
 * Which addresses a DNS query for the instance's domain gets, from the serving strategy and the
 * current health. No I/O: rotation and randomness come from the caller.
 */

interface ResolvedRecord {
  type: 'A' | 'AAAA' | 'CNAME';
  data: string;
}

export interface Resolution {
  ttl: number;
  group: 'DEFAULT' | 'FAILOVER' | 'NONE';
  records: ResolvedRecord[];
}

export interface ResolveInput {
  queryType: 'A' | 'AAAA';
  /** Incremented per query, so that ALL_RR answers rotate their order. */
  rotation: number;
  /** In [0, 1): picks by weight for RATIO. */
  random: () => number;
}

/** What Describe reports as `*MaxReturnAddrNum` when the strategy leaves it out. */
export const DEFAULT_MAX_RETURN = 8;

export function resolveDomain(store: GtmStore, input: ResolveInput): Resolution {
  const ttl = store.config.ttl;
  const strategy = store.servingStrategy();
  if (!strategy) return { ttl, group: 'NONE', records: [] };
  const { effective } = store.evaluate(strategy);
  const set = poolSet(strategy, effective);
  const pools = set.refs.flatMap((ref) => {
    const pool = store.pools.get(ref.id);
    return pool ? [{ pool, weight: ref.lbaWeight ?? 1 }] : [];
  });
  let addresses = pickFromSet(store, pools, set.lbaStrategy, input, false);
  // Every address of the serving set is down: fail open rather than answer nothing, like
  // DNS load balancers commonly do (emulator choice; the facts file does not say).
  if (addresses.length === 0) addresses = pickFromSet(store, pools, set.lbaStrategy, input, true);
  addresses = addresses.slice(0, set.maxReturn ?? DEFAULT_MAX_RETURN);
  return { ttl, group: effective, records: toRecords(addresses, input.queryType) };
}

function poolSet(strategy: GtmStrategy, group: 'DEFAULT' | 'FAILOVER') {
  return group === 'DEFAULT'
    ? { refs: strategy.defaultPools, lbaStrategy: strategy.defaultLbaStrategy, maxReturn: strategy.defaultMaxReturnAddrNum }
    : { refs: strategy.failoverPools, lbaStrategy: strategy.failoverLbaStrategy, maxReturn: strategy.failoverMaxReturnAddrNum };
}

interface PoolAddress {
  addr: string;
  poolType: GtmPool['type'];
}

function pickFromSet(
  store: GtmStore,
  pools: Array<{ pool: GtmPool; weight: number }>,
  setStrategy: LbaStrategy | undefined,
  input: ResolveInput,
  ignoreHealth: boolean,
): PoolAddress[] {
  const candidates = pools
    .map(({ pool, weight }) => ({
      pool,
      weight,
      addresses: pool.addresses.filter((a) => (ignoreHealth ? a.mode !== 'OFFLINE' : store.isAvailable(pool, a))),
    }))
    .filter((candidate) => candidate.addresses.length > 0);
  // A RATIO set sends the query to one pool chosen by pool weight; ALL_RR (the default) uses every pool.
  const chosenPools = setStrategy === 'RATIO' ? pickWeighted(candidates, (c) => c.weight, input.random) : candidates;
  const picked: PoolAddress[] = [];
  for (const { pool, addresses } of chosenPools) {
    if (pool.lbaStrategy === 'RATIO') {
      for (const one of pickWeighted(addresses, (a) => a.lbaWeight ?? 1, input.random))
        picked.push({ addr: one.addr, poolType: pool.type });
    } else {
      for (const address of rotate(addresses, input.rotation)) picked.push({ addr: address.addr, poolType: pool.type });
    }
  }
  const unique = [...new Map(picked.map((p) => [p.addr, p])).values()];
  return chosenPools.length > 1 ? rotate(unique, input.rotation) : unique;
}

/** One element chosen with probability weight / total; weight 0 is never chosen unless all are 0. */
export function pickWeighted<T>(items: T[], weightOf: (item: T) => number, random: () => number): T[] {
  if (items.length === 0) return [];
  const total = items.reduce((sum, item) => sum + Math.max(0, weightOf(item)), 0);
  if (total === 0) return [items[Math.floor(random() * items.length) % items.length] as T];
  let point = random() * total;
  for (const item of items) {
    point -= Math.max(0, weightOf(item));
    if (point < 0) return [item];
  }
  return [items[items.length - 1] as T];
}

export function rotate<T>(items: T[], by: number): T[] {
  if (items.length < 2) return [...items];
  const shift = ((by % items.length) + items.length) % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

function toRecords(addresses: PoolAddress[], queryType: 'A' | 'AAAA'): ResolvedRecord[] {
  const domain = addresses.find((a) => a.poolType === 'DOMAIN');
  // A name has either one CNAME or address records, never both.
  if (domain) return [{ type: 'CNAME', data: domain.addr }];
  const wanted = queryType === 'A' ? 'IPV4' : 'IPV6';
  return addresses.filter((a) => a.poolType === wanted).map((a) => ({ type: queryType, data: a.addr }));
}
