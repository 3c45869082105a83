import { apiErrors } from './api-error.ts';
import { paginate, requireInstance, type ActionContext, type ActionHandler } from './action-context.ts';
import { SCHEMA_RANGES, checkAddressFormat, newMonitor } from './actions-monitors.ts';
import {
  ADDR_MODES,
  LBA_STRATEGIES,
  POOL_TYPES,
  SWITCHES,
  apiTime,
  healthKey,
  type GtmAddress,
  type GtmPool,
  type PoolType,
} from './state.ts';

/** Address-pool actions: Add/Update/Delete DnsGtmAddressPool, DescribeDnsGtmInstanceAddressPool(s). */

function parseAddresses(context: ActionContext, type: PoolType, attributeInfoRequired: boolean, previous: GtmAddress[]): GtmAddress[] {
  const items = context.params.repeatList('Addr', 50);
  if (items.length === 0) throw apiErrors.missingParameter('Addr.1.Addr');
  const seen = new Set<string>();
  return items.map((item) => {
    const addr = item.requiredString('Addr');
    checkAddressFormat(`${item.wirePrefix}.Addr`, addr, type);
    if (seen.has(addr)) throw apiErrors.invalidParameter(`${item.wirePrefix}.Addr`, `"${addr}" appears twice in the address list.`);
    seen.add(addr);
    const mode = item.requiredEnum('Mode', ADDR_MODES);
    const attributeInfo = attributeInfoRequired ? item.requiredString('AttributeInfo') : item.optionalString('AttributeInfo');
    if (attributeInfo !== undefined) {
      try {
        JSON.parse(attributeInfo);
      } catch {
        throw apiErrors.invalidParameter(`${item.wirePrefix}.AttributeInfo`, 'the value is not valid JSON.');
      }
    }
    const lbaWeight = item.optionalInt('LbaWeight', { min: 0, max: 9_999_999 });
    const remark = item.optionalString('Remark');
    const before = previous.find((address) => address.addr === addr);
    const createdAt = before?.createdAt ?? context.now;
    return {
      addr,
      mode,
      createdAt,
      updatedAt: context.now,
      ...(lbaWeight === undefined ? {} : { lbaWeight }),
      ...(attributeInfo === undefined ? {} : { attributeInfo }),
      ...(remark === undefined ? {} : { remark }),
    };
  });
}

function findPool(context: ActionContext): GtmPool {
  const id = context.params.requiredString('AddrPoolId');
  const pool = context.store.pools.get(id);
  if (!pool) throw apiErrors.notFound('AddrPoolId', id);
  return pool;
}

const addPool: ActionHandler = (context) => {
  const { params, store, now } = context;
  requireInstance(context);
  const name = params.requiredString('Name');
  const type = params.requiredEnum('Type', POOL_TYPES);
  const lbaStrategy = params.requiredEnum('LbaStrategy', LBA_STRATEGIES);
  const monitorStatus = params.optionalEnum('MonitorStatus', SWITCHES) ?? 'CLOSE';
  const addresses = parseAddresses(context, type, true, []);
  const pool: GtmPool = { id: store.newId('pool-'), name, type, lbaStrategy, addresses, createdAt: now, updatedAt: now };
  // The health-check fields are validated and applied only with MonitorStatus=OPEN (facts file).
  const monitor = monitorStatus === 'OPEN' ? newMonitor(context, pool, SCHEMA_RANGES, 20, false) : undefined;
  if (monitor) {
    store.monitors.set(monitor.id, monitor);
    pool.monitorConfigId = monitor.id;
  }
  store.pools.set(pool.id, pool);
  context.probesChanged();
  return { AddrPoolId: pool.id, ...(monitor ? { MonitorConfigId: monitor.id } : {}) };
};

const updatePool: ActionHandler = (context) => {
  const { params, store, now } = context;
  const pool = findPool(context);
  const name = params.optionalString('Name');
  const lbaStrategy = params.requiredEnum('LbaStrategy', LBA_STRATEGIES);
  const addresses = parseAddresses(context, pool.type, false, pool.addresses);
  const kept = new Set(addresses.map((address) => address.addr));
  for (const address of pool.addresses) if (!kept.has(address.addr)) store.health.delete(healthKey(pool.id, address.addr));
  Object.assign(pool, { lbaStrategy, addresses, updatedAt: now, ...(name === undefined ? {} : { name }) });
  context.probesChanged();
  return {};
};

const deletePool: ActionHandler = (context) => {
  const { store } = context;
  const pool = findPool(context);
  const users = store.strategiesUsingPool(pool.id);
  if (users.length > 0) {
    throw apiErrors.invalidParameter(
      'AddrPoolId',
      `address pool ${pool.id} is used by access strategy ${users.map((s) => s.id).join(', ')}.`,
    );
  }
  if (pool.monitorConfigId !== undefined) store.monitors.delete(pool.monitorConfigId);
  for (const address of pool.addresses) store.health.delete(healthKey(pool.id, address.addr));
  store.pools.delete(pool.id);
  context.probesChanged();
  return {};
};

function poolSummary(context: ActionContext, pool: GtmPool): Record<string, unknown> {
  return {
    AddrPoolId: pool.id,
    Name: pool.name,
    Type: pool.type,
    LbaStrategy: pool.lbaStrategy,
    AddrCount: pool.addresses.length,
    MonitorStatus: context.store.poolMonitorStatus(pool),
    MonitorConfigId: pool.monitorConfigId ?? '',
    CreateTime: apiTime(pool.createdAt),
    CreateTimestamp: pool.createdAt,
    UpdateTime: apiTime(pool.updatedAt),
    UpdateTimestamp: pool.updatedAt,
  };
}

const describePools: ActionHandler = (context) => {
  requireInstance(context);
  const { pageNumber, pageSize } = context.params.page();
  const { fields, pageItems } = paginate([...context.store.pools.values()], pageNumber, pageSize);
  return { ...fields, AddrPools: { AddrPool: pageItems.map((pool) => poolSummary(context, pool)) } };
};

const describePool: ActionHandler = (context) => {
  const pool = findPool(context);
  return {
    ...poolSummary(context, pool),
    Addrs: {
      Addr: pool.addresses.map((address) => ({
        Addr: address.addr,
        Mode: address.mode,
        LbaWeight: address.lbaWeight ?? 1,
        AttributeInfo: address.attributeInfo ?? '',
        Remark: address.remark ?? '',
        // The health check's verdict, whatever the mode: ALERT while the probes fail.
        AlertStatus: context.store.isHealthy(pool, address.addr) ? 'OK' : 'ALERT',
        CreateTime: apiTime(address.createdAt),
        CreateTimestamp: address.createdAt,
        UpdateTime: apiTime(address.updatedAt),
        UpdateTimestamp: address.updatedAt,
      })),
    },
  };
};

export const poolActions: Record<string, ActionHandler> = {
  AddDnsGtmAddressPool: addPool,
  UpdateDnsGtmAddressPool: updatePool,
  DeleteDnsGtmAddressPool: deletePool,
  DescribeDnsGtmInstanceAddressPools: describePools,
  DescribeDnsGtmInstanceAddressPool: describePool,
};
