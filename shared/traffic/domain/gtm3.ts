/**
 * The records the GTM 3.0 port speaks (shared/traffic/ports/gtm3.port.ts), after the `CloudGtm*`
 * actions of Alidns API 2015-01-09 (facts: docs/aliyun-api/cloudgtm-3.0.md), and how tricenter
 * marks what it owns in a GTM 3.0 instance.
 *
 * In 3.0 addresses are objects of their own (with health-check tasks that use monitor templates
 * and an enable / auto-or-manual mode), address pools reference addresses, and an instance
 * configuration (one access domain + record type) references pools with a load-balancing strategy.
 *
 * Ownership (each object carries a name, the pools, addresses and configs a remark too):
 *  - address: one per pool and address, name `tricenter.<namespace>.<app>.<pool>.<address>`,
 *    remark `tricenter:<namespace>/<app>@<cluster>` (the 2.0 address remark: the cluster that reported it);
 *  - pool: name `tricenter.<namespace>.<app>.<pool>` (as in 2.0), remark `tricenter:<namespace>/<app>`;
 *  - monitor template: name `tricenter.<namespace>.<app>.<IPv4|IPv6>-<http|https>` (templates take no
 *    remark on create, and an update cannot change their protocol or IP version: another template);
 *  - instance config: the policy's domain, remark `tricenter:<namespace>/<app>`.
 * An object bearing our name without our remark, or a pool holding an address that is not ours, is
 * foreign: never written. Nothing that is not ours is ever deleted.
 */
import type { AppRef } from '../../delivery/model/ownership.ts';
import { ownedPoolName } from './gtm.ts';

export type Gtm3AddressType = 'IPv4' | 'IPv6' | 'domain';
export type Gtm3EnableStatus = 'enable' | 'disable';
/** How many of an object's health checks must pass for it to be healthy. */
export type Gtm3HealthJudgement = 'any_ok' | 'p30_ok' | 'p50_ok' | 'p70_ok' | 'all_ok';
export type Gtm3LbStrategy = 'round_robin' | 'sequence' | 'weight' | 'source_nearest';
export type Gtm3SequenceMode = 'preemptive' | 'non_preemptive';
export type Gtm3RrType = 'A' | 'AAAA' | 'CNAME';

/** One health-check task of an address: a monitor template probing `port`. */
export interface Gtm3HealthTask {
  templateId: string;
  port: number;
}

export interface Gtm3AddressInput {
  name: string;
  address: string;
  type: Gtm3AddressType;
  remark: string;
  enableStatus: Gtm3EnableStatus;
  /** `auto`: GTM stops answering an unhealthy address by itself; `manual`: an operator decides. */
  availableMode: 'auto' | 'manual';
  healthJudgement: Gtm3HealthJudgement;
  healthTasks: Gtm3HealthTask[];
}

/** One row of ListCloudGtmAddresses. */
export interface Gtm3Address extends Gtm3AddressInput {
  id: string;
  /** ok | ok_alert | ok_no_monitor | exceptional */
  healthStatus: string;
  /** available | unavailable: whether GTM answers with it now. */
  availableStatus: string;
}

/** An address as a pool holds it (ReplaceCloudGtmAddressPoolAddress `Addresses`). */
export interface Gtm3PoolMember {
  addressId: string;
  /** Lower first (sequence strategy). */
  serialNumber: number;
  /** 1..100 (weight strategy). */
  weight: number;
}

export interface Gtm3PoolInput {
  name: string;
  type: Gtm3AddressType;
  remark: string;
  healthJudgement: Gtm3HealthJudgement;
}

/** One row of ListCloudGtmAddressPools, with its addresses. */
export interface Gtm3Pool extends Gtm3PoolInput {
  id: string;
  enableStatus: Gtm3EnableStatus;
  lbStrategy: Gtm3LbStrategy;
  /** Only meaningful with `sequence`. */
  sequenceMode?: Gtm3SequenceMode;
  healthStatus: string;
  members: Array<Gtm3PoolMember & { address: string; healthStatus: string; availableStatus: string; remark: string }>;
}

/** A health-check template (Create/UpdateCloudGtmMonitorTemplate); HTTP(S) only here. */
export interface Gtm3MonitorTemplateInput {
  name: string;
  protocol: 'http' | 'https';
  ipVersion: 'IPv4' | 'IPv6';
  /** Seconds (15 and up). */
  interval: number;
  /** Milliseconds: 2000, 3000, 5000 or 10000. */
  timeout: number;
  /** Consecutive failures before unhealthy: 1..3. */
  evaluationCount: number;
  /** Percentage of failed probe points above which the target is unhealthy: 20, 50, 80 or 100. */
  failureRate: number;
  /** ExtendInfo: Host header, path, and the status above which a probe fails (400 or 500). */
  host: string;
  path: string;
  code: number;
  /** Probe points (IspCityNodes). */
  nodes: Array<{ cityCode: string; ispCode: string }>;
}

export interface Gtm3MonitorTemplate extends Gtm3MonitorTemplateInput {
  id: string;
}

export interface Gtm3ConfigPool {
  poolId: string;
  serialNumber: number;
  weight: number;
}

export interface Gtm3InstanceConfigInput {
  /** ScheduleHostname + ScheduleZoneName = the access domain. `@` for the zone apex. */
  hostname: string;
  zone: string;
  rrType: Gtm3RrType;
  ttl: number;
  remark: string;
}

/** One row of ListCloudGtmInstanceConfigs. */
export interface Gtm3InstanceConfig extends Gtm3InstanceConfigInput {
  id: string;
  /** The full access domain (ScheduleDomainName). */
  domain: string;
  enableStatus: Gtm3EnableStatus;
  lbStrategy: Gtm3LbStrategy;
  sequenceMode?: Gtm3SequenceMode;
  pools: Gtm3ConfigPool[];
  healthStatus: string;
  availableStatus: string;
}

const OWNER = 'tricenter';

export function ownedAppRemark(app: AppRef): string {
  return `${OWNER}:${app.namespace}/${app.name}`;
}

export function ownedAddressName(app: AppRef, pool: string, address: string): string {
  return `${ownedPoolName(app, pool)}.${address}`;
}

export function ownedTemplateName(app: AppRef, ipVersion: 'IPv4' | 'IPv6', protocol: 'http' | 'https'): string {
  return `${OWNER}.${app.namespace}.${app.name}.${ipVersion}-${protocol}`;
}

/**
 * `web-demo.example.com` -> host `web-demo`, zone `example.com` (ScheduleHostname /
 * ScheduleZoneName); a two-label domain is its own zone (host `@`).
 */
export function splitDomain(domain: string): { hostname: string; zone: string } {
  const labels = domain.toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length <= 2) return { hostname: '@', zone: labels.join('.') };
  return { hostname: labels[0] as string, zone: labels.slice(1).join('.') };
}
