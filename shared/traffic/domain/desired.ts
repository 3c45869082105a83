/**
 * The version-neutral part of traffic planning, shared by the GTM 2.0 planner (planner.ts) and the
 * GTM 3.0 planner (planner3.ts): which addresses each policy pool should hold, from what its
 * clusters report now and what was seen before. Safety rules live here once: unknown is not empty
 * (an unreachable cluster keeps its addresses), debounced removal (`removeAfter` absent
 * observations in a row), never an empty pool unless `allowEmpty`. Pure: no I/O, no clock.
 */
import { isIP } from 'node:net';
import type { AppRef } from '../../delivery/model/ownership.ts';
import { clusterOfRemark, ownerRemark } from './gtm.ts';
import type { ResolvedPool } from './resolve.ts';
import type { AddressHistory, ClusterObservation, TrafficHistory, TrafficWarning } from './types.ts';

export const DEFAULT_REMOVE_AFTER = 3;

/** IPV4 / IPV6 / DOMAIN (GTM 2.0's pool types; GTM 3.0 spells them IPv4 / IPv6 / domain). */
export type AddressFamily = 'IPV4' | 'IPV6' | 'DOMAIN';

/** An address a pool should hold: SMART is answered while healthy, OFFLINE kept but never answered. */
export interface DesiredAddress {
  addr: string;
  mode: 'SMART' | 'OFFLINE';
  /** The cluster's weight in a RATIO pool, else 1. */
  weight: number;
  /** ownerRemark(app, cluster). */
  remark: string;
}

/** What the clusters report now and what was seen before. */
export interface ObservedAddresses {
  /** Per registry cluster name; a cluster missing here counts as unknown, like 'unreachable'. */
  observations: Record<string, ClusterObservation>;
  history: TrafficHistory | undefined;
}

/** Trims, lower-cases and drops a trailing dot, so that `10.0.0.1 ` and `Host.Example.` compare equal to GTM's form. */
export function normalizeAddress(addr: string): string {
  return addr.trim().toLowerCase().replace(/\.$/, '');
}

function addressType(addr: string): AddressFamily {
  const family = isIP(addr);
  return family === 4 ? 'IPV4' : family === 6 ? 'IPV6' : 'DOMAIN';
}

interface NextAddresses {
  addresses: DesiredAddress[];
  history: Map<string, AddressHistory>;
}

/**
 * The addresses one pool should hold next, and their history: what its clusters report now, what
 * was known before (the history, else what GTM holds: a lost history is rebuilt, never read as
 * "remove"), an unknown cluster's addresses kept, an absent one dropped only after `removeAfter`
 * observations in a row, and never the last address of a pool (unless `allowEmpty`: then the last
 * addresses stay, OFFLINE, as GTM holds no empty pool).
 */
export function nextAddresses(
  entry: ResolvedPool,
  input: ObservedAddresses,
  current: { addresses: ReadonlyArray<{ addr: string; remark: string }> } | undefined,
  type: AddressFamily,
  app: AppRef,
  removeAfter: number,
  warnings: TrafficWarning[],
): NextAddresses {
  const name = entry.pool.name;
  const weightOf = new Map(entry.clusters.map((c) => [c.name, c.weight]));
  const next = new Map<string, AddressHistory>();
  const misfits: string[] = [];
  for (const cluster of entry.clusters) {
    const observed = input.observations[cluster.name];
    if (observed === undefined || observed === 'unreachable') continue;
    for (const raw of observed.addresses) {
      const addr = normalizeAddress(raw);
      if (!addr || next.has(addr)) continue;
      if (addressType(addr) === type) next.set(addr, { cluster: cluster.name, absent: 0 });
      else misfits.push(addr);
    }
  }
  if (current && misfits.length > 0) {
    warnings.push({
      code: 'MIXED_ADDRESS_TYPES',
      pool: name,
      message: `pool ${name} is ${type} in GTM; ${misfits.join(', ')} cannot join it and are left out`,
    });
  }

  // Addresses known from before: the history first, then GTM itself (a lost history is rebuilt, never read as "remove").
  const known = new Map<string, AddressHistory>(Object.entries(input.history?.pools[name] ?? {}));
  for (const a of current?.addresses ?? []) {
    const addr = normalizeAddress(a.addr);
    if (!known.has(addr)) known.set(addr, { cluster: clusterOfRemark(app, a.remark) ?? '', absent: 0 });
  }
  const dropped = new Map<string, AddressHistory>();
  for (const [addr, before] of known) {
    if (next.has(addr) || addressType(addr) !== type) continue;
    const observed = input.observations[before.cluster];
    const unknown = weightOf.has(before.cluster) && (observed === undefined || observed === 'unreachable');
    if (unknown) {
      next.set(addr, before);
      continue;
    }
    const absent = before.absent + 1;
    if (absent >= removeAfter) dropped.set(addr, { cluster: before.cluster, absent: removeAfter });
    else next.set(addr, { cluster: before.cluster, absent });
  }

  const toAddress = (addr: string, h: AddressHistory, mode: DesiredAddress['mode']): DesiredAddress => ({
    addr,
    mode,
    weight: weightOf.get(h.cluster) ?? 1,
    remark: ownerRemark(app, h.cluster),
  });
  const inGtm = current?.addresses.length ?? 0;
  if (next.size === 0 && dropped.size > 0 && inGtm > 0) {
    if (!entry.pool.allowEmpty) {
      warnings.push({
        code: 'WOULD_EMPTY',
        pool: name,
        message: `pool ${name} would lose its last address (${[...dropped.keys()].join(', ')}); kept because allowEmpty is false`,
      });
      return { addresses: sortAddresses([...dropped].map(([a, h]) => toAddress(a, h, 'SMART'))), history: dropped };
    }
    // GTM requires at least one address per pool: an allowed empty pool keeps its last addresses switched OFFLINE.
    return { addresses: sortAddresses([...dropped].map(([a, h]) => toAddress(a, h, 'OFFLINE'))), history: dropped };
  }
  return { addresses: sortAddresses([...next].map(([a, h]) => toAddress(a, h, 'SMART'))), history: next };
}

/** Every address the pool might hold: what its clusters report now and what the history remembers. */
export function candidateAddresses(entry: ResolvedPool, input: ObservedAddresses): string[] {
  const observed = entry.clusters.flatMap((c) => {
    const o = input.observations[c.name];
    return o === undefined || o === 'unreachable' ? [] : o.addresses;
  });
  const remembered = Object.keys(input.history?.pools[entry.pool.name] ?? {});
  return [...new Set([...observed, ...remembered].map(normalizeAddress).filter(Boolean))];
}

/** The family most addresses have (a pool holds one family); a mix is warned about. */
export function poolType(addresses: string[], name: string, warnings: TrafficWarning[]): AddressFamily {
  const counts = new Map<AddressFamily, number>();
  for (const a of addresses) counts.set(addressType(a), (counts.get(addressType(a)) ?? 0) + 1);
  const ranked = [...counts].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  if (ranked.length > 1) {
    warnings.push({
      code: 'MIXED_ADDRESS_TYPES',
      pool: name,
      message: `pool ${name} mixes address types (${ranked.map(([t, n]) => `${n} ${t}`).join(', ')}); only ${ranked[0]?.[0]} addresses are used`,
    });
  }
  return ranked[0]?.[0] ?? 'IPV4';
}

export function sortAddresses<T extends { addr: string }>(addresses: T[]): T[] {
  return [...addresses].sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
}
