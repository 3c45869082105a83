import { apiErrors } from './api-error.ts';
import { paginate, requireInstance, type ActionContext, type ActionHandler } from './action-context.ts';
import { DEFAULT_MAX_RETURN } from './resolve.ts';
import {
  ACCESS_MODES,
  LBA_STRATEGIES,
  POOL_TYPES,
  STRATEGY_MODES,
  SWITCHES,
  apiTime,
  type GtmStrategy,
  type PoolRef,
  type PoolType,
} from './state.ts';

/** Access-strategy actions: Add/Update/Delete DnsGtmAccessStrategy, SetDnsGtmAccessMode, Describe*. */

function parsePoolRefs(context: ActionContext, key: 'DefaultAddrPool' | 'FailoverAddrPool', type: PoolType | undefined): PoolRef[] {
  // The docs say to pass the literal "EMPTY" when there is no secondary set.
  if (context.params.optionalString(key) === 'EMPTY') return [];
  const items = context.params.repeatList(key, 100);
  return items.flatMap((item) => {
    const id = item.optionalString('Id');
    if (id === undefined || id === 'EMPTY') return [];
    const pool = context.store.pools.get(id);
    if (!pool) throw apiErrors.notFound(`${item.wirePrefix}.Id`, id);
    if (type !== undefined && pool.type !== type) {
      throw apiErrors.invalidParameter(`${item.wirePrefix}.Id`, `address pool ${id} has type ${pool.type}, the set is ${type}.`);
    }
    const lbaWeight = item.optionalInt('LbaWeight', { min: 0, max: 9_999_999 });
    return [{ id, ...(lbaWeight === undefined ? {} : { lbaWeight }) }];
  });
}

function parseLines(context: ActionContext): string[] {
  const lines = context.params.optionalJson('Lines');
  if (lines === undefined) return ['default'];
  if (!Array.isArray(lines) || lines.length === 0 || !lines.every((line) => typeof line === 'string' && line !== '')) {
    throw apiErrors.invalidParameter('Lines', 'expected a JSON array of line codes such as ["default"].');
  }
  return lines as string[];
}

/** The fields AddDnsGtmAccessStrategy and UpdateDnsGtmAccessStrategy share. */
function parseStrategyBody(context: ActionContext) {
  const { params } = context;
  const defaultAddrPoolType = params.requiredEnum('DefaultAddrPoolType', POOL_TYPES);
  const failoverAddrPoolType = params.optionalEnum('FailoverAddrPoolType', POOL_TYPES);
  const defaultPools = parsePoolRefs(context, 'DefaultAddrPool', defaultAddrPoolType);
  if (defaultPools.length === 0) throw apiErrors.missingParameter('DefaultAddrPool.1.Id');
  const optional = {
    defaultLbaStrategy: params.optionalEnum('DefaultLbaStrategy', LBA_STRATEGIES),
    defaultMaxReturnAddrNum: params.optionalInt('DefaultMaxReturnAddrNum', { min: 1, max: 8 }),
    defaultLatencyOptimization: params.optionalEnum('DefaultLatencyOptimization', SWITCHES),
    failoverAddrPoolType,
    failoverLbaStrategy: params.optionalEnum('FailoverLbaStrategy', LBA_STRATEGIES),
    failoverMinAvailableAddrNum: params.optionalInt('FailoverMinAvailableAddrNum', { min: 1, max: 400 }),
    failoverMaxReturnAddrNum: params.optionalInt('FailoverMaxReturnAddrNum', { min: 1, max: 8 }),
    failoverLatencyOptimization: params.optionalEnum('FailoverLatencyOptimization', SWITCHES),
  };
  return {
    name: params.requiredString('StrategyName'),
    lines: parseLines(context),
    defaultAddrPoolType,
    defaultMinAvailableAddrNum: params.requiredInt('DefaultMinAvailableAddrNum', { min: 1, max: 400 }),
    defaultPools,
    failoverPools: parsePoolRefs(context, 'FailoverAddrPool', failoverAddrPoolType),
    ...(Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)) as Partial<typeof optional>),
  };
}

/** Within one strategy mode a line is served by one strategy only. */
function checkLinesFree(context: ActionContext, mode: GtmStrategy['mode'], lines: string[], selfId?: string): void {
  for (const other of context.store.strategies.values()) {
    if (other.id === selfId || other.mode !== mode) continue;
    const taken = lines.find((line) => other.lines.includes(line));
    if (taken) throw apiErrors.invalidParameter('Lines', `line "${taken}" is already served by access strategy ${other.id}.`);
  }
}

function findStrategy(context: ActionContext): GtmStrategy {
  const id = context.params.requiredString('StrategyId');
  const strategy = context.store.strategies.get(id);
  if (!strategy) throw apiErrors.notFound('StrategyId', id);
  return strategy;
}

const addStrategy: ActionHandler = (context) => {
  requireInstance(context);
  const mode = context.params.requiredEnum('StrategyMode', STRATEGY_MODES);
  const body = parseStrategyBody(context);
  checkLinesFree(context, mode, body.lines);
  const strategy: GtmStrategy = { id: context.store.newId('st-'), mode, accessMode: 'AUTO', createdAt: context.now, ...body };
  context.store.strategies.set(strategy.id, strategy);
  return { StrategyId: strategy.id };
};

const updateStrategy: ActionHandler = (context) => {
  const strategy = findStrategy(context);
  const body = parseStrategyBody(context);
  const accessMode = context.params.optionalEnum('AccessMode', ACCESS_MODES) ?? strategy.accessMode;
  checkLinesFree(context, strategy.mode, body.lines, strategy.id);
  // A full replacement: optional fields absent from the request are cleared.
  const replaced: GtmStrategy = { id: strategy.id, mode: strategy.mode, createdAt: strategy.createdAt, accessMode, ...body };
  context.store.strategies.set(strategy.id, replaced);
  return { StrategyId: strategy.id };
};

const setAccessMode: ActionHandler = (context) => {
  const strategy = findStrategy(context);
  strategy.accessMode = context.params.requiredEnum('AccessMode', ACCESS_MODES);
  return {};
};

const deleteStrategy: ActionHandler = (context) => {
  const strategy = findStrategy(context);
  context.store.strategies.delete(strategy.id);
  return {};
};

function poolRefsView(context: ActionContext, refs: PoolRef[]) {
  return refs.map((ref) => {
    const pool = context.store.pools.get(ref.id);
    return { Id: ref.id, Name: pool?.name ?? '', AddrCount: pool?.addresses.length ?? 0, LbaWeight: ref.lbaWeight ?? 1 };
  });
}

function linesView(lines: string[]) {
  return {
    Line: lines.map((code) => ({
      LineCode: code,
      LineName: code === 'default' ? 'Default' : code,
      GroupCode: code === 'default' ? 'DEFAULT' : code,
      GroupName: code === 'default' ? 'Default' : code,
    })),
  };
}

const describeStrategies: ActionHandler = (context) => {
  requireInstance(context);
  const mode = context.params.requiredEnum('StrategyMode', STRATEGY_MODES);
  const { pageNumber, pageSize } = context.params.page();
  const all = [...context.store.strategies.values()].filter((strategy) => strategy.mode === mode);
  const { fields, pageItems } = paginate(all, pageNumber, pageSize);
  return {
    ...fields,
    Strategies: {
      Strategy: pageItems.map((strategy) => {
        const { effective } = context.store.evaluate(strategy);
        const failover = effective === 'FAILOVER';
        return {
          StrategyId: strategy.id,
          StrategyName: strategy.name,
          EffectiveAddrPoolGroupType: effective,
          EffectiveAddrPoolType: (failover ? strategy.failoverAddrPoolType : undefined) ?? strategy.defaultAddrPoolType,
          EffectiveAddrPools: { EffectiveAddrPool: poolRefsView(context, failover ? strategy.failoverPools : strategy.defaultPools) },
          CreateTime: apiTime(strategy.createdAt),
          CreateTimestamp: strategy.createdAt,
          // Only GEO strategies report these two (facts file, notes).
          ...(mode === 'GEO'
            ? {
                EffectiveLbaStrategy: (failover ? strategy.failoverLbaStrategy : strategy.defaultLbaStrategy) ?? 'ALL_RR',
                Lines: linesView(strategy.lines),
              }
            : {}),
        };
      }),
    },
  };
};

const describeStrategy: ActionHandler = (context) => {
  const strategy = findStrategy(context);
  const evaluation = context.store.evaluate(strategy);
  const hasFailover = strategy.failoverPools.length > 0;
  return {
    InstanceId: context.store.instanceId,
    StrategyId: strategy.id,
    StrategyName: strategy.name,
    StrategyMode: strategy.mode,
    AccessMode: strategy.accessMode,
    EffectiveAddrPoolGroupType: evaluation.effective,
    CreateTime: apiTime(strategy.createdAt),
    CreateTimestamp: strategy.createdAt,
    Lines: linesView(strategy.lines),
    DefaultAddrPoolType: strategy.defaultAddrPoolType,
    DefaultLbaStrategy: strategy.defaultLbaStrategy ?? 'ALL_RR',
    DefaultMinAvailableAddrNum: strategy.defaultMinAvailableAddrNum,
    DefaultMaxReturnAddrNum: strategy.defaultMaxReturnAddrNum ?? DEFAULT_MAX_RETURN,
    DefaultLatencyOptimization: strategy.defaultLatencyOptimization ?? 'CLOSE',
    DefaultAvailableAddrNum: evaluation.defaultAvailable,
    DefaultAddrPoolGroupStatus: evaluation.defaultUp ? 'AVAILABLE' : 'NOT_AVAILABLE',
    DefaultAddrPools: { DefaultAddrPool: poolRefsView(context, strategy.defaultPools) },
    FailoverAddrPools: { FailoverAddrPool: poolRefsView(context, strategy.failoverPools) },
    ...(hasFailover
      ? {
          FailoverAddrPoolType: strategy.failoverAddrPoolType ?? strategy.defaultAddrPoolType,
          FailoverLbaStrategy: strategy.failoverLbaStrategy ?? 'ALL_RR',
          FailoverMinAvailableAddrNum: strategy.failoverMinAvailableAddrNum ?? 1,
          FailoverMaxReturnAddrNum: strategy.failoverMaxReturnAddrNum ?? DEFAULT_MAX_RETURN,
          FailoverLatencyOptimization: strategy.failoverLatencyOptimization ?? 'CLOSE',
          FailoverAvailableAddrNum: evaluation.failoverAvailable,
          FailoverAddrPoolGroupStatus: evaluation.failoverUp ? 'AVAILABLE' : 'NOT_AVAILABLE',
        }
      : {}),
  };
};

export const strategyActions: Record<string, ActionHandler> = {
  AddDnsGtmAccessStrategy: addStrategy,
  UpdateDnsGtmAccessStrategy: updateStrategy,
  SetDnsGtmAccessMode: setAccessMode,
  DeleteDnsGtmAccessStrategy: deleteStrategy,
  DescribeDnsGtmAccessStrategies: describeStrategies,
  DescribeDnsGtmAccessStrategy: describeStrategy,
};
