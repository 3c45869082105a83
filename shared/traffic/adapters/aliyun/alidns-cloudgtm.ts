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
} from '../../domain/gtm3.ts';
import type { Gtm3 } from '../../ports/gtm3.port.ts';
import { AlidnsRpc, asArray, parseJsonObject, type AlidnsRpcOptions, type Json, type Params } from './alidns-rpc.ts';

/**
 * The Gtm3 port over Alidns GTM 3.0 (the `CloudGtm*` actions of API 2015-01-09, RPC) through
 * @alicloud/pop-core, with the same calls, retries, paging and error mapping as the 2.0 adapter
 * (alidns-rpc.ts). Wire facts (action names, parameters, which are JSON strings, response shapes):
 * docs/aliyun-api/cloudgtm-3.0.md. List parameters (`HealthTasks`, `Addresses`, `AddressPools`,
 * `IspCityNodes`) travel as one JSON-encoded parameter each, as the official SDK sends them.
 */
export interface AlidnsCloudGtmOptions extends AlidnsRpcOptions {
  /** The GTM 3.0 instance (`gtm-cn-...`). */
  instanceId: string;
}

/** Every address of a pool or config answers every request source. */
const ALL_SOURCES = ['default'];

export class AlidnsCloudGtm implements Gtm3 {
  readonly gtmVersion = '3.0' as const;
  private readonly rpc: AlidnsRpc;

  constructor(private readonly options: AlidnsCloudGtmOptions) {
    this.rpc = new AlidnsRpc(options, 'alidns-cloudgtm');
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /** Calls made, by kind (reads, writes, retries, per action). */
  get stats(): AlidnsRpc['stats'] {
    return this.rpc.stats;
  }

  async listAddresses(): Promise<Gtm3Address[]> {
    const rows = await this.rpc.allPages('ListCloudGtmAddresses', {}, (r) => r.Addresses?.Address);
    return rows.map(toAddress);
  }

  async createAddress(input: Gtm3AddressInput): Promise<{ addressId: string }> {
    const r = await this.rpc.call('CreateCloudGtmAddress', {
      Name: input.name,
      Address: input.address,
      Type: input.type,
      Remark: input.remark,
      EnableStatus: input.enableStatus,
      AvailableMode: input.availableMode,
      HealthJudgement: input.healthJudgement,
      HealthTasks: healthTasksParam(input.healthTasks),
    });
    return { addressId: String(r.AddressId) };
  }

  async updateAddress(
    addressId: string,
    input: { name: string; address: string; healthJudgement: Gtm3HealthJudgement; healthTasks: Gtm3HealthTask[] },
  ): Promise<void> {
    await this.rpc.call('UpdateCloudGtmAddress', {
      AddressId: addressId,
      Name: input.name,
      Address: input.address,
      HealthJudgement: input.healthJudgement,
      HealthTasks: healthTasksParam(input.healthTasks),
    });
  }

  async setAddressEnableStatus(addressId: string, status: Gtm3EnableStatus): Promise<void> {
    await this.rpc.call('UpdateCloudGtmAddressEnableStatus', { AddressId: addressId, EnableStatus: status });
  }

  async setAddressAutoMode(addressId: string): Promise<void> {
    await this.rpc.call('UpdateCloudGtmAddressManualAvailableStatus', { AddressId: addressId, AvailableMode: 'auto' });
  }

  async deleteAddress(addressId: string): Promise<void> {
    await this.rpc.call('DeleteCloudGtmAddress', { AddressId: addressId });
  }

  async listPools(): Promise<Gtm3Pool[]> {
    const rows = await this.rpc.allPages('ListCloudGtmAddressPools', {}, (r) => r.AddressPools?.AddressPool);
    return rows.map(toPool);
  }

  async createPool(input: Gtm3PoolInput): Promise<{ poolId: string }> {
    const r = await this.rpc.call('CreateCloudGtmAddressPool', {
      AddressPoolName: input.name,
      AddressPoolType: input.type,
      Remark: input.remark,
      HealthJudgement: input.healthJudgement,
      EnableStatus: 'enable',
    });
    return { poolId: String(r.AddressPoolId) };
  }

  async updatePoolBasic(poolId: string, input: { name: string; healthJudgement: Gtm3HealthJudgement }): Promise<void> {
    await this.rpc.call('UpdateCloudGtmAddressPoolBasicConfig', {
      AddressPoolId: poolId,
      AddressPoolName: input.name,
      HealthJudgement: input.healthJudgement,
    });
  }

  async setPoolLbStrategy(poolId: string, strategy: Gtm3LbStrategy, sequenceMode?: Gtm3SequenceMode): Promise<void> {
    await this.rpc.call('UpdateCloudGtmAddressPoolLbStrategy', {
      AddressPoolId: poolId,
      AddressLbStrategy: strategy,
      ...(strategy === 'sequence' ? { SequenceLbStrategyMode: sequenceMode ?? 'preemptive' } : {}),
    });
  }

  async replacePoolAddresses(poolId: string, members: Gtm3PoolMember[]): Promise<void> {
    await this.rpc.call('ReplaceCloudGtmAddressPoolAddress', {
      AddressPoolId: poolId,
      Addresses: JSON.stringify(
        members.map((m) => ({ AddressId: m.addressId, SerialNumber: m.serialNumber, WeightValue: m.weight, RequestSource: ALL_SOURCES })),
      ),
    });
  }

  async listMonitorTemplates(): Promise<Gtm3MonitorTemplate[]> {
    const rows = await this.rpc.allPages('ListCloudGtmMonitorTemplates', {}, (r) => r.Templates?.Template);
    return rows.filter((t) => t.Protocol === 'http' || t.Protocol === 'https').map(toTemplate);
  }

  async createMonitorTemplate(input: Gtm3MonitorTemplateInput): Promise<{ templateId: string }> {
    const r = await this.rpc.call('CreateCloudGtmMonitorTemplate', templateParams(input));
    return { templateId: String(r.TemplateId) };
  }

  async updateMonitorTemplate(templateId: string, input: Gtm3MonitorTemplateInput): Promise<void> {
    const { IpVersion: _fixedAtCreate, Protocol: _protocol, ...params } = templateParams(input);
    await this.rpc.call('UpdateCloudGtmMonitorTemplate', { TemplateId: templateId, ...params });
  }

  async listInstanceConfigs(): Promise<Gtm3InstanceConfig[]> {
    const rows = await this.rpc.allPages(
      'ListCloudGtmInstanceConfigs',
      { InstanceId: this.options.instanceId },
      (r) => r.InstanceConfigs?.InstanceConfig,
    );
    return rows.map(toConfig);
  }

  async createInstanceConfig(input: Gtm3InstanceConfigInput): Promise<{ configId: string }> {
    const r = await this.rpc.call('CreateCloudGtmInstanceConfig', {
      InstanceId: this.options.instanceId,
      ScheduleHostname: input.hostname,
      ScheduleZoneName: input.zone,
      ScheduleZoneMode: 'custom',
      ScheduleRrType: input.rrType,
      Ttl: input.ttl,
      Remark: input.remark,
      EnableStatus: 'enable',
    });
    // The SDK's model types ConfigId as boolean; the API answers the id (`Config-000****`).
    return { configId: String(r.ConfigId) };
  }

  async updateInstanceConfigBasic(configId: string, input: { hostname: string; zone: string; ttl: number }): Promise<void> {
    await this.rpc.call('UpdateCloudGtmInstanceConfigBasic', {
      InstanceId: this.options.instanceId,
      ConfigId: configId,
      ScheduleHostname: input.hostname,
      ScheduleZoneName: input.zone,
      Ttl: input.ttl,
    });
  }

  async replaceInstanceConfigPools(configId: string, pools: Gtm3ConfigPool[]): Promise<void> {
    await this.rpc.call('ReplaceCloudGtmInstanceConfigAddressPool', {
      InstanceId: this.options.instanceId,
      ConfigId: configId,
      AddressPools: JSON.stringify(
        pools.map((p) => ({ AddressPoolId: p.poolId, SerialNumber: p.serialNumber, WeightValue: p.weight, RequestSource: ALL_SOURCES })),
      ),
    });
  }

  async setInstanceConfigLbStrategy(configId: string, strategy: Gtm3LbStrategy, sequenceMode?: Gtm3SequenceMode): Promise<void> {
    await this.rpc.call('UpdateCloudGtmInstanceConfigLbStrategy', {
      InstanceId: this.options.instanceId,
      ConfigId: configId,
      AddressPoolLbStrategy: strategy,
      ...(strategy === 'sequence' ? { SequenceLbStrategyMode: sequenceMode ?? 'preemptive' } : {}),
    });
  }
}

function healthTasksParam(tasks: Gtm3HealthTask[]): string {
  return JSON.stringify(tasks.map((t) => ({ TemplateId: t.templateId, Port: t.port })));
}

function templateParams(input: Gtm3MonitorTemplateInput): Params {
  return {
    Name: input.name,
    Protocol: input.protocol,
    IpVersion: input.ipVersion,
    Interval: input.interval,
    Timeout: input.timeout,
    EvaluationCount: input.evaluationCount,
    FailureRate: input.failureRate,
    ExtendInfo: JSON.stringify({ host: input.host, path: input.path, code: input.code }),
    IspCityNodes: JSON.stringify(input.nodes.map((n) => ({ CityCode: n.cityCode, IspCode: n.ispCode }))),
  };
}

function healthTasksOf(r: Json): Gtm3HealthTask[] {
  return asArray(r.HealthTasks?.HealthTask).map((t: Json) => ({ templateId: String(t.TemplateId), port: Number(t.Port ?? 0) }));
}

function toAddress(r: Json): Gtm3Address {
  return {
    id: String(r.AddressId),
    name: String(r.Name ?? ''),
    address: String(r.Address),
    type: r.Type,
    remark: String(r.Remark ?? ''),
    enableStatus: r.EnableStatus === 'disable' ? 'disable' : 'enable',
    availableMode: r.AvailableMode === 'manual' ? 'manual' : 'auto',
    healthJudgement: r.HealthJudgement ?? 'any_ok',
    healthTasks: healthTasksOf(r),
    healthStatus: String(r.HealthStatus ?? 'unknown'),
    availableStatus: String(r.AvailableStatus ?? 'unknown'),
  };
}

function toPool(r: Json): Gtm3Pool {
  return {
    id: String(r.AddressPoolId),
    name: String(r.AddressPoolName ?? ''),
    type: r.AddressPoolType,
    remark: String(r.Remark ?? ''),
    enableStatus: r.EnableStatus === 'disable' ? 'disable' : 'enable',
    healthJudgement: r.HealthJudgement ?? 'any_ok',
    lbStrategy: r.AddressLbStrategy ?? 'round_robin',
    ...(r.SequenceLbStrategyMode ? { sequenceMode: r.SequenceLbStrategyMode } : {}),
    healthStatus: String(r.HealthStatus ?? 'unknown'),
    members: asArray(r.Addresses?.Address).map((a: Json) => ({
      addressId: String(a.AddressId),
      address: String(a.Address ?? ''),
      serialNumber: Number(a.SerialNumber ?? 1),
      weight: Number(a.WeightValue ?? 1),
      remark: String(a.Remark ?? ''),
      healthStatus: String(a.HealthStatus ?? 'unknown'),
      availableStatus: String(a.AvailableStatus ?? 'unknown'),
    })),
  };
}

function toTemplate(r: Json): Gtm3MonitorTemplate {
  const extend = parseJsonObject(r.ExtendInfo);
  return {
    id: String(r.TemplateId),
    name: String(r.Name ?? ''),
    protocol: r.Protocol,
    ipVersion: r.IpVersion === 'IPv6' ? 'IPv6' : 'IPv4',
    interval: Number(r.Interval),
    timeout: Number(r.Timeout),
    evaluationCount: Number(r.EvaluationCount),
    failureRate: Number(r.FailureRate),
    host: String(extend.host ?? ''),
    path: String(extend.path ?? '/'),
    code: Number(extend.code),
    nodes: asArray(r.IspCityNodes?.IspCityNode).map((n: Json) => ({ cityCode: String(n.CityCode), ispCode: String(n.IspCode) })),
  };
}

function toConfig(r: Json): Gtm3InstanceConfig {
  return {
    id: String(r.ConfigId),
    domain: String(r.ScheduleDomainName ?? ''),
    hostname: String(r.ScheduleHostname ?? ''),
    zone: String(r.ScheduleZoneName ?? ''),
    rrType: r.ScheduleRrType,
    ttl: Number(r.Ttl),
    remark: String(r.Remark ?? ''),
    enableStatus: r.EnableStatus === 'disable' ? 'disable' : 'enable',
    lbStrategy: r.AddressPoolLbStrategy ?? 'round_robin',
    ...(r.SequenceLbStrategyMode ? { sequenceMode: r.SequenceLbStrategyMode } : {}),
    pools: asArray(r.AddressPools?.AddressPool).map((p: Json) => ({
      poolId: String(p.AddressPoolId),
      serialNumber: Number(p.SerialNumber ?? 1),
      weight: Number(p.WeightValue ?? 1),
    })),
    healthStatus: String(r.HealthStatus ?? 'unknown'),
    availableStatus: String(r.AvailableStatus ?? 'unknown'),
  };
}
