import { apiErrors } from '../api-error.ts';
import { apiTime } from '../state.ts';
import { ENABLE_STATUSES, RR_TYPES, RR_TYPE_OF, ZONE_MODES, domainOf, type CloudGtmStore, type InstanceConfig } from './model.ts';
import { configReference, memberFields, poolAddressesBody, poolBody, readLbStrategy, readMembers } from './actions-pools.ts';
import { cloudErrors, jsonItems, listPage, requireInstance, type CloudActionContext, type CloudActionHandler } from './context.ts';

/**
 * The instance and its configurations: Create / Delete / List CloudGtmInstanceConfig,
 * DescribeCloudGtmInstanceConfigFullInfo, ReplaceCloudGtmInstanceConfigAddressPool,
 * UpdateCloudGtmInstanceConfigLbStrategy / Basic / EnableStatus, ListCloudGtmInstances.
 * One configuration per access domain and record type; a CNAME configuration excludes A and AAAA
 * ones for the same name (a name has either a CNAME or addresses). Pools of a configuration have
 * its record type (IPv4 for A, IPv6 for AAAA, domain for CNAME). Emulator choices: Ttl 1..86400,
 * 60 when absent; a new configuration balances its pools by `sequence`, `preemptive`; the zone of
 * `sys_assign` is `<instanceId>.gtm-sys.local`.
 */

const TTL = { min: 1, max: 86_400 };
const DEFAULT_TTL = 60;
const MAX_POOLS = 64;
const HOSTNAME = /^(@|\*|[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*)$/i;
const ZONE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$/i;

function findConfig(context: CloudActionContext): InstanceConfig {
  requireInstance(context);
  const id = context.params.requiredString('ConfigId');
  const config = context.store.configs.get(id);
  if (!config) throw cloudErrors.notFound('ConfigId', id);
  return config;
}

function checkName(field: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value))
    throw apiErrors.invalidParameter(field, `"${value}" is not a valid ${field === 'ScheduleHostname' ? 'host record' : 'zone name'}.`);
  return value;
}

/** Refuses a configuration that would answer the same name and type as another (or mix CNAME with addresses). */
function checkNoClash(store: CloudGtmStore, candidate: Pick<InstanceConfig, 'id' | 'hostname' | 'zoneName' | 'rrType'>): void {
  const domain = domainOf(candidate);
  for (const other of store.configs.values()) {
    if (other.id === candidate.id || domainOf(other) !== domain) continue;
    if (other.rrType === candidate.rrType || other.rrType === 'CNAME' || candidate.rrType === 'CNAME')
      throw cloudErrors.denied(
        'ConfigExists',
        `configuration ${other.id} already answers ${domain} with ${other.rrType}; ${candidate.rrType} cannot be added beside it.`,
      );
  }
}

const createConfig: CloudActionHandler = (context) => {
  const { params, store, now } = context;
  requireInstance(context);
  const zoneMode = params.optionalEnum('ScheduleZoneMode', ZONE_MODES) ?? 'custom';
  const hostname = checkName('ScheduleHostname', params.requiredString('ScheduleHostname'), HOSTNAME);
  const zoneName =
    zoneMode === 'custom'
      ? checkName('ScheduleZoneName', params.requiredString('ScheduleZoneName'), ZONE)
      : `${store.instanceId}.gtm-sys.local`;
  const rrType = params.requiredEnum('ScheduleRrType', RR_TYPES);
  const ttl = params.optionalInt('Ttl', TTL) ?? DEFAULT_TTL;
  const enableStatus = params.optionalEnum('EnableStatus', ENABLE_STATUSES) ?? 'enable';
  const chargeType = params.optionalEnum('ChargeType', ['prepay', 'postpay'] as const);
  const remark = params.optionalString('Remark');
  const config: InstanceConfig = {
    id: store.newId('config-'),
    hostname,
    zoneName: zoneName.replace(/\.$/, ''),
    zoneMode,
    rrType,
    ttl,
    enableStatus,
    ...(chargeType === undefined ? {} : { chargeType }),
    ...(remark === undefined ? {} : { remark }),
    lbStrategy: 'sequence',
    sequenceMode: 'preemptive',
    pools: [],
    createdAt: now,
    updatedAt: now,
  };
  checkNoClash(store, config);
  store.configs.set(config.id, config);
  return { ConfigId: config.id, InstanceId: store.instanceId, Success: true };
};

const deleteConfig: CloudActionHandler = (context) => {
  const config = findConfig(context);
  context.store.configs.delete(config.id);
  context.store.sticky.delete(config.id);
  return { Success: true };
};

const replacePools: CloudActionHandler = (context) => {
  const { params, store } = context;
  const config = findConfig(context);
  const items = jsonItems(params, 'AddressPools', MAX_POOLS);
  if (items === undefined) throw apiErrors.missingParameter('AddressPools');
  const members = readMembers(items, 'AddressPoolId', 'AddressPools');
  members.forEach((member, index) => {
    const pool = store.pools.get(member.id);
    if (!pool) throw cloudErrors.notFound('AddressPoolId', member.id);
    if (RR_TYPE_OF[pool.type] !== config.rrType)
      throw apiErrors.invalidParameter(
        `AddressPools[${index}].AddressPoolId`,
        `pool ${pool.id} holds ${pool.type} addresses; configuration ${config.id} answers ${config.rrType}.`,
      );
  });
  config.pools = members;
  config.updatedAt = context.now;
  return { Success: true };
};

const updateConfigLbStrategy: CloudActionHandler = (context) => {
  const config = findConfig(context);
  const strategy = readLbStrategy(context, 'AddressPoolLbStrategy', config.sequenceMode);
  Object.assign(config, strategy, { updatedAt: context.now });
  return { Success: true };
};

const updateConfigBasic: CloudActionHandler = (context) => {
  const { params, store } = context;
  const config = findConfig(context);
  const hostnameParam = params.optionalString('ScheduleHostname');
  const hostname = hostnameParam === undefined ? config.hostname : checkName('ScheduleHostname', hostnameParam, HOSTNAME);
  const zoneParam = params.optionalString('ScheduleZoneName');
  const zoneName = zoneParam === undefined ? config.zoneName : checkName('ScheduleZoneName', zoneParam, ZONE).replace(/\.$/, '');
  const ttl = params.optionalInt('Ttl', TTL);
  checkNoClash(store, { id: config.id, hostname, zoneName, rrType: config.rrType });
  Object.assign(config, { hostname, zoneName, ...(ttl === undefined ? {} : { ttl }), updatedAt: context.now });
  return { Success: true };
};

const updateConfigEnableStatus: CloudActionHandler = (context) => {
  const config = findConfig(context);
  config.enableStatus = context.params.requiredEnum('EnableStatus', ENABLE_STATUSES);
  config.updatedAt = context.now;
  return { Success: true };
};

function configBody(store: CloudGtmStore, config: InstanceConfig, withAddresses: boolean): Record<string, unknown> {
  const nonPreemptive = config.lbStrategy === 'sequence' && config.sequenceMode === 'non_preemptive';
  return {
    ...configReference(store, config),
    ScheduleZoneMode: config.zoneMode,
    CommodityCode: 'dns_gtm_public_cn',
    CreateTime: apiTime(config.createdAt),
    CreateTimestamp: config.createdAt,
    UpdateTime: apiTime(config.updatedAt),
    UpdateTimestamp: config.updatedAt,
    AddressPools: {
      AddressPool: store.configPools(config).map(({ ref, pool }) => ({
        ...poolBody(store, pool),
        ...memberFields(ref, store.sticky.get(config.id), nonPreemptive),
        ...(withAddresses ? { Addresses: poolAddressesBody(store, pool, false) } : {}),
      })),
    },
  };
}

const listConfigs: CloudActionHandler = (context) => {
  const { params, store } = context;
  const instanceId = params.optionalString('InstanceId');
  const enableStatus = params.optionalEnum('EnableStatus', ENABLE_STATUSES);
  const remark = params.optionalString('Remark');
  const domain = params.optionalString('ScheduleDomainName');
  const zone = params.optionalString('ScheduleZoneName');
  const matching =
    instanceId !== undefined && instanceId !== store.instanceId
      ? []
      : [...store.configs.values()].filter(
          (c) =>
            (enableStatus === undefined || c.enableStatus === enableStatus) &&
            (remark === undefined || (c.remark ?? '').includes(remark)) &&
            (domain === undefined || domainOf(c) === domain.toLowerCase().replace(/\.$/, '')) &&
            (zone === undefined || c.zoneName.toLowerCase() === zone.toLowerCase().replace(/\.$/, '')),
        );
  const { fields, pageItems } = listPage(context, matching);
  return { ...fields, InstanceConfigs: { InstanceConfig: pageItems.map((config) => configBody(store, config, false)) } };
};

const describeFullInfo: CloudActionHandler = (context) => {
  const config = findConfig(context);
  return {
    ...configBody(context.store, config, true),
    InstanceName: context.store.instanceId,
    AlertConfig: '[]',
    AlertGroup: '[]',
  };
};

const listInstances: CloudActionHandler = (context) => {
  const { params, store } = context;
  const instanceId = params.optionalString('InstanceId');
  const instanceName = params.optionalString('InstanceName');
  const matching =
    (instanceId === undefined || instanceId === store.instanceId) && (instanceName === undefined || store.instanceId.includes(instanceName))
      ? [store]
      : [];
  const { fields, pageItems } = listPage(context, matching);
  return {
    ...fields,
    Instances: {
      Instance: pageItems.map((s) => ({
        InstanceId: s.instanceId,
        InstanceName: s.instanceId,
        VersionCode: 'ultimate',
        CommodityCode: 'dns_gtm_public_cn',
        ChargeType: 'postpay',
        ScheduleDomainName: s.servedNames()[0] ?? '',
        CreateTime: apiTime(s.createdAt),
        CreateTimestamp: s.createdAt,
      })),
    },
  };
};

export const configActions: Record<string, CloudActionHandler> = {
  CreateCloudGtmInstanceConfig: createConfig,
  DeleteCloudGtmInstanceConfig: deleteConfig,
  ListCloudGtmInstanceConfigs: listConfigs,
  DescribeCloudGtmInstanceConfigFullInfo: describeFullInfo,
  ReplaceCloudGtmInstanceConfigAddressPool: replacePools,
  UpdateCloudGtmInstanceConfigLbStrategy: updateConfigLbStrategy,
  UpdateCloudGtmInstanceConfigBasic: updateConfigBasic,
  UpdateCloudGtmInstanceConfigEnableStatus: updateConfigEnableStatus,
  ListCloudGtmInstances: listInstances,
};
