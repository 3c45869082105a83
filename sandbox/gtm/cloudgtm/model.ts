import { randomBytes } from 'node:crypto';
import type { MonitorSettings } from '../state.ts';

/**
 * The emulator's model of GTM 3.0 (the `CloudGtm*` actions of Alidns 2015-01-09): monitor
 * templates, addresses with their health-check tasks, address pools that reference addresses, and
 * one instance whose configurations (one access domain and record type each) reference pools.
 * Addresses, pools and templates belong to the account, not to the instance, as in the API.
 * Enum values are the ones the published SDK models (@alicloud/alidns20150109) list.
 */

export const ADDRESS_TYPES = ['IPv4', 'IPv6', 'domain'] as const;
export const ENABLE_STATUSES = ['enable', 'disable'] as const;
export const AVAILABLE_MODES = ['auto', 'manual'] as const;
export const AVAILABLE_STATUSES = ['available', 'unavailable'] as const;
export const HEALTH_JUDGEMENTS = ['any_ok', 'p30_ok', 'p50_ok', 'p70_ok', 'all_ok'] as const;
export const LB_STRATEGIES = ['round_robin', 'sequence', 'weight', 'source_nearest'] as const;
export const SEQUENCE_MODES = ['preemptive', 'non_preemptive'] as const;
export const RR_TYPES = ['A', 'AAAA', 'CNAME'] as const;
export const ZONE_MODES = ['custom', 'sys_assign'] as const;
export const TEMPLATE_PROTOCOLS = ['ping', 'tcp', 'http', 'https'] as const;
export const IP_VERSIONS = ['IPv4', 'IPv6'] as const;
export const EVALUATION_COUNTS = [1, 2, 3] as const;
export const TIMEOUTS = [2000, 3000, 5000, 10000] as const;
export const FAILURE_RATES = [20, 50, 80, 100] as const;

export type AddressType = (typeof ADDRESS_TYPES)[number];
type EnableStatus = (typeof ENABLE_STATUSES)[number];
type AvailableMode = (typeof AVAILABLE_MODES)[number];
type AvailableStatus = (typeof AVAILABLE_STATUSES)[number];
type HealthJudgement = (typeof HEALTH_JUDGEMENTS)[number];
export type LbStrategy = (typeof LB_STRATEGIES)[number];
export type SequenceMode = (typeof SEQUENCE_MODES)[number];
export type RrType = (typeof RR_TYPES)[number];
type ZoneMode = (typeof ZONE_MODES)[number];
export type TemplateProtocol = (typeof TEMPLATE_PROTOCOLS)[number];
type IpVersion = (typeof IP_VERSIONS)[number];

export interface MonitorTemplate {
  id: string;
  name: string;
  protocol: TemplateProtocol;
  ipVersion: IpVersion;
  interval: number;
  evaluationCount: number;
  timeout: number;
  failureRate: number;
  /** Returned verbatim by Describe; `settings` is what the probe uses. */
  extendInfo: string;
  settings: MonitorSettings;
  ispCityNodes: Array<{ cityCode: string; ispCode: string }>;
  remark?: string;
  createdAt: number;
  updatedAt: number;
}

export interface HealthTask {
  templateId: string;
  /** Absent for ping. */
  port?: number;
}

export interface CloudAddress {
  id: string;
  name: string;
  address: string;
  type: AddressType;
  enableStatus: EnableStatus;
  availableMode: AvailableMode;
  manualAvailableStatus?: AvailableStatus;
  healthJudgement: HealthJudgement;
  healthTasks: HealthTask[];
  attributeInfo?: string;
  remark?: string;
  createdAt: number;
  updatedAt: number;
}

/** A pool's or a configuration's reference to a member, with its place in the strategy. */
export interface MemberRef {
  id: string;
  serialNumber: number;
  weightValue: number;
  requestSource: string[];
}

export interface CloudPool {
  id: string;
  name: string;
  type: AddressType;
  enableStatus: EnableStatus;
  healthJudgement: HealthJudgement;
  lbStrategy: LbStrategy;
  sequenceMode: SequenceMode;
  addresses: MemberRef[];
  remark?: string;
  createdAt: number;
  updatedAt: number;
}

export interface InstanceConfig {
  id: string;
  hostname: string;
  zoneName: string;
  zoneMode: ZoneMode;
  rrType: RrType;
  ttl: number;
  enableStatus: EnableStatus;
  chargeType?: string;
  remark?: string;
  lbStrategy: LbStrategy;
  sequenceMode: SequenceMode;
  pools: MemberRef[];
  createdAt: number;
  updatedAt: number;
}

/** One health-check task's verdict; a task never probed yet counts as healthy. */
export interface TaskHealth {
  healthy: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastCheckedAt?: number;
  lastResult?: string;
}

export type AddressHealthStatus = 'ok' | 'ok_alert' | 'ok_no_monitor' | 'exceptional';
export type GroupHealthStatus = 'ok' | 'ok_alert' | 'exceptional';

const JUDGEMENT_SHARE: Record<HealthJudgement, number> = { any_ok: 0, p30_ok: 0.3, p50_ok: 0.5, p70_ok: 0.7, all_ok: 1 };

/** Whether `ok` of `total` satisfies the judgement (any_ok: at least one; pNN_ok: at least NN %; all_ok: all). */
function judgementMet(judgement: HealthJudgement, ok: number, total: number): boolean {
  if (total === 0 || ok === 0) return false;
  return ok / total >= JUDGEMENT_SHARE[judgement];
}

export function taskKey(addressId: string, task: HealthTask): string {
  return `${addressId}|${task.templateId}|${task.port ?? ''}`;
}

/** The record type a pool type answers with: IPv4 pools serve A, IPv6 AAAA, domain CNAME. */
export const RR_TYPE_OF: Record<AddressType, RrType> = { IPv4: 'A', IPv6: 'AAAA', domain: 'CNAME' };

export function domainOf(config: Pick<InstanceConfig, 'hostname' | 'zoneName'>): string {
  const zone = config.zoneName.toLowerCase().replace(/\.$/, '');
  return config.hostname === '@' ? zone : `${config.hostname.toLowerCase()}.${zone}`;
}

export class CloudGtmStore {
  readonly templates = new Map<string, MonitorTemplate>();
  readonly addresses = new Map<string, CloudAddress>();
  readonly pools = new Map<string, CloudPool>();
  readonly configs = new Map<string, InstanceConfig>();
  /** Keyed by `taskKey(addressId, task)`. */
  readonly health = new Map<string, TaskHealth>();
  /**
   * Where a non-preemptive sequence stays: the member it last answered with, by pool or
   * configuration id. Kept with the state so that a restart does not preempt.
   */
  readonly sticky = new Map<string, string>();

  constructor(
    readonly instanceId: string,
    readonly createdAt: number,
  ) {}

  newId(prefix: string): string {
    let id: string;
    do id = `${prefix}${randomBytes(6).toString('hex')}`;
    while (this.templates.has(id) || this.addresses.has(id) || this.pools.has(id) || this.configs.has(id));
    return id;
  }

  taskHealthy(address: CloudAddress, task: HealthTask): boolean {
    return this.health.get(taskKey(address.id, task))?.healthy ?? true;
  }

  /** The health checks' verdict, judged by the address's HealthJudgement over its tasks. */
  addressHealth(address: CloudAddress): AddressHealthStatus {
    const total = address.healthTasks.length;
    if (total === 0) return 'ok_no_monitor';
    const ok = address.healthTasks.filter((task) => this.taskHealthy(address, task)).length;
    if (ok === total) return 'ok';
    return judgementMet(address.healthJudgement, ok, total) ? 'ok_alert' : 'exceptional';
  }

  /** Whether DNS may answer with the address: enabled, and auto by its health or manual by its status. */
  addressAvailable(address: CloudAddress): boolean {
    if (address.enableStatus !== 'enable') return false;
    if (address.availableMode === 'manual') return address.manualAvailableStatus !== 'unavailable';
    return this.addressHealth(address) !== 'exceptional';
  }

  poolMembers(pool: CloudPool): Array<{ ref: MemberRef; address: CloudAddress }> {
    return pool.addresses.flatMap((ref) => {
      const address = this.addresses.get(ref.id);
      return address ? [{ ref, address }] : [];
    });
  }

  poolHealth(pool: CloudPool): GroupHealthStatus {
    const members = this.poolMembers(pool);
    const ok = members.filter((m) => this.addressAvailable(m.address)).length;
    if (members.length > 0 && ok === members.length) return 'ok';
    return judgementMet(pool.healthJudgement, ok, members.length) ? 'ok_alert' : 'exceptional';
  }

  poolAvailable(pool: CloudPool): boolean {
    return pool.enableStatus === 'enable' && this.poolHealth(pool) !== 'exceptional';
  }

  configPools(config: InstanceConfig): Array<{ ref: MemberRef; pool: CloudPool }> {
    return config.pools.flatMap((ref) => {
      const pool = this.pools.get(ref.id);
      return pool ? [{ ref, pool }] : [];
    });
  }

  configHealth(config: InstanceConfig): GroupHealthStatus {
    const pools = this.configPools(config);
    const up = pools.filter((p) => this.poolAvailable(p.pool)).length;
    if (pools.length > 0 && up === pools.length) return 'ok';
    return up > 0 ? 'ok_alert' : 'exceptional';
  }

  configAvailable(config: InstanceConfig): boolean {
    return config.enableStatus === 'enable' && this.configHealth(config) !== 'exceptional';
  }

  poolsReferencing(addressId: string): CloudPool[] {
    return [...this.pools.values()].filter((pool) => pool.addresses.some((ref) => ref.id === addressId));
  }

  configsReferencing(poolId: string): InstanceConfig[] {
    return [...this.configs.values()].filter((config) => config.pools.some((ref) => ref.id === poolId));
  }

  addressesUsingTemplate(templateId: string): CloudAddress[] {
    return [...this.addresses.values()].filter((address) => address.healthTasks.some((task) => task.templateId === templateId));
  }

  servedNames(): string[] {
    return [...new Set([...this.configs.values()].map(domainOf))];
  }

  /** Forgets the verdicts of tasks an address no longer has (or of an address that is gone). */
  dropHealthOf(addressId: string, keep: HealthTask[] = []): void {
    const kept = new Set(keep.map((task) => taskKey(addressId, task)));
    for (const key of [...this.health.keys()]) if (key.startsWith(`${addressId}|`) && !kept.has(key)) this.health.delete(key);
  }
}
