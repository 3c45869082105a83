import RPCClient from '@alicloud/pop-core';
import { TricenterError, type ErrorCode } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
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

/**
 * The Gtm port over Alidns GTM 2.0 (API 2015-01-09, RPC) through @alicloud/pop-core. Every call is
 * a signed form-encoded POST with an explicit timeout; reads page through every page.
 *
 * Retries (bounded, exponential backoff with jitter): `Throttling`, `Throttling.User`,
 * `DnsGtmSystemBusyness`, `ServiceUnavailable`/`InternalError` and any HTTP 5xx, for every action
 * (GTM rejected or failed the call as a whole). Timeouts and connection errors are retried for
 * reads only: a create that timed out may have happened, and a second one would make a duplicate.
 */
export interface AlidnsGtmOptions {
  /** `https://alidns.aliyuncs.com`, or the local emulator's `http://127.0.0.1:<port>`. */
  endpoint: string;
  instanceId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  /** Per HTTP call (connect + read). Default 10 s. */
  timeoutMs?: number;
  /** Attempts per call including the first. Default 5. */
  maxAttempts?: number;
  /** First backoff delay; doubles each attempt up to maxDelayMs. Defaults 200 ms / 5 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** PageSize of list reads, 1..100. Default 100. */
  pageSize?: number;
  /** Probe locations of health checks (IspCityNode). Default: two BGP nodes. */
  monitorNodes?: Array<{ cityCode: string; ispCode: string }>;
  logger?: Logger;
  /** Injected for tests and simulations; default setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Calls made, by kind: what the traffic benchmark reports. */
export interface GtmCallStats {
  reads: number;
  writes: number;
  retries: number;
  byAction: Record<string, number>;
}

const API_VERSION = '2015-01-09';
const RETRYABLE_CODES = new Set(['Throttling', 'Throttling.User', 'DnsGtmSystemBusyness', 'ServiceUnavailable', 'InternalError']);
const DEFAULT_MONITOR_NODES = [
  { cityCode: '503', ispCode: '465' },
  { cityCode: '357', ispCode: '465' },
];
/** Every address belongs to every line: GTM adjusts lines itself. */
const ADDRESS_ATTRIBUTE_INFO = JSON.stringify({ lineCodeRectifyType: 'AUTO', lineCode: [] });
const DEFAULT_LINES = JSON.stringify(['default']);

type Params = Record<string, unknown>;
// biome-ignore lint/suspicious/noExplicitAny: Alidns answers are loose JSON; each field read is converted (String, Number) where it is used.
type Json = Record<string, any>;

interface PopError extends Error {
  code?: string;
  data?: Json;
}

export class AlidnsGtm implements Gtm {
  readonly stats: GtmCallStats = { reads: 0, writes: 0, retries: 0, byAction: {} };

  get instanceId(): string {
    return this.options.instanceId;
  }
  private readonly client: RPCClient;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly pageSize: number;
  private readonly monitorNodes: Array<{ cityCode: string; ispCode: string }>;
  private readonly logger: Logger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: AlidnsGtmOptions) {
    const { accessKeyId, accessKeySecret, securityToken } = options.credentials;
    // verbose: pop-core then also returns the HTTP status, which it otherwise ignores (a 5xx without Code resolves).
    const Client = RPCClient as unknown as new (config: RPCClient.Config, verbose: boolean) => RPCClient;
    this.client = new Client(
      { endpoint: options.endpoint, apiVersion: API_VERSION, accessKeyId, accessKeySecret, ...(securityToken ? { securityToken } : {}) },
      true,
    );
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.pageSize = Math.min(100, Math.max(1, options.pageSize ?? 100));
    this.monitorNodes = options.monitorNodes ?? DEFAULT_MONITOR_NODES;
    this.logger = (options.logger ?? silentLogger).child({ component: 'alidns-gtm' });
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async listPools(): Promise<GtmPoolSummary[]> {
    const rows = await this.allPages(
      'DescribeDnsGtmInstanceAddressPools',
      { InstanceId: this.options.instanceId },
      (r) => r.AddrPools?.AddrPool,
    );
    return rows.map(toPoolSummary);
  }

  async getPool(poolId: string): Promise<GtmPool> {
    const r = await this.call('DescribeDnsGtmInstanceAddressPool', { AddrPoolId: poolId });
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
    const r = await this.call('AddDnsGtmAddressPool', params);
    return { poolId: String(r.AddrPoolId), ...(r.MonitorConfigId ? { monitorConfigId: String(r.MonitorConfigId) } : {}) };
  }

  async updatePool(poolId: string, input: GtmPoolInput): Promise<void> {
    await this.call('UpdateDnsGtmAddressPool', { AddrPoolId: poolId, Name: input.name, ...this.poolParams(input) });
  }

  async getMonitor(monitorConfigId: string): Promise<GtmMonitorConfig> {
    const r = await this.call('DescribeDnsGtmMonitorConfig', { MonitorConfigId: monitorConfigId });
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
    const r = await this.call('AddDnsGtmMonitor', { AddrPoolId: poolId, ...this.monitorParams(config) });
    return { monitorConfigId: String(r.MonitorConfigId) };
  }

  async updateMonitor(monitorConfigId: string, config: GtmMonitorConfig): Promise<void> {
    await this.call('UpdateDnsGtmMonitor', { MonitorConfigId: monitorConfigId, ...this.monitorParams(config) });
  }

  async setMonitorStatus(monitorConfigId: string, status: 'OPEN' | 'CLOSE'): Promise<void> {
    await this.call('SetDnsGtmMonitorStatus', { MonitorConfigId: monitorConfigId, Status: status });
  }

  async listStrategies(): Promise<GtmStrategySummary[]> {
    const rows = await this.allPages(
      'DescribeDnsGtmAccessStrategies',
      { InstanceId: this.options.instanceId, StrategyMode: 'GEO' },
      (r) => r.Strategies?.Strategy,
    );
    return rows.map((s) => ({ id: String(s.StrategyId), name: String(s.StrategyName) }));
  }

  async getStrategy(strategyId: string): Promise<GtmStrategy> {
    const r = await this.call('DescribeDnsGtmAccessStrategy', { StrategyId: strategyId });
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
    const r = await this.call('AddDnsGtmAccessStrategy', {
      InstanceId: this.options.instanceId,
      StrategyMode: 'GEO',
      ...this.strategyParams(input, false),
    });
    return { strategyId: String(r.StrategyId) };
  }

  async updateStrategy(strategyId: string, input: GtmStrategyInput): Promise<void> {
    await this.call('UpdateDnsGtmAccessStrategy', { StrategyId: strategyId, AccessMode: 'AUTO', ...this.strategyParams(input, true) });
  }

  async getGlobalConfig(): Promise<GtmGlobalConfig> {
    const r = await this.call('DescribeDnsGtmInstance', { InstanceId: this.options.instanceId });
    const config: Json = r.Config ?? {};
    return {
      ttl: Number(config.Ttl),
      ...(config.InstanceName ? { instanceName: String(config.InstanceName) } : {}),
      ...(config.PublicUserDomainName ? { userDomainName: String(config.PublicUserDomainName) } : {}),
    };
  }

  async updateGlobalConfig(config: Required<GtmGlobalConfig>): Promise<void> {
    await this.call('UpdateDnsGtmInstanceGlobalConfig', {
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

  private async allPages(action: string, params: Params, rowsOf: (r: Json) => unknown): Promise<Json[]> {
    const rows: Json[] = [];
    for (let page = 1; ; page++) {
      const r = await this.call(action, { ...params, PageNumber: page, PageSize: this.pageSize });
      const pageRows = asArray(rowsOf(r)) as Json[];
      rows.push(...pageRows);
      const totalPages = Number(r.TotalPages ?? 0);
      if (pageRows.length === 0 || page >= totalPages) return rows;
    }
  }

  /** One RPC call with bounded retries; throws a TricenterError naming the action and the API's Code / RequestId. */
  private async call(action: string, params: Params): Promise<Json> {
    const read = action.startsWith('Describe');
    this.stats.byAction[action] = (this.stats.byAction[action] ?? 0) + 1;
    for (let attempt = 1; ; attempt++) {
      if (read) this.stats.reads++;
      else this.stats.writes++;
      const failure = await this.attempt(action, params, read);
      if (!(failure instanceof TricenterError)) return failure;
      if (!failure.retryable || attempt >= this.maxAttempts) throw failure;
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + this.random() / 2);
      this.stats.retries++;
      this.logger.warn('gtm call retried', { action, attempt, delayMs: Math.round(delay), code: failure.code, reason: failure.message });
      await this.sleep(delay);
    }
  }

  private async attempt(action: string, params: Params, read: boolean): Promise<Json | TricenterError> {
    try {
      const [body, entry] = await this.client.request<[Json, { response: { statusCode: number } }]>(action, stripUndefined(params), {
        method: 'POST',
        timeout: this.timeoutMs,
      });
      const status = entry.response.statusCode;
      if (status >= 500)
        return new TricenterError('UNREACHABLE', `Alidns ${action}: HTTP ${status} (RequestId ${body?.RequestId ?? 'none'})`, {
          retryable: true,
        });
      if (status >= 400) return new TricenterError('INTERNAL', `Alidns ${action}: HTTP ${status} without an error code`);
      return body;
    } catch (err) {
      return classify(action, err as PopError, read);
    }
  }
}

function classify(action: string, err: PopError, read: boolean): TricenterError {
  const data = err.data;
  if (data && typeof data.Code === 'string') {
    const code = data.Code;
    const detail = `Alidns ${action} failed: ${code}: ${String(data.Message ?? '')} (RequestId ${String(data.RequestId ?? 'none')})`;
    const cause = { code, requestId: data.RequestId, recommend: data.Recommend };
    if (RETRYABLE_CODES.has(code))
      return new TricenterError(code.startsWith('Throttling') ? 'THROTTLED' : 'UNREACHABLE', detail, { retryable: true, cause });
    return new TricenterError(permanentCode(code), detail, { cause });
  }
  if (err.name === 'RequestTimeoutError' || err.name === 'ReadTimeoutError') {
    return new TricenterError('TIMEOUT', `Alidns ${action}: no answer in time`, { retryable: read, cause: err });
  }
  if (err.name === 'SyntaxError') {
    // A gateway's HTML error page: the call did not reach GTM's API.
    return new TricenterError('UNREACHABLE', `Alidns ${action}: the answer was not JSON`, { retryable: true, cause: err });
  }
  return new TricenterError('UNREACHABLE', `Alidns ${action}: ${err.message}`, { retryable: read, cause: err });
}

function permanentCode(code: string): ErrorCode {
  if (
    code.startsWith('Forbidden') ||
    code === 'SignatureDoesNotMatch' ||
    code.startsWith('InvalidAccessKeyId') ||
    code === 'IncompleteSignature'
  )
    return 'FORBIDDEN';
  if (/NotExist|NotFound/i.test(code)) return 'NOT_FOUND';
  if (code.startsWith('InvalidParameter') || code.startsWith('MissingParameter') || code === 'UnsupportedOperation') return 'VALIDATION';
  return 'INTERNAL';
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

// biome-ignore lint/suspicious/noExplicitAny: the rows of a loose Alidns answer (see Json).
function asArray(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}

function parseJsonObject(text: unknown): Json {
  if (typeof text !== 'string' || text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Json) : {};
  } catch {
    return {};
  }
}

/** pop-core would send an undefined value as the text "undefined". */
function stripUndefined(params: Params): Params {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}
