import type {
  Gtm3Address,
  Gtm3AddressInput,
  Gtm3EnableStatus,
  Gtm3HealthJudgement,
  Gtm3InstanceConfig,
  Gtm3InstanceConfigInput,
  Gtm3LbStrategy,
  Gtm3MonitorTemplate,
  Gtm3MonitorTemplateInput,
  Gtm3Pool,
  Gtm3PoolInput,
  Gtm3SequenceMode,
} from './gtm3.ts';
import type { GtmGlobalConfig, GtmMonitorConfig, GtmPool, GtmPoolInput, GtmPoolType, GtmStrategy, GtmStrategyInput } from './gtm.ts';

/** What the reconciler saw of one cluster's Ingress: its addresses, or nothing known (API unreachable). */
export type ClusterObservation = { addresses: string[] } | 'unreachable';

/** Per address of a pool: which cluster reported it and how many observations in a row it was missing. */
export interface AddressHistory {
  cluster: string;
  absent: number;
}

/**
 * The persisted memory of earlier observations of one application (JSON). Counters live here,
 * never in process memory, so a disposable function instance removes an address only after
 * `removeAfter` consecutive absent observations however many instances ran them.
 */
export interface TrafficHistory {
  /** policy pool name -> address -> history */
  pools: Record<string, Record<string, AddressHistory>>;
  /** When the planner last produced it (epoch ms). */
  observedAt: number;
}

/** The part of GTM that concerns one application: the pools bearing its pool names, their monitors, its strategy. */
export interface GtmState {
  pools: GtmPool[];
  /** monitorConfigId -> config, for the pools above that have one. */
  monitors: Record<string, GtmMonitorConfig>;
  /** Strategies bearing the application's strategy name (normally 0 or 1). */
  strategies: GtmStrategy[];
  global: GtmGlobalConfig;
}

/** A pool referenced by its policy name; the id is looked up (or taken from a create) when applying. */
export interface PoolRefPlan {
  pool: string;
  weight: number;
  /** Known when the pool exists already; otherwise taken from the create-pool of the same plan. */
  poolId?: string;
}

export type StrategyPlan = Omit<GtmStrategyInput, 'primary' | 'failover'> & { primary: PoolRefPlan[]; failover: PoolRefPlan[] };

export type GtmChange =
  | { kind: 'create-pool'; pool: string; input: GtmPoolInput & { type: GtmPoolType; monitor: GtmMonitorConfig } }
  | { kind: 'update-pool'; pool: string; poolId: string; input: GtmPoolInput; added: string[]; removed: string[] }
  | { kind: 'create-monitor'; pool: string; poolId: string; config: GtmMonitorConfig }
  | { kind: 'update-monitor'; pool: string; monitorConfigId: string; config: GtmMonitorConfig }
  | { kind: 'open-monitor'; pool: string; monitorConfigId?: string }
  | { kind: 'create-strategy'; input: StrategyPlan }
  | { kind: 'update-strategy'; strategyId: string; input: StrategyPlan }
  | { kind: 'update-global-config'; config: Required<GtmGlobalConfig> };

export interface TrafficWarning {
  /** DRIFT: GTM no longer holds what the last reconcile left there (someone else wrote it). */
  code: 'FOREIGN_POOL' | 'AMBIGUOUS' | 'WOULD_EMPTY' | 'NO_ADDRESS_YET' | 'MIXED_ADDRESS_TYPES' | 'STRATEGY_BLOCKED' | 'DRIFT';
  pool?: string;
  message: string;
}

/** The addresses a pool should hold after this plan, for logs, `traffic status` and the drill. */
export interface DesiredPool {
  pool: string;
  gtmName: string;
  addresses: Array<{ addr: string; cluster: string; absent: number; mode: string }>;
}

export interface TrafficPlan {
  changes: GtmChange[];
  history: TrafficHistory;
  warnings: TrafficWarning[];
  desired: DesiredPool[];
}

/** What the reconciler keeps per application between runs (shared/traffic/ports/traffic-history.port.ts). */
export interface TrafficRecord {
  history: TrafficHistory;
  /** GTM settings read at `verifiedAt` and unchanged since by us; see reconcile-traffic.ts. */
  gtmCache?: GtmCache;
}

export interface GtmCache {
  verifiedAt: number;
  /** monitorConfigId -> config */
  monitors: Record<string, GtmMonitorConfig>;
  strategy?: GtmStrategy;
  global: GtmGlobalConfig;
}

export interface StoredTrafficRecord {
  record: TrafficRecord;
  version: number;
}

/** The GTM 3.0 objects the planner sees: everything the port lists (the planner picks what is ours). */
export interface Gtm3State {
  addresses: Gtm3Address[];
  pools: Gtm3Pool[];
  templates: Gtm3MonitorTemplate[];
  /** The instance's configurations. */
  configs: Gtm3InstanceConfig[];
}

/** A health task whose template may be created by the same plan (looked up by IP version when applying). */
export interface Gtm3TaskPlan {
  ipVersion: 'IPv4' | 'IPv6';
  templateId?: string;
  port: number;
}

/** A pool member by address; the address id is known, or taken from a create-address of the same plan. */
export interface Gtm3MemberPlan {
  addr: string;
  addressId?: string;
  serialNumber: number;
  weight: number;
}

export type Gtm3Change =
  | { kind: 'create-template'; ipVersion: 'IPv4' | 'IPv6'; input: Gtm3MonitorTemplateInput }
  | { kind: 'update-template'; ipVersion: 'IPv4' | 'IPv6'; templateId: string; input: Gtm3MonitorTemplateInput }
  | { kind: 'create-address'; pool: string; addr: string; input: Omit<Gtm3AddressInput, 'healthTasks'>; healthTasks: Gtm3TaskPlan[] }
  | {
      kind: 'update-address';
      pool: string;
      addr: string;
      addressId: string;
      input: { name: string; address: string; healthJudgement: Gtm3HealthJudgement };
      healthTasks: Gtm3TaskPlan[];
    }
  | { kind: 'set-address-enable'; pool: string; addr: string; addressId: string; status: Gtm3EnableStatus }
  | { kind: 'set-address-auto'; pool: string; addr: string; addressId: string }
  | { kind: 'create-pool'; pool: string; input: Gtm3PoolInput }
  | { kind: 'update-pool-basic'; pool: string; poolId: string; input: { name: string; healthJudgement: Gtm3HealthJudgement } }
  | { kind: 'set-pool-strategy'; pool: string; poolId?: string; strategy: Gtm3LbStrategy }
  | { kind: 'replace-pool-addresses'; pool: string; poolId?: string; members: Gtm3MemberPlan[]; added: string[]; removed: string[] }
  /** Only after the pool no longer holds it (the replace of the same plan), never the last address of a pool. */
  | { kind: 'delete-address'; pool: string; addr: string; addressId: string }
  | { kind: 'create-config'; input: Gtm3InstanceConfigInput }
  | { kind: 'update-config-basic'; configId: string; input: { hostname: string; zone: string; ttl: number } }
  | {
      kind: 'replace-config-pools';
      configId?: string;
      pools: Array<{ pool: string; poolId?: string; serialNumber: number; weight: number }>;
    }
  | { kind: 'set-config-strategy'; configId?: string; strategy: Gtm3LbStrategy; sequenceMode: Gtm3SequenceMode };

export interface Traffic3Plan {
  changes: Gtm3Change[];
  history: TrafficHistory;
  warnings: TrafficWarning[];
  desired: DesiredPool[];
}
