/**
 * The GTM 3.0 port: the `CloudGtm*` actions of Alidns API 2015-01-09 the traffic reconciler needs,
 * for one GTM 3.0 instance. Adapter: shared/traffic/adapters/aliyun/alidns-cloudgtm.ts over
 * pop-core, pointed at Alibaba Cloud or at the local emulator.
 *
 * A port of its own rather than one Gtm port reshaped for both versions: 2.0 keeps addresses inside
 * pools and pools inside an access strategy, 3.0 makes addresses, pools, health-check templates and
 * the domain's configuration separate objects that reference each other by id. A common interface
 * would be either the union of both (every caller branching on the version) or a third shape both
 * adapters translate to (and the planner's writes would lose what each version can say). Instead
 * the planner shares the version-neutral part (which addresses each pool should hold:
 * shared/traffic/domain/desired.ts) and each version diffs it against its own port's records.
 *
 * Records and ownership naming: shared/traffic/domain/gtm3.ts. Errors as in gtm.port.ts:
 * TricenterError `THROTTLED` / `UNREACHABLE` / `TIMEOUT` (retryable, after the adapter's own
 * bounded retries), `NOT_FOUND`, `VALIDATION` or `FORBIDDEN` (permanent).
 */
import type {
  Gtm3Address,
  Gtm3AddressInput,
  Gtm3ConfigPool,
  Gtm3EnableStatus,
  Gtm3HealthJudgement,
  Gtm3HealthTask,
  Gtm3InstanceConfig,
  Gtm3InstanceConfigInput,
  Gtm3LbStrategy,
  Gtm3MonitorTemplate,
  Gtm3MonitorTemplateInput,
  Gtm3Pool,
  Gtm3PoolInput,
  Gtm3PoolMember,
  Gtm3SequenceMode,
} from '../domain/gtm3.ts';

export interface Gtm3 {
  readonly gtmVersion: '3.0';
  /** The GTM 3.0 instance this port is bound to (instance configs are per instance; addresses, pools and templates per account). */
  readonly instanceId: string;

  /** Every address of the account (all pages). */
  listAddresses(): Promise<Gtm3Address[]>;
  createAddress(input: Gtm3AddressInput): Promise<{ addressId: string }>;
  /** Name, address, health judgement and the whole list of health tasks. */
  updateAddress(
    addressId: string,
    input: { name: string; address: string; healthJudgement: Gtm3HealthJudgement; healthTasks: Gtm3HealthTask[] },
  ): Promise<void>;
  setAddressEnableStatus(addressId: string, status: Gtm3EnableStatus): Promise<void>;
  /** Back to `auto`: GTM's health checks decide. */
  setAddressAutoMode(addressId: string): Promise<void>;
  deleteAddress(addressId: string): Promise<void>;

  /** Every address pool of the account with its addresses (all pages). */
  listPools(): Promise<Gtm3Pool[]>;
  /** Created enabled, without addresses (the API sets its strategy and addresses by other actions). */
  createPool(input: Gtm3PoolInput): Promise<{ poolId: string }>;
  updatePoolBasic(poolId: string, input: { name: string; healthJudgement: Gtm3HealthJudgement }): Promise<void>;
  setPoolLbStrategy(poolId: string, strategy: Gtm3LbStrategy, sequenceMode?: Gtm3SequenceMode): Promise<void>;
  /** Replaces the whole address list of the pool. */
  replacePoolAddresses(poolId: string, members: Gtm3PoolMember[]): Promise<void>;

  /** Every health-check template of the account (all pages). */
  listMonitorTemplates(): Promise<Gtm3MonitorTemplate[]>;
  createMonitorTemplate(input: Gtm3MonitorTemplateInput): Promise<{ templateId: string }>;
  updateMonitorTemplate(templateId: string, input: Gtm3MonitorTemplateInput): Promise<void>;

  /** Every configuration (access domain + record type) of the instance (all pages). */
  listInstanceConfigs(): Promise<Gtm3InstanceConfig[]>;
  /** Created enabled, with the custom zone mode. */
  createInstanceConfig(input: Gtm3InstanceConfigInput): Promise<{ configId: string }>;
  updateInstanceConfigBasic(configId: string, input: { hostname: string; zone: string; ttl: number }): Promise<void>;
  /** Replaces the whole pool list of the configuration. */
  replaceInstanceConfigPools(configId: string, pools: Gtm3ConfigPool[]): Promise<void>;
  setInstanceConfigLbStrategy(configId: string, strategy: Gtm3LbStrategy, sequenceMode?: Gtm3SequenceMode): Promise<void>;
}
