import { randomBytes } from 'node:crypto';

/** The emulator's in-memory model of one GTM 2.0 instance: pools, monitors, access strategies, health. */

export const POOL_TYPES = ['IPV4', 'IPV6', 'DOMAIN'] as const;
export const LBA_STRATEGIES = ['ALL_RR', 'RATIO'] as const;
export const ADDR_MODES = ['SMART', 'ONLINE', 'OFFLINE'] as const;
export const PROTOCOL_TYPES = ['HTTP', 'HTTPS', 'PING', 'TCP'] as const;
export const ACCESS_MODES = ['AUTO', 'DEFAULT', 'FAILOVER'] as const;
export const STRATEGY_MODES = ['GEO', 'LATENCY'] as const;
export const SWITCHES = ['OPEN', 'CLOSE'] as const;

export type PoolType = (typeof POOL_TYPES)[number];
export type LbaStrategy = (typeof LBA_STRATEGIES)[number];
type AddrMode = (typeof ADDR_MODES)[number];
export type ProtocolType = (typeof PROTOCOL_TYPES)[number];
type AccessMode = (typeof ACCESS_MODES)[number];
type StrategyMode = (typeof STRATEGY_MODES)[number];
export type Switch = (typeof SWITCHES)[number];

export interface GtmAddress {
  addr: string;
  mode: AddrMode;
  lbaWeight?: number;
  attributeInfo?: string;
  remark?: string;
  createdAt: number;
  updatedAt: number;
}

export interface GtmPool {
  id: string;
  name: string;
  type: PoolType;
  lbaStrategy: LbaStrategy;
  addresses: GtmAddress[];
  monitorConfigId?: string;
  createdAt: number;
  updatedAt: number;
}

/** `MonitorExtendInfo` parsed; the raw string is kept too because Describe returns it verbatim. */
export interface MonitorSettings {
  host?: string;
  path?: string;
  port?: number;
  /** The check fails when the HTTP status is greater than this (facts file, `codeKey`). */
  code?: number;
  failureRate?: number;
  sni?: boolean;
}

export interface GtmMonitor {
  id: string;
  poolId: string;
  protocolType: ProtocolType;
  interval: number;
  evaluationCount: number;
  timeout: number;
  extendInfo: string;
  settings: MonitorSettings;
  ispCityNodes: Array<{ cityCode?: string; ispCode?: string }>;
  status: Switch;
  createdAt: number;
  updatedAt: number;
}

export interface PoolRef {
  id: string;
  lbaWeight?: number;
}

export interface GtmStrategy {
  id: string;
  name: string;
  mode: StrategyMode;
  lines: string[];
  defaultAddrPoolType: PoolType;
  defaultLbaStrategy?: LbaStrategy;
  defaultMinAvailableAddrNum: number;
  defaultMaxReturnAddrNum?: number;
  defaultLatencyOptimization?: Switch;
  defaultPools: PoolRef[];
  failoverAddrPoolType?: PoolType;
  failoverLbaStrategy?: LbaStrategy;
  failoverMinAvailableAddrNum?: number;
  failoverMaxReturnAddrNum?: number;
  failoverLatencyOptimization?: Switch;
  failoverPools: PoolRef[];
  accessMode: AccessMode;
  createdAt: number;
}

export interface AlertConfig {
  noticeType?: string;
  smsNotice?: boolean;
  emailNotice?: boolean;
  dingtalkNotice?: boolean;
}

export interface GtmInstanceConfig {
  instanceName?: string;
  ttl: number;
  publicCnameMode?: string;
  publicUserDomainName?: string;
  publicZoneName?: string;
  publicRr?: string;
  cnameType: string;
  alertGroup?: string;
  alertConfig: AlertConfig[];
}

export interface AddressHealth {
  healthy: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastCheckedAt?: number;
  lastResult?: string;
}

/** A new instance answers with this TTL until UpdateDnsGtmInstanceGlobalConfig sets one (emulator choice). */
const DEFAULT_TTL_SECONDS = 60;

export class GtmStore {
  readonly pools = new Map<string, GtmPool>();
  readonly monitors = new Map<string, GtmMonitor>();
  readonly strategies = new Map<string, GtmStrategy>();
  /** Keyed by `healthKey(poolId, addr)`; an address without a record has not been probed yet. */
  readonly health = new Map<string, AddressHealth>();
  config: GtmInstanceConfig = { ttl: DEFAULT_TTL_SECONDS, cnameType: 'PUBLIC', alertConfig: [] };

  constructor(
    readonly instanceId: string,
    readonly createdAt: number,
  ) {}

  newId(prefix: string): string {
    let id: string;
    do id = `${prefix}${randomBytes(4).toString('hex')}`;
    while (this.pools.has(id) || this.monitors.has(id) || this.strategies.has(id));
    return id;
  }

  monitorOf(pool: GtmPool): GtmMonitor | undefined {
    return pool.monitorConfigId === undefined ? undefined : this.monitors.get(pool.monitorConfigId);
  }

  poolMonitorStatus(pool: GtmPool): Switch | 'UNCONFIGURED' {
    return this.monitorOf(pool)?.status ?? 'UNCONFIGURED';
  }

  /** The probe's verdict; an address nobody probes (no monitor, monitor closed, not probed yet) counts as healthy. */
  isHealthy(pool: GtmPool, addr: string): boolean {
    if (this.monitorOf(pool)?.status !== 'OPEN') return true;
    return this.health.get(healthKey(pool.id, addr))?.healthy ?? true;
  }

  /** Whether DNS may hand out the address: ONLINE always, OFFLINE never, SMART follows the health check. */
  isAvailable(pool: GtmPool, address: GtmAddress): boolean {
    if (address.mode === 'ONLINE') return true;
    if (address.mode === 'OFFLINE') return false;
    return this.isHealthy(pool, address.addr);
  }

  availableCount(refs: PoolRef[]): number {
    let count = 0;
    for (const ref of refs) {
      const pool = this.pools.get(ref.id);
      if (pool) count += pool.addresses.filter((address) => this.isAvailable(pool, address)).length;
    }
    return count;
  }

  /** Which pool set a strategy serves now, and the availability numbers Describe reports. */
  evaluate(strategy: GtmStrategy): StrategyEvaluation {
    const defaultAvailable = this.availableCount(strategy.defaultPools);
    const failoverAvailable = this.availableCount(strategy.failoverPools);
    const defaultUp = defaultAvailable >= strategy.defaultMinAvailableAddrNum;
    const failoverUp = strategy.failoverPools.length > 0 && failoverAvailable >= (strategy.failoverMinAvailableAddrNum ?? 1);
    let effective: 'DEFAULT' | 'FAILOVER';
    if (strategy.accessMode === 'DEFAULT') effective = 'DEFAULT';
    else if (strategy.accessMode === 'FAILOVER') effective = strategy.failoverPools.length > 0 ? 'FAILOVER' : 'DEFAULT';
    // AUTO: the primary set while it has enough healthy addresses; the failover set when it has
    // enough; when neither has, the primary set again (see resolve.ts: it then fails open).
    else effective = defaultUp || !failoverUp ? 'DEFAULT' : 'FAILOVER';
    return { effective, defaultAvailable, failoverAvailable, defaultUp, failoverUp };
  }

  /** The strategy DNS answers with: the one serving the `default` line, else the oldest. */
  servingStrategy(): GtmStrategy | undefined {
    const all = [...this.strategies.values()];
    return all.find((strategy) => strategy.lines.includes('default')) ?? all[0];
  }

  strategiesUsingPool(poolId: string): GtmStrategy[] {
    return [...this.strategies.values()].filter((strategy) =>
      [...strategy.defaultPools, ...strategy.failoverPools].some((ref) => ref.id === poolId),
    );
  }

  /** Names the DNS server answers for: the user domain, and the CNAME access domain PublicRr.PublicZoneName. */
  servedNames(): string[] {
    const names = [this.config.publicUserDomainName];
    if (this.config.publicRr && this.config.publicZoneName) names.push(`${this.config.publicRr}.${this.config.publicZoneName}`);
    return names.filter((name): name is string => Boolean(name)).map(normalizeDomain);
  }
}

export interface StrategyEvaluation {
  effective: 'DEFAULT' | 'FAILOVER';
  defaultAvailable: number;
  failoverAvailable: number;
  defaultUp: boolean;
  failoverUp: boolean;
}

export function healthKey(poolId: string, addr: string): string {
  return `${poolId}|${addr}`;
}

export function normalizeDomain(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}

/** `2017-12-28T13:08Z`: the API's UTC-minute time format (facts file, `conventions.timeFormat`). */
export function apiTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 16)}Z`;
}
