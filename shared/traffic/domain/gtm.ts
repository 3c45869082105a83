/**
 * The records the GTM 2.0 port speaks (shared/traffic/ports/gtm.port.ts), after the Alidns actions
 * (API 2015-01-09), and how tricenter marks what it owns in GTM.
 *
 * Ownership. The API has no pool-level remark or tag, so a pool is ours when both hold:
 *  - its name is `ownedPoolName(app, pool)`: `tricenter.<namespace>.<app>.<pool>` (dots never occur
 *    in the DNS-1123 parts, so the name is unambiguous and never collides with a hand-made pool);
 *  - every address carries `Addr.N.Remark` = `tricenter:<namespace>/<app>@<cluster>` (the cluster
 *    that reported it, which `traffic status` and the drill show).
 * A pool with our name and any address without our remark is foreign: never written. The access
 * strategy has no remark either; it is ours by name `tricenter.<namespace>.<app>`.
 */
import type { AppRef } from '../../delivery/model/ownership.ts';

type GtmLbaStrategy = 'ALL_RR' | 'RATIO';
type GtmAddressMode = 'SMART' | 'ONLINE' | 'OFFLINE';
export type GtmPoolType = 'IPV4' | 'IPV6' | 'DOMAIN';
export type GtmMonitorStatus = 'OPEN' | 'CLOSE' | 'UNCONFIGURED';

export interface GtmAddress {
  addr: string;
  mode: GtmAddressMode;
  /** LbaWeight (used by RATIO pools). */
  weight: number;
  remark: string;
}

/** One row of DescribeDnsGtmInstanceAddressPools. */
export interface GtmPoolSummary {
  id: string;
  name: string;
  type: GtmPoolType;
  lbaStrategy: GtmLbaStrategy;
  addrCount: number;
  monitorConfigId?: string;
  monitorStatus: GtmMonitorStatus;
}

/** DescribeDnsGtmInstanceAddressPool: the summary plus the addresses. */
export interface GtmPool extends GtmPoolSummary {
  addresses: GtmAddress[];
}

export interface GtmPoolInput {
  name: string;
  lbaStrategy: GtmLbaStrategy;
  addresses: GtmAddress[];
}

/** An HTTP(S) health check (AddDnsGtmMonitor / UpdateDnsGtmMonitor; MonitorExtendInfo carries port, host, path, code). */
export interface GtmMonitorConfig {
  protocol: 'HTTP' | 'HTTPS';
  /** Seconds. */
  interval: number;
  evaluationCount: number;
  /** Milliseconds. */
  timeout: number;
  port: number;
  host: string;
  path: string;
  /** Failure threshold: a probe whose status is above it fails. */
  code: number;
}

export interface GtmPoolRef {
  poolId: string;
  weight: number;
}

export interface GtmStrategyInput {
  name: string;
  primaryPoolType: GtmPoolType;
  primary: GtmPoolRef[];
  primaryLbaStrategy: GtmLbaStrategy;
  /** Empty: no failover set. */
  failover: GtmPoolRef[];
  failoverPoolType: GtmPoolType;
  failoverLbaStrategy: GtmLbaStrategy;
  /** DefaultMinAvailableAddrNum. */
  minAvailable: number;
}

export interface GtmStrategy extends GtmStrategyInput {
  id: string;
  accessMode: 'AUTO' | 'DEFAULT' | 'FAILOVER';
}

export interface GtmStrategySummary {
  id: string;
  name: string;
}

export interface GtmGlobalConfig {
  ttl: number;
  instanceName?: string;
  /** PublicUserDomainName: the business domain the instance answers for. */
  userDomainName?: string;
}

const OWNER = 'tricenter';

export function ownedPoolName(app: AppRef, pool: string): string {
  return `${OWNER}.${app.namespace}.${app.name}.${pool}`;
}

export function ownedStrategyName(app: AppRef): string {
  return `${OWNER}.${app.namespace}.${app.name}`;
}

export function ownerRemark(app: AppRef, cluster: string): string {
  return `${OWNER}:${app.namespace}/${app.name}@${cluster}`;
}

/** The cluster named in an address remark we wrote for this app; undefined when the remark is not ours. */
export function clusterOfRemark(app: AppRef, remark: string): string | undefined {
  const prefix = `${OWNER}:${app.namespace}/${app.name}@`;
  return remark.startsWith(prefix) && remark.length > prefix.length ? remark.slice(prefix.length) : undefined;
}
