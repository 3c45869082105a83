import { apiErrors } from '../api-error.ts';
import { apiTime } from '../state.ts';
import {
  ADDRESS_TYPES,
  ENABLE_STATUSES,
  HEALTH_JUDGEMENTS,
  LB_STRATEGIES,
  SEQUENCE_MODES,
  domainOf,
  type CloudGtmStore,
  type CloudPool,
  type InstanceConfig,
  type LbStrategy,
  type MemberRef,
  type SequenceMode,
} from './model.ts';
import { addressBody, healthTasksBody } from './actions-addresses.ts';
import {
  checkUnique,
  cloudErrors,
  jsonItems,
  listPage,
  type CloudActionContext,
  type CloudActionHandler,
  type JsonItem,
} from './context.ts';

/**
 * Address pools: Create / Delete / Describe / List CloudGtmAddressPool, ReplaceCloudGtmAddressPoolAddress
 * (the addresses a pool references, with serial number, weight and request sources),
 * UpdateCloudGtmAddressPoolLbStrategy / BasicConfig / EnableStatus, DescribeCloudGtmAddressPoolReference.
 * A pool holds addresses of its own type only. A new pool balances round_robin (emulator choice).
 */

const MAX_MEMBERS = 100;

function findPool(context: CloudActionContext): CloudPool {
  const id = context.params.requiredString('AddressPoolId');
  const pool = context.store.pools.get(id);
  if (!pool) throw cloudErrors.notFound('AddressPoolId', id);
  return pool;
}

/** The strategy fields of Update*LbStrategy: SequenceLbStrategyMode is required with sequence. */
export function readLbStrategy(
  context: CloudActionContext,
  strategyField: string,
  current: SequenceMode,
): { lbStrategy: LbStrategy; sequenceMode: SequenceMode } {
  const lbStrategy = context.params.requiredEnum(strategyField, LB_STRATEGIES);
  const mode = context.params.optionalEnum('SequenceLbStrategyMode', SEQUENCE_MODES);
  if (lbStrategy === 'sequence' && mode === undefined) throw apiErrors.missingParameter('SequenceLbStrategyMode');
  return { lbStrategy, sequenceMode: mode ?? current };
}

/** A member list: ids unique, serial numbers from 1 (default: the position), weights 1..100 (default 1). */
export function readMembers(items: JsonItem[], idField: string, listName: string): MemberRef[] {
  const members = items.map((item, index) => ({
    id: item.requiredString(idField),
    serialNumber: item.optionalInt('SerialNumber', { min: 1, max: 9999 }) ?? index + 1,
    weightValue: item.optionalInt('WeightValue', { min: 1, max: 100 }) ?? 1,
    requestSource: item.optionalStringList('RequestSource') ?? ['default'],
  }));
  checkUnique(
    listName,
    members.map((m) => m.id),
  );
  return members;
}

const createPool: CloudActionHandler = (context) => {
  const { params, store, now } = context;
  const name = params.requiredString('AddressPoolName');
  const type = params.requiredEnum('AddressPoolType', ADDRESS_TYPES);
  const pool: CloudPool = {
    id: store.newId('pool-'),
    name,
    type,
    enableStatus: params.optionalEnum('EnableStatus', ENABLE_STATUSES) ?? 'enable',
    healthJudgement: params.optionalEnum('HealthJudgement', HEALTH_JUDGEMENTS) ?? 'any_ok',
    lbStrategy: 'round_robin',
    sequenceMode: 'preemptive',
    addresses: [],
    createdAt: now,
    updatedAt: now,
  };
  const remark = params.optionalString('Remark');
  if (remark !== undefined) pool.remark = remark;
  store.pools.set(pool.id, pool);
  return { AddressPoolId: pool.id, Success: true };
};

const deletePool: CloudActionHandler = (context) => {
  const { store } = context;
  const pool = findPool(context);
  const users = store.configsReferencing(pool.id);
  if (users.length > 0) throw cloudErrors.inUse('AddressPool', pool.id, `instance configuration ${users.map((c) => c.id).join(', ')}`);
  store.pools.delete(pool.id);
  store.sticky.delete(pool.id);
  return { AddressPoolId: pool.id, Success: true };
};

const replaceAddresses: CloudActionHandler = (context) => {
  const { params, store } = context;
  const pool = findPool(context);
  const items = jsonItems(params, 'Addresses', MAX_MEMBERS);
  if (items === undefined) throw apiErrors.missingParameter('Addresses');
  const members = readMembers(items, 'AddressId', 'Addresses');
  members.forEach((member, index) => {
    const address = store.addresses.get(member.id);
    if (!address) throw cloudErrors.notFound('AddressId', member.id);
    if (address.type !== pool.type)
      throw apiErrors.invalidParameter(
        `Addresses[${index}].AddressId`,
        `address ${member.id} is ${address.type}; pool ${pool.id} holds ${pool.type}.`,
      );
  });
  pool.addresses = members;
  pool.updatedAt = context.now;
  return { AddressPoolId: pool.id, Success: true };
};

const updatePoolLbStrategy: CloudActionHandler = (context) => {
  const pool = findPool(context);
  const strategy = readLbStrategy(context, 'AddressLbStrategy', pool.sequenceMode);
  Object.assign(pool, strategy, { updatedAt: context.now });
  return { AddressPoolId: pool.id, Success: true };
};

const updatePoolBasic: CloudActionHandler = (context) => {
  const pool = findPool(context);
  const name = context.params.optionalString('AddressPoolName');
  const healthJudgement = context.params.optionalEnum('HealthJudgement', HEALTH_JUDGEMENTS);
  Object.assign(pool, {
    ...(name === undefined ? {} : { name }),
    ...(healthJudgement === undefined ? {} : { healthJudgement }),
    updatedAt: context.now,
  });
  return { AddressPoolId: pool.id, Success: true };
};

const updatePoolEnableStatus: CloudActionHandler = (context) => {
  const pool = findPool(context);
  pool.enableStatus = context.params.requiredEnum('EnableStatus', ENABLE_STATUSES);
  pool.updatedAt = context.now;
  return { AddressPoolId: pool.id, Success: true };
};

/** The fields every pool view has. */
export function poolBody(store: CloudGtmStore, pool: CloudPool): Record<string, unknown> {
  return {
    AddressPoolId: pool.id,
    AddressPoolName: pool.name,
    AddressPoolType: pool.type,
    AddressLbStrategy: pool.lbStrategy,
    SequenceLbStrategyMode: pool.sequenceMode,
    EnableStatus: pool.enableStatus,
    HealthJudgement: pool.healthJudgement,
    HealthStatus: store.poolHealth(pool),
    AvailableStatus: store.poolAvailable(pool) ? 'available' : 'unavailable',
    Remark: pool.remark ?? '',
    CreateTime: apiTime(pool.createdAt),
    CreateTimestamp: pool.createdAt,
    UpdateTime: apiTime(pool.updatedAt),
    UpdateTimestamp: pool.updatedAt,
  };
}

export function memberFields(ref: MemberRef, stickyId: string | undefined, nonPreemptive: boolean): Record<string, unknown> {
  return {
    SerialNumber: ref.serialNumber,
    WeightValue: ref.weightValue,
    RequestSource: { RequestSource: ref.requestSource },
    SeqNonPreemptiveSchedule: nonPreemptive && stickyId === ref.id,
  };
}

export function poolAddressesBody(store: CloudGtmStore, pool: CloudPool, withTasks: boolean): Record<string, unknown> {
  const nonPreemptive = pool.lbStrategy === 'sequence' && pool.sequenceMode === 'non_preemptive';
  return {
    Address: store.poolMembers(pool).map(({ ref, address }) => ({
      ...addressBody(store, address),
      ...(withTasks ? { HealthTasks: healthTasksBody(store, address, false) } : {}),
      ...memberFields(ref, store.sticky.get(pool.id), nonPreemptive),
    })),
  };
}

const describePool: CloudActionHandler = (context) => {
  const pool = findPool(context);
  return { ...poolBody(context.store, pool), Addresses: poolAddressesBody(context.store, pool, true) };
};

const listPools: CloudActionHandler = (context) => {
  const { params, store } = context;
  const name = params.optionalString('AddressPoolName');
  const type = params.optionalEnum('AddressPoolType', ADDRESS_TYPES);
  const enableStatus = params.optionalEnum('EnableStatus', ENABLE_STATUSES);
  const remark = params.optionalString('Remark');
  const matching = [...store.pools.values()].filter(
    (p) =>
      (name === undefined || p.name.includes(name)) &&
      (type === undefined || p.type === type) &&
      (enableStatus === undefined || p.enableStatus === enableStatus) &&
      (remark === undefined || (p.remark ?? '').includes(remark)),
  );
  const { fields, pageItems } = listPage(context, matching);
  return {
    ...fields,
    AddressPools: { AddressPool: pageItems.map((pool) => ({ ...poolBody(store, pool), Addresses: poolAddressesBody(store, pool, true) })) },
  };
};

/** A configuration as the reference views list it. */
export function configReference(store: CloudGtmStore, config: InstanceConfig): Record<string, unknown> {
  return {
    ConfigId: config.id,
    InstanceId: store.instanceId,
    InstanceName: store.instanceId,
    ScheduleHostname: config.hostname,
    ScheduleZoneName: config.zoneName,
    ScheduleDomainName: domainOf(config),
    ScheduleRrType: config.rrType,
    Ttl: config.ttl,
    AddressPoolLbStrategy: config.lbStrategy,
    SequenceLbStrategyMode: config.sequenceMode,
    EnableStatus: config.enableStatus,
    HealthStatus: store.configHealth(config),
    AvailableStatus: store.configAvailable(config) ? 'available' : 'unavailable',
    Remark: config.remark ?? '',
    VersionCode: 'ultimate',
  };
}

const describePoolReference: CloudActionHandler = (context) => {
  const { store } = context;
  const pool = findPool(context);
  return {
    AddressPoolId: pool.id,
    AddressPoolName: pool.name,
    InstanceConfigs: { InstanceConfig: store.configsReferencing(pool.id).map((config) => configReference(store, config)) },
  };
};

export const poolActions: Record<string, CloudActionHandler> = {
  CreateCloudGtmAddressPool: createPool,
  DeleteCloudGtmAddressPool: deletePool,
  DescribeCloudGtmAddressPool: describePool,
  ListCloudGtmAddressPools: listPools,
  ReplaceCloudGtmAddressPoolAddress: replaceAddresses,
  UpdateCloudGtmAddressPoolLbStrategy: updatePoolLbStrategy,
  UpdateCloudGtmAddressPoolBasicConfig: updatePoolBasic,
  UpdateCloudGtmAddressPoolEnableStatus: updatePoolEnableStatus,
  DescribeCloudGtmAddressPoolReference: describePoolReference,
};
