/**
 * An in-memory Alidns GTM 2.0 behind msw handlers, speaking the wire format of
 * docs/aliyun-api/alidns-gtm-2015-01-09.json: form-encoded POST (query params merged), the RPC
 * signature checked with the caller's secret, dispatch on `Action`, flattened `Addr.N.*` /
 * `DefaultAddrPool.N.*` lists, the documented ranges, the real response shapes, and Alibaba error
 * bodies `{RequestId, HostId, Code, Message, Recommend}` with their HTTP statuses.
 * Used by the adapter wire tests, the Gtm contract suite, the reconcile tests and the benchmark.
 * The handlers, call log, faults and error bodies are rpc-msw.ts's, shared with the GTM 3.0 fake.
 */
import { type FakeRpcOptions, FakeRpcService, pageOf } from './rpc-msw.ts';
import { poolParams, monitorParams, strategyParams, WireError, type Params } from './alidns-msw-params.ts';

export interface FakeAlidnsOptions extends FakeRpcOptions {
  /** Instances that exist (GTM instances are bought, not created through this API). */
  instances: string[];
}

interface PoolRecord {
  id: string;
  instanceId: string;
  name: string;
  type: string;
  lbaStrategy: string;
  addrs: Array<Record<string, unknown>>;
  monitorConfigId?: string;
  monitorStatus: 'OPEN' | 'CLOSE' | 'UNCONFIGURED';
  createTimestamp: number;
  updateTimestamp: number;
}

interface StrategyRecord extends Params {
  StrategyId: string;
  InstanceId: string;
  StrategyName: string;
  StrategyMode: string;
  AccessMode: string;
}

export class FakeAlidns extends FakeRpcService {
  readonly instances = new Map<string, Record<string, unknown>>();
  readonly pools = new Map<string, PoolRecord>();
  readonly monitors = new Map<string, Params & { poolId: string }>();
  readonly strategies = new Map<string, StrategyRecord>();
  private seq = 0;

  constructor(options: FakeAlidnsOptions) {
    super(options);
    for (const id of options.instances) this.instances.set(id, { Ttl: 600, CnameType: 'PUBLIC', StrategyMode: 'GEO' });
  }

  private id(prefix: string): string {
    return `${prefix}${(++this.seq).toString(36).padStart(5, '0')}`;
  }

  private instance(p: Params): [string, Record<string, unknown>] {
    const id = String(p.InstanceId ?? '');
    const instance = this.instances.get(id);
    if (!id) throw new WireError(400, 'MissingParameter', 'InstanceId is mandatory for this action.');
    if (!instance) throw new WireError(400, 'InvalidDnsGtmInstance.NotExist', `The GTM instance ${id} does not exist.`);
    return [id, instance];
  }

  private pool(id: unknown): PoolRecord {
    const pool = this.pools.get(String(id ?? ''));
    if (!pool) throw new WireError(400, 'DnsGtmAddrPool.NotExist', `The address pool ${String(id)} does not exist.`);
    return pool;
  }

  protected dispatch(action: string, p: Record<string, string>): Params {
    const now = Date.now();
    switch (action) {
      case 'DescribeDnsGtmInstance': {
        const [id, config] = this.instance(p);
        return {
          InstanceId: id,
          VersionCode: 'ultimate',
          PaymentType: 'Subscription',
          Config: { ...config, AlertConfig: { AlertConfig: [] } },
        };
      }
      case 'UpdateDnsGtmInstanceGlobalConfig': {
        const [, config] = this.instance(p);
        if (!config.InstanceName && !p.InstanceName)
          throw new WireError(400, 'MissingParameter', 'InstanceName is mandatory on the first update.');
        if (p.Ttl !== undefined) config.Ttl = intIn(p, 'Ttl', 1, 9999999);
        if (p.InstanceName) config.InstanceName = p.InstanceName;
        if (p.PublicUserDomainName) config.PublicUserDomainName = p.PublicUserDomainName;
        return {};
      }
      case 'DescribeDnsGtmInstanceAddressPools': {
        const [id] = this.instance(p);
        const rows = [...this.pools.values()].filter((pool) => pool.instanceId === id).map((pool) => this.poolSummary(pool));
        return { ...page(p, rows, 'AddrPools', 'AddrPool') };
      }
      case 'DescribeDnsGtmInstanceAddressPool': {
        const pool = this.pool(p.AddrPoolId);
        return { ...this.poolSummary(pool), Addrs: { Addr: pool.addrs } };
      }
      case 'AddDnsGtmAddressPool': {
        const [instanceId] = this.instance(p);
        const input = poolParams(p, true);
        const pool: PoolRecord = {
          id: this.id('pool'),
          instanceId,
          ...input,
          addrs: stamp(input.addrs, now),
          monitorStatus: 'UNCONFIGURED',
          createTimestamp: now,
          updateTimestamp: now,
        };
        if (p.MonitorStatus === 'OPEN') {
          pool.monitorConfigId = this.id('mon');
          pool.monitorStatus = 'OPEN';
          this.monitors.set(pool.monitorConfigId, { ...monitorParams(p, 'AddDnsGtmAddressPool'), poolId: pool.id });
        }
        this.pools.set(pool.id, pool);
        return { AddrPoolId: pool.id, ...(pool.monitorConfigId ? { MonitorConfigId: pool.monitorConfigId } : {}) };
      }
      case 'UpdateDnsGtmAddressPool': {
        const pool = this.pool(p.AddrPoolId);
        const input = poolParams(p, false);
        Object.assign(pool, {
          name: input.name || pool.name,
          lbaStrategy: input.lbaStrategy,
          addrs: stamp(input.addrs, now),
          updateTimestamp: now,
        });
        return {};
      }
      case 'AddDnsGtmMonitor': {
        const pool = this.pool(p.AddrPoolId);
        const monitorConfigId = this.id('mon');
        this.monitors.set(monitorConfigId, { ...monitorParams(p, 'AddDnsGtmMonitor'), poolId: pool.id });
        Object.assign(pool, { monitorConfigId, monitorStatus: 'CLOSE' });
        return { MonitorConfigId: monitorConfigId };
      }
      case 'UpdateDnsGtmMonitor': {
        const monitor = this.monitor(p.MonitorConfigId);
        Object.assign(monitor, monitorParams(p, 'UpdateDnsGtmMonitor'));
        return {};
      }
      case 'DescribeDnsGtmMonitorConfig': {
        const { poolId: _poolId, IspCityNode, ...monitor } = this.monitor(p.MonitorConfigId);
        return {
          MonitorConfigId: p.MonitorConfigId,
          ...monitor,
          IspCityNodes: { IspCityNode },
          CreateTimestamp: now,
          UpdateTimestamp: now,
        };
      }
      case 'SetDnsGtmMonitorStatus': {
        const monitor = this.monitor(p.MonitorConfigId);
        if (p.Status !== 'OPEN' && p.Status !== 'CLOSE') throw new WireError(400, 'InvalidParameter', 'Status must be OPEN or CLOSE.');
        this.pool(monitor.poolId).monitorStatus = p.Status;
        return {};
      }
      case 'DescribeDnsGtmAccessStrategies': {
        const [id] = this.instance(p);
        const mode = p.StrategyMode;
        if (mode !== 'GEO' && mode !== 'LATENCY')
          throw new WireError(400, 'MissingParameter', 'StrategyMode is mandatory (GEO or LATENCY).');
        const rows = [...this.strategies.values()]
          .filter((s) => s.InstanceId === id && s.StrategyMode === mode)
          .map((s) => ({
            StrategyId: s.StrategyId,
            StrategyName: s.StrategyName,
            EffectiveAddrPoolGroupType: 'DEFAULT',
            CreateTimestamp: now,
          }));
        return { ...page(p, rows, 'Strategies', 'Strategy') };
      }
      case 'DescribeDnsGtmAccessStrategy': {
        const s = this.strategies.get(p.StrategyId ?? '');
        if (!s) throw new WireError(400, 'DnsGtmAccessStrategy.NotExist', `The access strategy ${String(p.StrategyId)} does not exist.`);
        const withNames = (list: unknown) =>
          (list as Array<{ Id: string; LbaWeight: number }>).map((r) => ({
            ...r,
            Name: this.pools.get(r.Id)?.name,
            AddrCount: this.pools.get(r.Id)?.addrs.length,
          }));
        const { DefaultAddrPool, FailoverAddrPool, ...rest } = s;
        return {
          ...rest,
          DefaultAddrPools: { DefaultAddrPool: withNames(DefaultAddrPool) },
          FailoverAddrPools: { FailoverAddrPool: withNames(FailoverAddrPool) },
        };
      }
      case 'AddDnsGtmAccessStrategy': {
        const [instanceId] = this.instance(p);
        const input = strategyParams(p, (id) => this.pools.get(id)?.instanceId === instanceId);
        const mode = p.StrategyMode;
        if (mode !== 'GEO' && mode !== 'LATENCY') throw new WireError(400, 'InvalidParameter', 'StrategyMode must be GEO or LATENCY.');
        const s = {
          FailoverAddrPool: [],
          AccessMode: 'AUTO',
          ...input,
          StrategyId: this.id('strat'),
          InstanceId: instanceId,
          StrategyMode: mode,
        } as unknown as StrategyRecord;
        this.strategies.set(s.StrategyId, s);
        return { StrategyId: s.StrategyId };
      }
      case 'UpdateDnsGtmAccessStrategy': {
        const s = this.strategies.get(p.StrategyId ?? '');
        if (!s) throw new WireError(400, 'DnsGtmAccessStrategy.NotExist', `The access strategy ${String(p.StrategyId)} does not exist.`);
        const input = strategyParams(p, (id) => this.pools.get(id)?.instanceId === s.InstanceId);
        Object.assign(s, input, p.AccessMode ? { AccessMode: p.AccessMode } : {});
        return { StrategyId: s.StrategyId };
      }
      default:
        throw new WireError(400, 'UnsupportedOperation', `The specified action ${action} is not supported.`);
    }
  }

  private monitor(id: unknown): Params & { poolId: string } {
    const monitor = this.monitors.get(String(id ?? ''));
    if (!monitor) throw new WireError(400, 'DnsGtmMonitorConfig.NotExist', `The monitor config ${String(id)} does not exist.`);
    return monitor;
  }

  private poolSummary(pool: PoolRecord): Params {
    return {
      AddrPoolId: pool.id,
      Name: pool.name,
      Type: pool.type,
      LbaStrategy: pool.lbaStrategy,
      AddrCount: pool.addrs.length,
      MonitorConfigId: pool.monitorConfigId ?? '',
      MonitorStatus: pool.monitorStatus,
      CreateTimestamp: pool.createTimestamp,
      UpdateTimestamp: pool.updateTimestamp,
      CreateTime: minuteTime(pool.createTimestamp),
      UpdateTime: minuteTime(pool.updateTimestamp),
    };
  }
}

function intIn(p: Params, name: string, min: number, max: number): number {
  const n = Number(p[name]);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new WireError(400, 'InvalidParameter', `The parameter ${name} must be an integer in [${min}, ${max}].`);
  return n;
}

function page(p: Params, rows: Params[], wrapper: string, item: string): Params {
  const pageNumber = p.PageNumber === undefined ? 1 : intIn(p, 'PageNumber', 1, 9999999);
  const pageSize = p.PageSize === undefined ? 20 : intIn(p, 'PageSize', 1, 100);
  return pageOf(rows, pageNumber, pageSize, wrapper, item);
}

function stamp(addrs: Array<Record<string, unknown>>, now: number): Array<Record<string, unknown>> {
  return addrs.map((a) => ({
    ...a,
    AlertStatus: 'OK',
    CreateTimestamp: now,
    UpdateTimestamp: now,
    CreateTime: minuteTime(now),
    UpdateTime: minuteTime(now),
  }));
}

/** `2017-12-28T13:08Z`: the API's minute-precision UTC time. */
function minuteTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}
