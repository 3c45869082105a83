import { pickWeighted, rotate, type ResolveInput } from '../resolve.ts';
import {
  domainOf,
  type CloudAddress,
  type CloudGtmStore,
  type CloudPool,
  type InstanceConfig,
  type LbStrategy,
  type MemberRef,
} from './model.ts';

/**
 * What a DNS query for a GTM 3.0 access domain gets. The configuration of that name and type
 * (a CNAME configuration answers A and AAAA queries too) picks pools by its strategy, each chosen
 * pool picks addresses by its own:
 *
 * - round_robin (and source_nearest: locally every query comes from one source): every available
 *   member, the order rotated per query;
 * - sequence: the available member with the smallest SerialNumber (preemptive), or the member
 *   answered last for as long as it stays available (non_preemptive);
 * - weight: one available member, chosen by WeightValue.
 *
 * A pool is available when it is enabled and its HealthJudgement holds over its addresses; an
 * address when it is enabled and, in auto mode, its health checks pass by its HealthJudgement (in
 * manual mode, its ManualAvailableStatus). With no pool available the configuration fails open,
 * as the models describe: the enabled addresses of the non-empty pool with the smallest serial number.
 * No I/O: rotation and randomness come from the caller; the non-preemptive choice is kept in the store.
 */

export interface CloudResolution {
  ttl: number;
  configId?: string;
  /** The pools the answer came from, and whether the configuration failed open. */
  pools: string[];
  failedOpen: boolean;
  records: Array<{ type: 'A' | 'AAAA' | 'CNAME'; data: string }>;
}

const NO_CONFIG_TTL = 60;

function configFor(store: CloudGtmStore, name: string, queryType: 'A' | 'AAAA'): InstanceConfig | undefined {
  const matching = [...store.configs.values()].filter((c) => domainOf(c) === name);
  return matching.find((c) => c.rrType === queryType) ?? matching.find((c) => c.rrType === 'CNAME');
}

export function resolveCloudGtm(store: CloudGtmStore, name: string, input: ResolveInput): CloudResolution {
  const config = configFor(store, name, input.queryType);
  if (!config) return { ttl: NO_CONFIG_TTL, pools: [], failedOpen: false, records: [] };
  const base = { ttl: config.ttl, configId: config.id };
  if (config.enableStatus !== 'enable') return { ...base, pools: [], failedOpen: false, records: [] };
  const pools = bySerial(store.configPools(config).map(({ ref, pool }) => ({ ref, item: pool })));
  const available = pools.filter((p) => store.poolAvailable(p.item));
  if (available.length === 0) {
    const fallback = pools.find((p) => p.item.enableStatus === 'enable' && enabledMembers(store, p.item).length > 0);
    if (!fallback) return { ...base, pools: [], failedOpen: true, records: [] };
    const addresses = pick(store, fallback.item.id, fallback.item, enabledMembers(store, fallback.item), input);
    return { ...base, pools: [fallback.item.id], failedOpen: true, records: toRecords(addresses, config) };
  }
  const chosen = pick(store, config.id, config, available, input);
  const addresses = chosen.flatMap((pool) => {
    const members = bySerial(store.poolMembers(pool).map(({ ref, address }) => ({ ref, item: address }))).filter((m) =>
      store.addressAvailable(m.item),
    );
    return pick(store, pool.id, pool, members, input);
  });
  return { ...base, pools: chosen.map((p) => p.id), failedOpen: false, records: toRecords(addresses, config) };
}

interface Member<T> {
  ref: MemberRef;
  item: T;
}

function bySerial<T>(members: Array<Member<T>>): Array<Member<T>> {
  return [...members].sort((a, b) => a.ref.serialNumber - b.ref.serialNumber);
}

function enabledMembers(store: CloudGtmStore, pool: CloudPool): Array<Member<CloudAddress>> {
  return bySerial(store.poolMembers(pool).map(({ ref, address }) => ({ ref, item: address }))).filter(
    (m) => m.item.enableStatus === 'enable',
  );
}

/** Applies one strategy to members already filtered and ordered by serial number. */
function pick<T>(
  store: CloudGtmStore,
  ownerId: string,
  owner: { lbStrategy: LbStrategy; sequenceMode: string },
  members: Array<Member<T>>,
  input: ResolveInput,
): T[] {
  if (members.length === 0) return [];
  if (owner.lbStrategy === 'sequence') {
    const stickyId = store.sticky.get(ownerId);
    const kept = owner.sequenceMode === 'non_preemptive' ? members.find((m) => m.ref.id === stickyId) : undefined;
    const chosen = kept ?? (members[0] as Member<T>);
    store.sticky.set(ownerId, chosen.ref.id);
    return [chosen.item];
  }
  if (owner.lbStrategy === 'weight') return pickWeighted(members, (m) => m.ref.weightValue, input.random).map((m) => m.item);
  return rotate(members, input.rotation).map((m) => m.item);
}

function toRecords(addresses: CloudAddress[], config: InstanceConfig): CloudResolution['records'] {
  if (config.rrType === 'CNAME') {
    const target = addresses.find((a) => a.type === 'domain');
    return target ? [{ type: 'CNAME', data: target.address.replace(/\.$/, '') }] : [];
  }
  const wanted = config.rrType === 'A' ? 'IPv4' : 'IPv6';
  const seen = new Set<string>();
  const records: CloudResolution['records'] = [];
  for (const address of addresses) {
    if (address.type !== wanted || seen.has(address.address)) continue;
    seen.add(address.address);
    records.push({ type: config.rrType, data: address.address });
  }
  return records;
}
