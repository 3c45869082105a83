/**
 * The GTM 2.0 port: the few Alidns actions (API 2015-01-09) the traffic reconciler needs, for one
 * GTM instance (GTM 2.0 serves one domain per instance). Adapters: Alidns over pop-core
 * (shared/traffic/adapters/aliyun/alidns-gtm.ts), pointed at Alibaba Cloud or at the local emulator.
 *
 * Records and the ownership naming: shared/traffic/domain/gtm.ts.
 *
 * Errors: TricenterError `THROTTLED` / `UNREACHABLE` / `TIMEOUT` (retryable, after the adapter's own
 * bounded retries), `NOT_FOUND`, `VALIDATION` or `FORBIDDEN` (permanent); `cause` keeps the API's
 * Code and RequestId.
 */
import type {
  GtmGlobalConfig,
  GtmMonitorConfig,
  GtmPool,
  GtmPoolInput,
  GtmPoolSummary,
  GtmPoolType,
  GtmStrategy,
  GtmStrategyInput,
  GtmStrategySummary,
} from '../domain/gtm.ts';

export interface Gtm {
  /** The instance this Gtm is bound to: GTM claims are checked against it, not against what a policy names. */
  readonly instanceId: string;
  /** Every pool of the instance (all pages). */
  listPools(): Promise<GtmPoolSummary[]>;
  getPool(poolId: string): Promise<GtmPool>;
  /** With `monitor`, the pool is created with its health check open (MonitorStatus OPEN) in the same call. */
  createPool(
    input: GtmPoolInput & { type: GtmPoolType; monitor?: GtmMonitorConfig },
  ): Promise<{ poolId: string; monitorConfigId?: string }>;
  /** Replaces the whole address list. */
  updatePool(poolId: string, input: GtmPoolInput): Promise<void>;

  getMonitor(monitorConfigId: string): Promise<GtmMonitorConfig>;
  createMonitor(poolId: string, config: GtmMonitorConfig): Promise<{ monitorConfigId: string }>;
  updateMonitor(monitorConfigId: string, config: GtmMonitorConfig): Promise<void>;
  setMonitorStatus(monitorConfigId: string, status: 'OPEN' | 'CLOSE'): Promise<void>;

  /** Every GEO access strategy of the instance (all pages). */
  listStrategies(): Promise<GtmStrategySummary[]>;
  getStrategy(strategyId: string): Promise<GtmStrategy>;
  /** Created with AccessMode AUTO (the API's default). */
  createStrategy(input: GtmStrategyInput): Promise<{ strategyId: string }>;
  /** Sends AccessMode AUTO: switching between primary and failover is left to GTM's probes. */
  updateStrategy(strategyId: string, input: GtmStrategyInput): Promise<void>;

  getGlobalConfig(): Promise<GtmGlobalConfig>;
  updateGlobalConfig(config: Required<GtmGlobalConfig>): Promise<void>;
}
