import type { Gtm } from '../../ports/gtm.port.ts';
import type {
  GtmAddress,
  GtmGlobalConfig,
  GtmMonitorConfig,
  GtmMonitorStatus,
  GtmPool,
  GtmPoolInput,
  GtmPoolSummary,
  GtmPoolType,
  GtmStrategy,
  GtmStrategyInput,
  GtmStrategySummary,
} from '../../domain/gtm.ts';
import { AlidnsRpc, asArray, parseJsonObject, type AlidnsRpcOptions, type Json, type Params } from './alidns-rpc.ts';

/**
 * The Gtm port over Alidns GTM 2.0 (API 2015-01-09, RPC) through @alicloud/pop-core. Every call is
 * a signed form-encoded POST with an explicit timeout; reads page through every page. Calls,
 * retries, paging and error mapping: alidns-rpc.ts (shared with the GTM 3.0 adapter).
 */
export interface AlidnsGtmOptions extends AlidnsRpcOptions {
  instanceId: string;
  /** Probe locations of health checks (IspCityNode). Default: two BGP nodes. */
  monitorNodes?: Array<{ cityCode: string; ispCode: string }>;
}

const DEFAULT_MONITOR_NODES = [
  { cityCode: '503', ispCode: '465' },
  { cityCode: '357', ispCode: '465' },
];
/** Every address belongs to every line: GTM adjusts lines itself. */
const ADDRESS_ATTRIBUTE_INFO = JSON.stringify({ lineCodeRectifyType: 'AUTO', lineCode: [] });
const DEFAULT_LINES = JSON.stringify(['default']);

export class AlidnsGtm implements Gtm {
  private readonly rpc: AlidnsRpc;
  private readonly monitorNodes: Array<{ cityCode: string; ispCode: string }>;

  constructor(private readonly options: AlidnsGtmOptions) {
    this.rpc = new AlidnsRpc(options, 'alidns-gtm');
    this.monitorNodes = options.monitorNodes ?? DEFAULT_MONITOR_NODES;
  }

  get instanceId(): string {
    return this.options.instanceId;
  }

  /** Calls made, by kind (reads, writes, retries, per action): what the traffic benchmark reports. */
  get stats(): AlidnsRpc['stats'] {
    return this.rpc.stats;
  }

  async listPools(): Promise<GtmPoolSummary[]> {
    const rows = await this.rpc.allPages(
      'DescribeDnsGtmInstanceAddressPools',
      { InstanceId: this.options.instanceId },
      (r) => r.AddrPools?.AddrPool,
    );
    return rows.map(toPoolSummary);
  }

  async getPool(poolId: string): Promise<GtmPool> {
    const r = await this.rpc.call('DescribeDnsGtmInstanceAddressPool', { AddrPoolId: poolId });
    const addresses: GtmAddress[] = asArray(r.Addrs?.Addr).map((a: Json) => ({
      addr: String(a.Addr),
      mode: a.Mode,
      weight: Number(a.LbaWeight ?? 1),
      remark: String(a.Remark ?? ''),
    }));
    return { ...toPoolSummary({ ...r, AddrPoolId: r.AddrPoolId ?? poolId }), addresses };
  }

  async createPool(
    input: GtmPoolInput & { type: GtmPoolType; monitor?: GtmMonitorConfig },
  ): Promise<{ poolId: string; monitorConfigId?: string }> {
    const params: Params = { InstanceId: this.options.instanceId, Name: input.name, Type: input.type, ...this.poolParams(input) };
    if (input.monitor) Object.assign(params, { MonitorStatus: 'OPEN' }, this.monitorParams(input.monitor));
    const r = await this.rpc.call('AddDnsGtmAddressPool', params);
    return { poolId: String(r.AddrPoolId), ...(r.MonitorConfigId ? { monitorConfigId: String(r.MonitorConfigId) } : {}) };
  }

  async updatePool(poolId: string, input: GtmPoolInput): Promise<void> {
    await this.rpc.call('UpdateDnsGtmAddressPool', { AddrPoolId: poolId, Name: input.name, ...this.poolParams(input) });
  }

  async getMonitor(monitorConfigId: string): Promise<GtmMonitorConfig> {
    const r = await this.rpc.call('DescribeDnsGtmMonitorConfig', { MonitorConfigId: monitorConfigId });
    const extend = parseJsonObject(r.MonitorExtendInfo);
    return {
      protocol: r.ProtocolType,
      interval: Number(r.Interval),
      evaluationCount: Number(r.EvaluationCount),
      timeout: Number(r.Timeout),
      port: Number(extend.port),
      host: String(extend.host ?? ''),
      path: String(extend.path ?? '/'),
      code: Number(extend.code),
    };
  }

  async createMonitor(poolId: string, config: GtmMonitorConfig): Promise<{ monitorConfigId: string }> {
    const r = await this.rpc.call('AddDnsGtmMonitor', { AddrPoolId: poolId, ...this.monitorParams(config) });
    return { monitorConfigId: String(r.MonitorConfigId) };
  }

  async updateMonitor(monitorConfigId: string, config: GtmMonitorConfig): Promise<void> {
    await this.rpc.call('UpdateDnsGtmMonitor', { MonitorConfigId: monitorConfigId, ...this.monitorParams(config) });
  }

  async setMonitorStatus(monitorConfigId: string, status: 'OPEN' | 'CLOSE'): Promise<void> {
    await this.rpc.call('SetDnsGtmMonitorStatus', { MonitorConfigId: monitorConfigId, Status: status });
  }

  async listStrategies(): Promise<GtmStrategySummary[]> {
    const rows = await this.rpc.allPages(
      'DescribeDnsGtmAccessStrategies',
      { InstanceId: this.options.instanceId, StrategyMode: 'GEO' },
      (r) => r.Strategies?.Strategy,
    );
    return rows.map((s) => ({ id: String(s.StrategyId), name: String(s.StrategyName) }));
  }

  async getStrategy(strategyId: string): Promise<GtmStrategy> {
    const r = await this.rpc.call('DescribeDnsGtmAccessStrategy', { StrategyId: strategyId });
    const refs = (list: unknown) => asArray(list).map((p: Json) => ({ poolId: String(p.Id), weight: Number(p.LbaWeight ?? 1) }));
    return {
      id: String(r.StrategyId ?? strategyId),
      name: String(r.StrategyName),
      primaryPoolType: r.DefaultAddrPoolType,
      primary: refs(r.DefaultAddrPools?.DefaultAddrPool),
      primaryLbaStrategy: r.DefaultLbaStrategy ?? 'ALL_RR',
      failover: refs(r.FailoverAddrPools?.FailoverAddrPool),
      failoverPoolType: r.FailoverAddrPoolType ?? r.DefaultAddrPoolType,
      failoverLbaStrategy: r.FailoverLbaStrategy ?? 'ALL_RR',
      minAvailable: Number(r.DefaultMinAvailableAddrNum ?? 1),
      accessMode: r.AccessMode ?? 'AUTO',
    };
  }

  async createStrategy(input: GtmStrategyInput): Promise<{ strategyId: string }> {
    const r = await this.rpc.call('AddDnsGtmAccessStrategy', {
      InstanceId: this.options.instanceId,
      StrategyMode: 'GEO',
      ...this.strategyParams(input, false),
    });
    return { strategyId: String(r.StrategyId) };
  }

  async updateStrategy(strategyId: string, input: GtmStrategyInput): Promise<void> {
    await this.rpc.call('UpdateDnsGtmAccessStrategy', { StrategyId: strategyId, AccessMode: 'AUTO', ...this.strategyParams(input, true) });
  }

  async getGlobalConfig(): Promise<GtmGlobalConfig> {
    const r = await this.rpc.call('DescribeDnsGtmInstance', { InstanceId: this.options.instanceId });
    const config: Json = r.Config ?? {};
    return {
      ttl: Number(config.Ttl),
      ...(config.InstanceName ? { instanceName: String(config.InstanceName) } : {}),
      ...(config.PublicUserDomainName ? { userDomainName: String(config.PublicUserDomainName) } : {}),
    };
  }

  async updateGlobalConfig(config: Required<GtmGlobalConfig>): Promise<void> {
    await this.rpc.call('UpdateDnsGtmInstanceGlobalConfig', {
      InstanceId: this.options.instanceId,
      InstanceName: config.instanceName,
      Ttl: config.ttl,
      PublicUserDomainName: config.userDomainName,
    });
  }

  private poolParams(input: GtmPoolInput): Params {
    return {
      LbaStrategy: input.lbaStrategy,
      Addr: input.addresses.map((a) => ({
        Addr: a.addr,
        Mode: a.mode,
        LbaWeight: a.weight,
        Remark: a.remark,
        AttributeInfo: ADDRESS_ATTRIBUTE_INFO,
      })),
    };
  }

  private monitorParams(config: GtmMonitorConfig): Params {
    return {
      ProtocolType: config.protocol,
      Interval: config.interval,
      EvaluationCount: config.evaluationCount,
      Timeout: config.timeout,
      MonitorExtendInfo: JSON.stringify({ port: config.port, host: config.host, path: config.path, code: config.code }),
      IspCityNode: this.monitorNodes.map((n) => ({ CityCode: n.cityCode, IspCode: n.ispCode })),
    };
  }

  private strategyParams(input: GtmStrategyInput, update: boolean): Params {
    const pools = (refs: GtmStrategyInput['primary']) => refs.map((r) => ({ Id: r.poolId, LbaWeight: r.weight }));
    const params: Params = {
      StrategyName: input.name,
      Lines: DEFAULT_LINES,
      DefaultAddrPoolType: input.primaryPoolType,
      DefaultLbaStrategy: input.primaryLbaStrategy,
      DefaultMinAvailableAddrNum: input.minAvailable,
      DefaultAddrPool: pools(input.primary),
    };
    if (input.failover.length > 0) {
      Object.assign(params, {
        FailoverAddrPoolType: input.failoverPoolType,
        FailoverLbaStrategy: input.failoverLbaStrategy,
        FailoverMinAvailableAddrNum: 1,
        FailoverAddrPool: pools(input.failover),
      });
    } else if (update) {
      // The documented way to clear the secondary set on update.
      params.FailoverAddrPool = 'EMPTY';
    }
    return params;
  }
}

function toPoolSummary(r: Json): GtmPoolSummary {
  return {
    id: String(r.AddrPoolId),
    name: String(r.Name),
    type: r.Type,
    lbaStrategy: r.LbaStrategy,
    addrCount: Number(r.AddrCount ?? 0),
    ...(r.MonitorConfigId ? { monitorConfigId: String(r.MonitorConfigId) } : {}),
    monitorStatus: (r.MonitorStatus ?? 'UNCONFIGURED') as GtmMonitorStatus,
  };
}
