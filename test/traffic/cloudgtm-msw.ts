/**
 * An in-memory Alidns GTM 3.0 (the `CloudGtm*` actions) behind msw handlers, speaking the wire
 * format of docs/aliyun-api/cloudgtm-3.0.md: form-encoded POST (query params merged), the RPC
 * signature checked with the caller's secret, the call log, faults and error bodies (rpc-msw.ts,
 * shared with the 2.0 fake), dispatch on `Action`, list parameters as JSON strings (`HealthTasks`, `Addresses`,
 * `AddressPools`, `IspCityNodes`, `ExtendInfo`), the models' enums and value sets, paging with
 * PageNumber / PageSize / TotalItems / TotalPages, and Alibaba error bodies.
 *
 * Beyond the models (documented in the facts file as ours, the same as the GTM emulator's): unknown
 * ids answer `Invalid<Field>.NotFound` with HTTP 404, an address a pool holds cannot be deleted
 * (`OperationDenied.AddressInUse`), a second config for a domain and record type is
 * `OperationDenied.ConfigExists`, a pool holds only addresses of its own type.
 */
import { intIn, jsonOf, oneOf, required, WireError, type Params } from './alidns-msw-params.ts';
import { type FakeRpcOptions, FakeRpcService, pageOf } from './rpc-msw.ts';

export interface FakeCloudGtmOptions extends FakeRpcOptions {
  /** GTM 3.0 instances that exist (bought, not created through this API). */
  instances: string[];
}

type Wire = Record<string, string>;
type Row = Record<string, unknown>;

interface AddressRecord extends Row {
  AddressId: string;
  Name: string;
  Address: string;
  Type: string;
  Remark: string;
  EnableStatus: string;
  AvailableMode: string;
  ManualAvailableStatus?: string;
  HealthJudgement: string;
  HealthTasks: Array<{ TemplateId: string; Port?: number }>;
}

interface PoolRecord extends Row {
  AddressPoolId: string;
  AddressPoolName: string;
  AddressPoolType: string;
  Remark: string;
  EnableStatus: string;
  HealthJudgement: string;
  AddressLbStrategy: string;
  SequenceLbStrategyMode?: string;
  members: Array<{ AddressId: string; SerialNumber: number; WeightValue: number; RequestSource: string[] }>;
}

interface ConfigRecord extends Row {
  ConfigId: string;
  InstanceId: string;
  ScheduleHostname: string;
  ScheduleZoneName: string;
  ScheduleZoneMode: string;
  ScheduleRrType: string;
  Ttl: number;
  Remark: string;
  EnableStatus: string;
  AddressPoolLbStrategy: string;
  SequenceLbStrategyMode?: string;
  pools: Array<{ AddressPoolId: string; SerialNumber: number; WeightValue: number; RequestSource: string[] }>;
}

const TYPES = ['IPv4', 'IPv6', 'domain'];
const ENABLE = ['enable', 'disable'];
const JUDGEMENTS = ['any_ok', 'p30_ok', 'p50_ok', 'p70_ok', 'all_ok'];
const LB = ['round_robin', 'sequence', 'weight', 'source_nearest'];
const SEQUENCE_MODES = ['preemptive', 'non_preemptive'];
const RR_TYPE_OF_POOL: Record<string, string> = { IPv4: 'A', IPv6: 'AAAA', domain: 'CNAME' };

export class FakeCloudGtm extends FakeRpcService {
  readonly addresses = new Map<string, AddressRecord>();
  readonly pools = new Map<string, PoolRecord>();
  readonly templates = new Map<string, Row & { TemplateId: string }>();
  readonly configs = new Map<string, ConfigRecord>();
  /** Health verdicts the test sets by address (default `ok`): what ListCloudGtmAddresses reports. */
  readonly health = new Map<string, 'ok' | 'exceptional'>();
  private seq = 0;

  constructor(private readonly options: FakeCloudGtmOptions) {
    super(options);
  }

  /** Actions called that write (everything but List* / Describe*). */
  writes(): string[] {
    return this.calls.map((c) => c.action).filter((a) => !/^(List|Describe|Search)/.test(a));
  }

  private id(prefix: string): string {
    return `${prefix}-${(++this.seq).toString().padStart(14, '0')}`;
  }

  private address(p: Wire): AddressRecord {
    const a = this.addresses.get(required(p, 'AddressId'));
    if (!a) throw new WireError(404, 'InvalidAddressId.NotFound', `The address ${p.AddressId} does not exist.`);
    return a;
  }

  private pool(p: Wire): PoolRecord {
    const pool = this.pools.get(required(p, 'AddressPoolId'));
    if (!pool) throw new WireError(404, 'InvalidAddressPoolId.NotFound', `The address pool ${p.AddressPoolId} does not exist.`);
    return pool;
  }

  private config(p: Wire): ConfigRecord {
    const instanceId = required(p, 'InstanceId');
    if (!this.options.instances.includes(instanceId))
      throw new WireError(404, 'InvalidInstanceId.NotFound', `The GTM 3.0 instance ${instanceId} does not exist.`);
    const config = this.configs.get(required(p, 'ConfigId'));
    if (!config || config.InstanceId !== instanceId)
      throw new WireError(404, 'InvalidConfigId.NotFound', `The instance config ${p.ConfigId} does not exist.`);
    return config;
  }

  private healthTasks(p: Wire, mandatory: boolean): AddressRecord['HealthTasks'] | undefined {
    const raw = jsonOf(p, 'HealthTasks', mandatory);
    if (raw === undefined) return undefined;
    const list = jsonList(raw, 'HealthTasks');
    return list.map((t, i) => {
      const templateId = String(t.TemplateId ?? '');
      if (!this.templates.has(templateId))
        throw new WireError(
          404,
          'InvalidTemplateId.NotFound',
          `HealthTasks[${i}].TemplateId: the template "${templateId}" does not exist.`,
        );
      const port = t.Port === undefined ? undefined : Number(t.Port);
      if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
        throw new WireError(400, 'InvalidParameter', `HealthTasks[${i}].Port must be an integer in [1, 65535].`);
      return { TemplateId: templateId, ...(port !== undefined ? { Port: port } : {}) };
    });
  }

  private templateParams(p: Wire, create: boolean): Row {
    const extend = jsonOf(p, 'ExtendInfo', false);
    const nodesRaw = jsonOf(p, 'IspCityNodes', create);
    const nodes = nodesRaw === undefined ? undefined : jsonList(nodesRaw, 'IspCityNodes');
    if (nodes !== undefined && nodes.length === 0)
      throw new WireError(400, 'InvalidParameter', 'IspCityNodes must list at least one node.');
    const out: Row = {
      Name: create ? required(p, 'Name') : p.Name,
      Protocol: create ? oneOf(p, 'Protocol', ['ping', 'tcp', 'http', 'https'], true) : undefined,
      IpVersion: create ? oneOf(p, 'IpVersion', ['IPv4', 'IPv6'], true) : undefined,
      Interval: intIn(p, 'Interval', 15, 86400, create),
      Timeout: valueIn(p, 'Timeout', [2000, 3000, 5000, 10000], create),
      EvaluationCount: intIn(p, 'EvaluationCount', 1, 3, create),
      FailureRate: valueIn(p, 'FailureRate', [20, 50, 80, 100], create),
      ExtendInfo: extend,
      IspCityNodes:
        nodes === undefined
          ? undefined
          : {
              IspCityNode: nodes.map((n) => ({
                CityCode: String(n.CityCode ?? ''),
                IspCode: String(n.IspCode ?? ''),
                CityName: '',
                IspName: '',
                CountryCode: '',
                CountryName: '',
                GroupName: 'BGP Nodes',
                GroupType: 'BGP',
              })),
            },
    };
    return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
  }

  private addressRow(a: AddressRecord): Row {
    const { HealthTasks, ...rest } = a;
    const health = a.HealthTasks.length === 0 ? 'ok_no_monitor' : (this.health.get(a.AddressId) ?? 'ok');
    const available =
      a.EnableStatus === 'disable'
        ? 'unavailable'
        : a.AvailableMode === 'manual'
          ? (a.ManualAvailableStatus ?? 'available')
          : health === 'exceptional'
            ? 'unavailable'
            : 'available';
    return {
      ...rest,
      HealthStatus: health,
      AvailableStatus: available,
      HealthTasks: {
        HealthTask: HealthTasks.map((t) => ({ ...t, TemplateName: this.templates.get(t.TemplateId)?.Name ?? '', MonitorStatus: 'ok' })),
      },
      CreateTime: '2026-12-03T00:00Z',
      UpdateTime: '2026-12-03T00:00Z',
    };
  }

  private poolRow(pool: PoolRecord): Row {
    const { members, ...rest } = pool;
    const rows: Row[] = members.map((m) => {
      const a = this.addresses.get(m.AddressId);
      return { ...(a ? this.addressRow(a) : {}), ...m, RequestSource: { RequestSource: m.RequestSource } };
    });
    const ok = rows.filter((r) => r.AvailableStatus === 'available').length;
    return {
      ...rest,
      HealthStatus: rows.length === 0 || ok === rows.length ? 'ok' : ok > 0 ? 'ok_alert' : 'exceptional',
      AvailableStatus: ok > 0 ? 'available' : 'unavailable',
      Addresses: { Address: rows },
    };
  }

  protected dispatch(action: string, p: Wire): Params {
    switch (action) {
      case 'ListCloudGtmAddresses':
        return page(
          p,
          [...this.addresses.values()].map((a) => this.addressRow(a)),
          'Addresses',
          'Address',
        );
      case 'CreateCloudGtmAddress': {
        const healthTasks = this.healthTasks(p, false) ?? [];
        const judgement = oneOf(p, 'HealthJudgement', JUDGEMENTS, true) as string;
        const a: AddressRecord = {
          AddressId: this.id('addr'),
          Name: required(p, 'Name'),
          Address: required(p, 'Address'),
          Type: oneOf(p, 'Type', TYPES, true) as string,
          Remark: p.Remark ?? '',
          EnableStatus: oneOf(p, 'EnableStatus', ENABLE, true) as string,
          AvailableMode: oneOf(p, 'AvailableMode', ['auto', 'manual'], true) as string,
          HealthJudgement: judgement,
          HealthTasks: healthTasks,
        };
        const manual = oneOf(p, 'ManualAvailableStatus', ['available', 'unavailable'], false);
        if (manual) a.ManualAvailableStatus = manual;
        this.addresses.set(a.AddressId, a);
        return { AddressId: a.AddressId, Success: true };
      }
      case 'UpdateCloudGtmAddress': {
        const a = this.address(p);
        const tasks = this.healthTasks(p, false);
        const judgement = oneOf(p, 'HealthJudgement', JUDGEMENTS, false);
        if (p.Name) a.Name = p.Name;
        if (p.Address) a.Address = p.Address;
        if (judgement) a.HealthJudgement = judgement;
        if (tasks) a.HealthTasks = tasks;
        return { Success: true };
      }
      case 'UpdateCloudGtmAddressEnableStatus': {
        const a = this.address(p);
        a.EnableStatus = oneOf(p, 'EnableStatus', ENABLE, true) as string;
        return { Success: true };
      }
      case 'UpdateCloudGtmAddressManualAvailableStatus': {
        const a = this.address(p);
        const mode = oneOf(p, 'AvailableMode', ['auto', 'manual'], false);
        const status = oneOf(p, 'ManualAvailableStatus', ['available', 'unavailable'], false);
        if (mode) a.AvailableMode = mode;
        if (status) a.ManualAvailableStatus = status;
        return { Success: true };
      }
      case 'DeleteCloudGtmAddress': {
        const a = this.address(p);
        const holder = [...this.pools.values()].find((pool) => pool.members.some((m) => m.AddressId === a.AddressId));
        if (holder)
          throw new WireError(
            400,
            'OperationDenied.AddressInUse',
            `The address ${a.AddressId} is referenced by the address pool ${holder.AddressPoolId}.`,
          );
        this.addresses.delete(a.AddressId);
        return { Success: true };
      }
      case 'ListCloudGtmAddressPools':
        return page(
          p,
          [...this.pools.values()].map((pool) => this.poolRow(pool)),
          'AddressPools',
          'AddressPool',
        );
      case 'CreateCloudGtmAddressPool': {
        const pool: PoolRecord = {
          AddressPoolId: this.id('pool'),
          AddressPoolName: required(p, 'AddressPoolName'),
          AddressPoolType: oneOf(p, 'AddressPoolType', TYPES, true) as string,
          Remark: p.Remark ?? '',
          EnableStatus: oneOf(p, 'EnableStatus', ENABLE, false) ?? 'enable',
          HealthJudgement: oneOf(p, 'HealthJudgement', JUDGEMENTS, false) ?? 'any_ok',
          AddressLbStrategy: 'round_robin',
          members: [],
        };
        this.pools.set(pool.AddressPoolId, pool);
        return { AddressPoolId: pool.AddressPoolId, Success: true };
      }
      case 'UpdateCloudGtmAddressPoolBasicConfig': {
        const pool = this.pool(p);
        const judgement = oneOf(p, 'HealthJudgement', JUDGEMENTS, false);
        if (p.AddressPoolName) pool.AddressPoolName = p.AddressPoolName;
        if (judgement) pool.HealthJudgement = judgement;
        return { Success: true };
      }
      case 'UpdateCloudGtmAddressPoolLbStrategy': {
        const pool = this.pool(p);
        pool.AddressLbStrategy = oneOf(p, 'AddressLbStrategy', LB, true) as string;
        const mode = oneOf(p, 'SequenceLbStrategyMode', SEQUENCE_MODES, pool.AddressLbStrategy === 'sequence');
        if (mode) pool.SequenceLbStrategyMode = mode;
        return { Success: true };
      }
      case 'ReplaceCloudGtmAddressPoolAddress': {
        const pool = this.pool(p);
        const list = jsonList(jsonOf(p, 'Addresses', false) ?? '[]', 'Addresses');
        const members = list.map((m, i) => {
          const a = this.addresses.get(String(m.AddressId ?? ''));
          if (!a)
            throw new WireError(
              400,
              'InvalidAddressId.NotFound',
              `Addresses[${i}].AddressId: the address "${String(m.AddressId)}" does not exist.`,
            );
          if (a.Type !== pool.AddressPoolType)
            throw new WireError(
              400,
              'InvalidParameter',
              `Addresses[${i}]: a ${a.Type} address cannot join the ${pool.AddressPoolType} pool.`,
            );
          return {
            AddressId: a.AddressId,
            SerialNumber: numberIn(m.SerialNumber ?? 1, `Addresses[${i}].SerialNumber`, 1, 9999),
            WeightValue: numberIn(m.WeightValue ?? 1, `Addresses[${i}].WeightValue`, 1, 100),
            RequestSource: Array.isArray(m.RequestSource) ? (m.RequestSource as string[]) : ['default'],
          };
        });
        if (new Set(members.map((m) => m.AddressId)).size !== members.length)
          throw new WireError(400, 'InvalidParameter', 'Addresses lists an address twice.');
        pool.members = members;
        return { AddressPoolId: pool.AddressPoolId, Success: true };
      }
      case 'ListCloudGtmMonitorTemplates':
        return page(p, [...this.templates.values()], 'Templates', 'Template');
      case 'CreateCloudGtmMonitorTemplate': {
        const t = { TemplateId: this.id('mtp'), Remark: '', ...this.templateParams(p, true) };
        this.templates.set(t.TemplateId, t);
        return { TemplateId: t.TemplateId, Success: true };
      }
      case 'UpdateCloudGtmMonitorTemplate': {
        const t = this.templates.get(required(p, 'TemplateId'));
        if (!t) throw new WireError(404, 'InvalidTemplateId.NotFound', `The template ${p.TemplateId} does not exist.`);
        Object.assign(t, this.templateParams(p, false));
        return { Success: true };
      }
      case 'ListCloudGtmInstanceConfigs': {
        const instanceId = p.InstanceId;
        const rows = [...this.configs.values()]
          .filter((c) => instanceId === undefined || c.InstanceId === instanceId)
          .map((c) => {
            const { pools, ...rest } = c;
            return {
              ...rest,
              ScheduleDomainName: c.ScheduleHostname === '@' ? c.ScheduleZoneName : `${c.ScheduleHostname}.${c.ScheduleZoneName}`,
              VersionCode: 'ultimate',
              CommodityCode: 'dns_gtm_public_cn',
              AvailableStatus: 'available',
              HealthStatus: 'ok',
              AddressPools: {
                AddressPool: pools.map((ref) => {
                  const pool = this.pools.get(ref.AddressPoolId);
                  const { Addresses: _addresses, ...summary } = pool ? this.poolRow(pool) : {};
                  return { ...summary, ...ref, RequestSource: { RequestSource: ref.RequestSource } };
                }),
              },
            };
          });
        return page(p, rows, 'InstanceConfigs', 'InstanceConfig');
      }
      case 'CreateCloudGtmInstanceConfig': {
        const instanceId = required(p, 'InstanceId');
        if (!this.options.instances.includes(instanceId))
          throw new WireError(404, 'InvalidInstanceId.NotFound', `The GTM 3.0 instance ${instanceId} does not exist.`);
        const c: ConfigRecord = {
          ConfigId: this.id('config'),
          InstanceId: instanceId,
          ScheduleHostname: required(p, 'ScheduleHostname'),
          ScheduleZoneName: required(p, 'ScheduleZoneName'),
          ScheduleZoneMode: oneOf(p, 'ScheduleZoneMode', ['custom', 'sys_assign'], false) ?? 'custom',
          ScheduleRrType: oneOf(p, 'ScheduleRrType', ['A', 'AAAA', 'CNAME'], true) as string,
          Ttl: intIn(p, 'Ttl', 1, 86400, false) ?? 60,
          Remark: p.Remark ?? '',
          EnableStatus: oneOf(p, 'EnableStatus', ENABLE, false) ?? 'enable',
          AddressPoolLbStrategy: 'round_robin',
          pools: [],
        };
        const taken = [...this.configs.values()].find(
          (o) =>
            o.InstanceId === instanceId &&
            o.ScheduleHostname === c.ScheduleHostname &&
            o.ScheduleZoneName === c.ScheduleZoneName &&
            o.ScheduleRrType === c.ScheduleRrType,
        );
        if (taken)
          throw new WireError(
            400,
            'OperationDenied.ConfigExists',
            `The instance already has a ${c.ScheduleRrType} config for this domain.`,
          );
        this.configs.set(c.ConfigId, c);
        return { ConfigId: c.ConfigId, InstanceId: instanceId, Success: true };
      }
      case 'UpdateCloudGtmInstanceConfigBasic': {
        const c = this.config(p);
        if (p.ScheduleHostname) c.ScheduleHostname = p.ScheduleHostname;
        if (p.ScheduleZoneName) c.ScheduleZoneName = p.ScheduleZoneName;
        const ttl = intIn(p, 'Ttl', 1, 86400, false);
        if (ttl !== undefined) c.Ttl = ttl;
        return { Success: true };
      }
      case 'ReplaceCloudGtmInstanceConfigAddressPool': {
        const c = this.config(p);
        const list = jsonList(jsonOf(p, 'AddressPools', false) ?? '[]', 'AddressPools');
        c.pools = list.map((ref, i) => {
          const pool = this.pools.get(String(ref.AddressPoolId ?? ''));
          if (!pool)
            throw new WireError(
              400,
              'InvalidAddressPoolId.NotFound',
              `AddressPools[${i}].AddressPoolId: the pool "${String(ref.AddressPoolId)}" does not exist.`,
            );
          if (RR_TYPE_OF_POOL[pool.AddressPoolType] !== c.ScheduleRrType)
            throw new WireError(
              400,
              'InvalidParameter',
              `AddressPools[${i}]: a ${pool.AddressPoolType} pool cannot serve ${c.ScheduleRrType} records.`,
            );
          return {
            AddressPoolId: pool.AddressPoolId,
            SerialNumber: numberIn(ref.SerialNumber ?? 1, `AddressPools[${i}].SerialNumber`, 1, 9999),
            WeightValue: numberIn(ref.WeightValue ?? 1, `AddressPools[${i}].WeightValue`, 1, 100),
            RequestSource: Array.isArray(ref.RequestSource) ? (ref.RequestSource as string[]) : ['default'],
          };
        });
        return { Success: true };
      }
      case 'UpdateCloudGtmInstanceConfigLbStrategy': {
        const c = this.config(p);
        c.AddressPoolLbStrategy = oneOf(p, 'AddressPoolLbStrategy', LB, true) as string;
        const mode = oneOf(p, 'SequenceLbStrategyMode', SEQUENCE_MODES, c.AddressPoolLbStrategy === 'sequence');
        if (mode) c.SequenceLbStrategyMode = mode;
        return { Success: true };
      }
      default:
        throw new WireError(400, 'UnsupportedOperation', `The specified action ${action} is not supported.`);
    }
  }
}

function jsonList(raw: string, name: string): Row[] {
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'object' || x === null))
    throw new WireError(400, 'InvalidParameter', `The parameter ${name} must be a JSON array of objects.`);
  return parsed as Row[];
}

function numberIn(value: unknown, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new WireError(400, 'InvalidParameter', `${name} must be an integer in [${min}, ${max}]; got ${JSON.stringify(value)}.`);
  return n;
}

function valueIn(p: Wire, name: string, values: number[], mandatory: boolean): number | undefined {
  const raw = mandatory ? required(p, name) : p[name];
  if (raw === undefined) return undefined;
  if (!values.map(String).includes(raw))
    throw new WireError(400, 'InvalidParameter', `The parameter ${name} must be one of ${values.join(', ')}; got "${raw}".`);
  return Number(raw);
}

/** PageNumber and PageSize are required by every List action (PageSize at most 100). */
function page(p: Wire, rows: Row[], wrapper: string, item: string): Params {
  return pageOf(rows, intIn(p, 'PageNumber', 1, 9999999, true) as number, intIn(p, 'PageSize', 1, 100, true) as number, wrapper, item);
}
