import { isIP } from 'node:net';
import { apiErrors } from './api-error.ts';
import type { ActionContext, ActionHandler } from './action-context.ts';
import type { IntRange, ParamReader } from './params.ts';
import {
  PROTOCOL_TYPES,
  SWITCHES,
  apiTime,
  type GtmMonitor,
  type GtmPool,
  type MonitorSettings,
  type PoolType,
  type ProtocolType,
} from './state.ts';

/** Health-check actions: AddDnsGtmMonitor, UpdateDnsGtmMonitor, DescribeDnsGtmMonitorConfig, SetDnsGtmMonitorStatus. */

/** AddDnsGtmMonitor / UpdateDnsGtmMonitor ranges; AddDnsGtmAddressPool only has the schema's 1..9999999. */
export const MONITOR_RANGES = {
  interval: { min: 15, max: 60 },
  evaluationCount: { min: 1, max: 3 },
  timeout: { min: 1000, max: 10000 },
} satisfies Record<string, IntRange>;

export const SCHEMA_RANGES = {
  interval: { min: 1, max: 9_999_999 },
  evaluationCount: { min: 1, max: 9_999_999 },
  timeout: { min: 1, max: 9_999_999 },
} satisfies Record<string, IntRange>;

function parseIspCityNodes(params: ParamReader, maxItems: number, required: boolean): GtmMonitor['ispCityNodes'] {
  const items = params.repeatList('IspCityNode', maxItems);
  if (required && items.length === 0) throw apiErrors.missingParameter('IspCityNode.1.CityCode');
  // Probing happens from this machine; the nodes are kept only to be described back.
  return items.map((item) => {
    const cityCode = item.optionalString('CityCode');
    const ispCode = item.optionalString('IspCode');
    return { ...(cityCode === undefined ? {} : { cityCode }), ...(ispCode === undefined ? {} : { ispCode }) };
  });
}

/** Parses and checks `MonitorExtendInfo` for the protocol; unknown keys (nodeType...) are accepted and ignored. */
function parseExtendInfo(raw: string, protocol: ProtocolType): MonitorSettings {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw apiErrors.invalidParameter('MonitorExtendInfo', 'the value is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw apiErrors.invalidParameter('MonitorExtendInfo', 'expected a JSON object such as {"port":80,"path":"/"}.');
  }
  const info = value as Record<string, unknown>;
  const settings: MonitorSettings = {};
  const port = numberField(info, 'port', { min: 1, max: 65535 });
  if (port !== undefined) settings.port = port;
  const failureRate = numberField(info, 'failureRate', { min: 0, max: 100 });
  if (failureRate !== undefined) settings.failureRate = failureRate;
  if (protocol === 'HTTP' || protocol === 'HTTPS') {
    const code = numberField(info, 'code', { min: 100, max: 599 });
    if (code !== undefined) settings.code = code;
    if (info.host !== undefined) settings.host = stringField(info, 'host');
    if (info.path !== undefined) {
      settings.path = stringField(info, 'path');
      if (!settings.path.startsWith('/')) throw apiErrors.invalidParameter('MonitorExtendInfo', 'path must start with "/".');
    }
    if (info.sni !== undefined) settings.sni = info.sni === true || info.sni === 'true';
  }
  if (protocol === 'TCP' && settings.port === undefined) throw apiErrors.invalidParameter('MonitorExtendInfo', 'a TCP check needs a port.');
  return settings;
}

function numberField(info: Record<string, unknown>, key: string, range: Required<IntRange>): number | undefined {
  const value = info[key];
  if (value === undefined) return undefined;
  const number = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || number < range.min || number > range.max) {
    throw apiErrors.invalidParameter(
      'MonitorExtendInfo',
      `${key} must be a number in [${range.min}, ${range.max}], got ${JSON.stringify(value)}.`,
    );
  }
  return number;
}

function stringField(info: Record<string, unknown>, key: string): string {
  const value = info[key];
  if (typeof value !== 'string') throw apiErrors.invalidParameter('MonitorExtendInfo', `${key} must be a string.`);
  return value;
}

/** The fields shared by AddDnsGtmMonitor and a pool created with MonitorStatus=OPEN. */
export function newMonitor(
  context: ActionContext,
  pool: Pick<GtmPool, 'id'>,
  ranges: typeof MONITOR_RANGES | typeof SCHEMA_RANGES,
  ispCityNodeMax: number,
  ispCityNodeRequired: boolean,
): GtmMonitor {
  const { params, store, now } = context;
  const protocolType = params.requiredEnum('ProtocolType', PROTOCOL_TYPES);
  const extendInfo = params.requiredString('MonitorExtendInfo');
  return {
    id: store.newId('mc-'),
    poolId: pool.id,
    protocolType,
    interval: params.requiredInt('Interval', ranges.interval),
    evaluationCount: params.requiredInt('EvaluationCount', ranges.evaluationCount),
    timeout: params.requiredInt('Timeout', ranges.timeout),
    extendInfo,
    settings: parseExtendInfo(extendInfo, protocolType),
    ispCityNodes: parseIspCityNodes(params, ispCityNodeMax, ispCityNodeRequired),
    status: 'OPEN',
    createdAt: now,
    updatedAt: now,
  };
}

export function checkAddressFormat(wireName: string, addr: string, type: PoolType): void {
  const ok =
    type === 'IPV4'
      ? isIP(addr) === 4
      : type === 'IPV6'
        ? isIP(addr) === 6
        : /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i.test(addr);
  if (!ok) throw apiErrors.invalidParameter(wireName, `"${addr}" is not a valid ${type} address.`);
}

function findMonitor(context: ActionContext): GtmMonitor {
  const id = context.params.requiredString('MonitorConfigId');
  const monitor = context.store.monitors.get(id);
  if (!monitor) throw apiErrors.notFound('MonitorConfigId', id);
  return monitor;
}

const addMonitor: ActionHandler = (context) => {
  const poolId = context.params.requiredString('AddrPoolId');
  const pool = context.store.pools.get(poolId);
  if (!pool) throw apiErrors.notFound('AddrPoolId', poolId);
  if (pool.monitorConfigId !== undefined) {
    throw apiErrors.invalidParameter(
      'AddrPoolId',
      `address pool ${poolId} already has health check ${pool.monitorConfigId}; use UpdateDnsGtmMonitor.`,
    );
  }
  const monitor = newMonitor(context, pool, MONITOR_RANGES, 50, true);
  context.store.monitors.set(monitor.id, monitor);
  pool.monitorConfigId = monitor.id;
  pool.updatedAt = context.now;
  context.probesChanged();
  return { MonitorConfigId: monitor.id };
};

const updateMonitor: ActionHandler = (context) => {
  const { params } = context;
  const monitor = findMonitor(context);
  const protocolType = params.requiredEnum('ProtocolType', PROTOCOL_TYPES);
  const extendInfo = params.requiredString('MonitorExtendInfo');
  const settings = parseExtendInfo(extendInfo, protocolType);
  const ispCityNodes = parseIspCityNodes(params, 50, true);
  const interval = params.optionalInt('Interval', MONITOR_RANGES.interval);
  const evaluationCount = params.optionalInt('EvaluationCount', MONITOR_RANGES.evaluationCount);
  const timeout = params.optionalInt('Timeout', MONITOR_RANGES.timeout);
  Object.assign(monitor, {
    protocolType,
    extendInfo,
    settings,
    ispCityNodes,
    interval: interval ?? monitor.interval,
    evaluationCount: evaluationCount ?? monitor.evaluationCount,
    timeout: timeout ?? monitor.timeout,
    updatedAt: context.now,
  });
  context.probesChanged();
  return {};
};

const describeMonitorConfig: ActionHandler = (context) => {
  const monitor = findMonitor(context);
  return {
    MonitorConfigId: monitor.id,
    ProtocolType: monitor.protocolType,
    Interval: monitor.interval,
    EvaluationCount: monitor.evaluationCount,
    Timeout: monitor.timeout,
    MonitorExtendInfo: monitor.extendInfo,
    IspCityNodes: {
      IspCityNode: monitor.ispCityNodes.map((node) => ({
        CityCode: node.cityCode ?? '',
        CityName: node.cityCode ?? '',
        IspCode: node.ispCode ?? '',
        IspName: node.ispCode ?? '',
        CountryCode: '',
        CountryName: '',
      })),
    },
    CreateTime: apiTime(monitor.createdAt),
    CreateTimestamp: monitor.createdAt,
    UpdateTime: apiTime(monitor.updatedAt),
    UpdateTimestamp: monitor.updatedAt,
  };
};

const setMonitorStatus: ActionHandler = (context) => {
  const monitor = findMonitor(context);
  const status = context.params.requiredEnum('Status', SWITCHES);
  if (status === 'OPEN' && monitor.status !== 'OPEN') {
    // A health check switched back on judges the addresses afresh.
    for (const key of [...context.store.health.keys()]) if (key.startsWith(`${monitor.poolId}|`)) context.store.health.delete(key);
  }
  monitor.status = status;
  monitor.updatedAt = context.now;
  context.probesChanged();
  return {};
};

export const monitorActions: Record<string, ActionHandler> = {
  AddDnsGtmMonitor: addMonitor,
  UpdateDnsGtmMonitor: updateMonitor,
  DescribeDnsGtmMonitorConfig: describeMonitorConfig,
  SetDnsGtmMonitorStatus: setMonitorStatus,
};
