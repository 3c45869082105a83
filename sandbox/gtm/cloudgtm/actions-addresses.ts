import { apiErrors } from '../api-error.ts';
import { checkAddressFormat } from '../actions-monitors.ts';
import { apiTime, type PoolType } from '../state.ts';
import {
  ADDRESS_TYPES,
  AVAILABLE_MODES,
  AVAILABLE_STATUSES,
  ENABLE_STATUSES,
  HEALTH_JUDGEMENTS,
  taskKey,
  type AddressType,
  type CloudAddress,
  type CloudGtmStore,
  type HealthTask,
} from './model.ts';
import { checkUnique, cloudErrors, jsonItems, listPage, type CloudActionContext, type CloudActionHandler } from './context.ts';

/**
 * Addresses: Create / Update / Delete / Describe / List CloudGtmAddress, their enable status and
 * manual availability, and DescribeCloudGtmAddressReference. An address's health tasks each name
 * a template and a port (none for ping); a template for IPv4 checks IPv4 addresses, one for IPv6
 * IPv6 addresses, and either checks a domain address.
 */

const MAX_HEALTH_TASKS = 20;
const WIRE_TYPE: Record<AddressType, PoolType> = { IPv4: 'IPV4', IPv6: 'IPV6', domain: 'DOMAIN' };

function findAddress(context: CloudActionContext): CloudAddress {
  const id = context.params.requiredString('AddressId');
  const address = context.store.addresses.get(id);
  if (!address) throw cloudErrors.notFound('AddressId', id);
  return address;
}

function parseHealthTasks(context: CloudActionContext, type: AddressType): HealthTask[] | undefined {
  const items = jsonItems(context.params, 'HealthTasks', MAX_HEALTH_TASKS);
  if (items === undefined) return undefined;
  const tasks = items.map((item): HealthTask => {
    const templateId = item.requiredString('TemplateId');
    const template = context.store.templates.get(templateId);
    if (!template) throw cloudErrors.notFound('TemplateId', templateId);
    if (type !== 'domain' && template.ipVersion !== type)
      throw apiErrors.invalidParameter(
        `${item.path}.TemplateId`,
        `template ${templateId} checks ${template.ipVersion} addresses, not ${type}.`,
      );
    const port = item.optionalInt('Port', { min: 1, max: 65535 });
    if (template.protocol === 'ping') {
      if (port !== undefined) throw apiErrors.invalidParameter(`${item.path}.Port`, 'a ping health check has no port.');
      return { templateId };
    }
    if (port === undefined && template.protocol === 'tcp') throw apiErrors.missingParameter(`${item.path}.Port`);
    return { templateId, port: port ?? (template.protocol === 'https' ? 443 : 80) };
  });
  checkUnique(
    'HealthTasks',
    tasks.map((task) => `${task.templateId}:${task.port ?? ''}`),
  );
  return tasks;
}

const createAddress: CloudActionHandler = (context) => {
  const { params, store, now } = context;
  const name = params.requiredString('Name');
  const type = params.requiredEnum('Type', ADDRESS_TYPES);
  const value = params.requiredString('Address');
  checkAddressFormat('Address', value, WIRE_TYPE[type]);
  const availableMode = params.requiredEnum('AvailableMode', AVAILABLE_MODES);
  const manualAvailableStatus = params.optionalEnum('ManualAvailableStatus', AVAILABLE_STATUSES);
  if (availableMode === 'manual' && manualAvailableStatus === undefined) throw apiErrors.missingParameter('ManualAvailableStatus');
  const enableStatus = params.requiredEnum('EnableStatus', ENABLE_STATUSES);
  const healthJudgement = params.requiredEnum('HealthJudgement', HEALTH_JUDGEMENTS);
  const healthTasks = parseHealthTasks(context, type) ?? [];
  const attributeInfo = params.optionalString('AttributeInfo');
  const remark = params.optionalString('Remark');
  const address: CloudAddress = {
    id: store.newId('addr-'),
    name,
    address: value,
    type,
    enableStatus,
    availableMode,
    ...(manualAvailableStatus === undefined ? {} : { manualAvailableStatus }),
    healthJudgement,
    healthTasks,
    ...(attributeInfo === undefined ? {} : { attributeInfo }),
    ...(remark === undefined ? {} : { remark }),
    createdAt: now,
    updatedAt: now,
  };
  store.addresses.set(address.id, address);
  context.probesChanged();
  return { AddressId: address.id, Success: true };
};

const updateAddress: CloudActionHandler = (context) => {
  const { params, store } = context;
  const address = findAddress(context);
  const value = params.optionalString('Address');
  if (value !== undefined) checkAddressFormat('Address', value, WIRE_TYPE[address.type]);
  const name = params.optionalString('Name');
  const healthJudgement = params.optionalEnum('HealthJudgement', HEALTH_JUDGEMENTS);
  const healthTasks = parseHealthTasks(context, address.type);
  const attributeInfo = params.optionalString('AttributeInfo');
  const moved = value !== undefined && value !== address.address;
  // A moved address is judged afresh; otherwise only the verdicts of tasks that are gone are dropped.
  store.dropHealthOf(address.id, moved ? [] : (healthTasks ?? address.healthTasks));
  Object.assign(address, {
    ...(value === undefined ? {} : { address: value }),
    ...(name === undefined ? {} : { name }),
    ...(healthJudgement === undefined ? {} : { healthJudgement }),
    ...(healthTasks === undefined ? {} : { healthTasks }),
    ...(attributeInfo === undefined ? {} : { attributeInfo }),
    updatedAt: context.now,
  });
  context.probesChanged();
  return { Success: true };
};

const deleteAddress: CloudActionHandler = (context) => {
  const { store } = context;
  const address = findAddress(context);
  const pools = store.poolsReferencing(address.id);
  if (pools.length > 0) throw cloudErrors.inUse('Address', address.id, `address pool ${pools.map((p) => p.id).join(', ')}`);
  store.addresses.delete(address.id);
  store.dropHealthOf(address.id);
  context.probesChanged();
  return { Success: true };
};

const updateEnableStatus: CloudActionHandler = (context) => {
  const address = findAddress(context);
  address.enableStatus = context.params.requiredEnum('EnableStatus', ENABLE_STATUSES);
  address.updatedAt = context.now;
  return { Success: true };
};

const updateManualAvailableStatus: CloudActionHandler = (context) => {
  const { params } = context;
  const address = findAddress(context);
  const availableMode = params.optionalEnum('AvailableMode', AVAILABLE_MODES);
  const manualAvailableStatus = params.optionalEnum('ManualAvailableStatus', AVAILABLE_STATUSES);
  if (availableMode === undefined && manualAvailableStatus === undefined) throw apiErrors.missingParameter('AvailableMode');
  const mode = availableMode ?? address.availableMode;
  if (mode === 'manual' && manualAvailableStatus === undefined && address.manualAvailableStatus === undefined)
    throw apiErrors.missingParameter('ManualAvailableStatus');
  Object.assign(address, {
    availableMode: mode,
    ...(manualAvailableStatus === undefined ? {} : { manualAvailableStatus }),
    updatedAt: context.now,
  });
  return { Success: true };
};

/** The fields every address view has (Describe, List, and inside pools). */
export function addressBody(store: CloudGtmStore, address: CloudAddress): Record<string, unknown> {
  return {
    AddressId: address.id,
    Name: address.name,
    Address: address.address,
    Type: address.type,
    EnableStatus: address.enableStatus,
    AvailableMode: address.availableMode,
    AvailableStatus: store.addressAvailable(address) ? 'available' : 'unavailable',
    ManualAvailableStatus: address.manualAvailableStatus ?? '',
    HealthJudgement: address.healthJudgement,
    HealthStatus: store.addressHealth(address),
    AttributeInfo: address.attributeInfo ?? '',
    Remark: address.remark ?? '',
    CreateTime: apiTime(address.createdAt),
    CreateTimestamp: address.createdAt,
    UpdateTime: apiTime(address.updatedAt),
    UpdateTimestamp: address.updatedAt,
  };
}

export function healthTasksBody(store: CloudGtmStore, address: CloudAddress, withStatus: boolean): Record<string, unknown> {
  return {
    HealthTask: address.healthTasks.map((task) => ({
      TemplateId: task.templateId,
      TemplateName: store.templates.get(task.templateId)?.name ?? '',
      ...(task.port === undefined ? {} : { Port: task.port }),
      // Not documented by the models: the emulator says ok or alert, as the task's own verdict.
      ...(withStatus ? { MonitorStatus: (store.health.get(taskKey(address.id, task))?.healthy ?? true) ? 'ok' : 'alert' } : {}),
    })),
  };
}

const describeAddress: CloudActionHandler = (context) => {
  const address = findAddress(context);
  return { ...addressBody(context.store, address), HealthTasks: healthTasksBody(context.store, address, true) };
};

const listAddresses: CloudActionHandler = (context) => {
  const { params, store } = context;
  const filter = {
    address: params.optionalString('Address'),
    id: params.optionalString('AddressId'),
    enableStatus: params.optionalEnum('EnableStatus', ENABLE_STATUSES),
    healthStatus: params.optionalEnum('HealthStatus', ['ok', 'ok_alert', 'ok_no_monitor', 'exceptional'] as const),
    templateId: params.optionalString('MonitorTemplateId'),
    name: params.optionalString('Name'),
    type: params.optionalEnum('Type', ADDRESS_TYPES),
  };
  const matching = [...store.addresses.values()].filter(
    (a) =>
      (filter.address === undefined || a.address.includes(filter.address)) &&
      (filter.id === undefined || a.id === filter.id) &&
      (filter.enableStatus === undefined || a.enableStatus === filter.enableStatus) &&
      (filter.healthStatus === undefined || store.addressHealth(a) === filter.healthStatus) &&
      (filter.templateId === undefined || a.healthTasks.some((t) => t.templateId === filter.templateId)) &&
      (filter.name === undefined || a.name.includes(filter.name)) &&
      (filter.type === undefined || a.type === filter.type),
  );
  const { fields, pageItems } = listPage(context, matching);
  return {
    ...fields,
    Addresses: { Address: pageItems.map((a) => ({ ...addressBody(store, a), HealthTasks: healthTasksBody(store, a, true) })) },
  };
};

const describeAddressReference: CloudActionHandler = (context) => {
  const { store } = context;
  const address = findAddress(context);
  return {
    AddressId: address.id,
    Address: address.address,
    Name: address.name,
    AddressPools: {
      AddressPool: store.poolsReferencing(address.id).map((pool) => ({
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
      })),
    },
  };
};

export const addressActions: Record<string, CloudActionHandler> = {
  CreateCloudGtmAddress: createAddress,
  UpdateCloudGtmAddress: updateAddress,
  DeleteCloudGtmAddress: deleteAddress,
  DescribeCloudGtmAddress: describeAddress,
  ListCloudGtmAddresses: listAddresses,
  UpdateCloudGtmAddressEnableStatus: updateEnableStatus,
  UpdateCloudGtmAddressManualAvailableStatus: updateManualAvailableStatus,
  DescribeCloudGtmAddressReference: describeAddressReference,
};
