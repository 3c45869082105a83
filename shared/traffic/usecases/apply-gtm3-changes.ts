import { errorMessage, isTricenterError, type ErrorCode } from '../../platform/errors.ts';
import type { Gtm3HealthTask, Gtm3PoolMember } from '../domain/gtm3.ts';
import type { Gtm3Change, Gtm3TaskPlan } from '../domain/types.ts';
import type { Gtm3 } from '../ports/gtm3.port.ts';

interface Change3Outcome {
  change: Gtm3Change;
  status: 'applied' | 'failed' | 'skipped';
  /** Why it failed, or which earlier failure it depended on. */
  error?: string;
  code?: ErrorCode;
}

export interface Apply3Result {
  outcomes: Change3Outcome[];
  applied: number;
  failed: number;
  skipped: number;
}

/** A short name of a change for logs and GtmApplyError's message. */
export function describeChange3(change: Gtm3Change): string {
  switch (change.kind) {
    case 'create-template':
    case 'update-template':
      return `${change.kind} ${change.input.name}`;
    case 'create-address':
    case 'update-address':
    case 'set-address-enable':
    case 'set-address-auto':
    case 'delete-address':
      return `${change.kind} ${change.pool} ${change.addr}`;
    case 'create-pool':
    case 'update-pool-basic':
    case 'set-pool-strategy':
    case 'replace-pool-addresses':
      return `${change.kind} ${change.pool}`;
    case 'create-config':
      return `${change.kind} ${change.input.hostname}.${change.input.zone}`;
    case 'update-config-basic':
    case 'replace-config-pools':
    case 'set-config-strategy':
      return `${change.kind} ${change.configId ?? '(new)'}`;
  }
}

/**
 * Applies a 3.0 plan's changes in order, each once (the adapter retries throttling itself). A
 * failed change does not stop the others; a change that needs the id of something whose create
 * failed is skipped, and so is the deletion of an address whose pool was not rewritten without it
 * (an address still in a pool is never deleted). Every change gets an outcome.
 */
export async function applyGtm3Changes(gtm: Gtm3, changes: Gtm3Change[]): Promise<Apply3Result> {
  const templateIds = new Map<string, string>();
  const addressIds = new Map<string, string>();
  const poolIds = new Map<string, string>();
  const failedPools = new Set<string>();
  /** Pools whose replace-pool-addresses of this plan did not apply. */
  const unreplaced = new Set<string>();
  let configId: string | undefined;
  let configFailed = false;
  const outcomes: Change3Outcome[] = [];
  const key = (pool: string, addr: string) => `${pool}\u0000${addr}`;

  const tasks = (plans: Gtm3TaskPlan[]): Gtm3HealthTask[] | string => {
    const out: Gtm3HealthTask[] = [];
    for (const t of plans) {
      const templateId = t.templateId ?? templateIds.get(t.ipVersion);
      if (templateId === undefined) return `the ${t.ipVersion} health-check template was not created`;
      out.push({ templateId, port: t.port });
    }
    return out;
  };

  for (const change of changes) {
    const skip = (error: string) => outcomes.push({ change, status: 'skipped', error });
    const pool = 'pool' in change ? change.pool : undefined;
    if (pool !== undefined && failedPools.has(pool) && change.kind !== 'create-address' && change.kind !== 'update-address') {
      if (change.kind === 'replace-pool-addresses') unreplaced.add(pool);
      skip(`pool ${pool} was not created`);
      continue;
    }
    if (change.kind !== 'create-config' && 'configId' in change && change.configId === undefined && configFailed) {
      skip('the configuration was not created');
      continue;
    }
    try {
      switch (change.kind) {
        case 'create-template':
          templateIds.set(change.ipVersion, (await gtm.createMonitorTemplate(change.input)).templateId);
          break;
        case 'update-template':
          await gtm.updateMonitorTemplate(change.templateId, change.input);
          break;
        case 'create-address': {
          const healthTasks = tasks(change.healthTasks);
          if (typeof healthTasks === 'string') {
            skip(healthTasks);
            continue;
          }
          addressIds.set(key(change.pool, change.addr), (await gtm.createAddress({ ...change.input, healthTasks })).addressId);
          break;
        }
        case 'update-address': {
          const healthTasks = tasks(change.healthTasks);
          if (typeof healthTasks === 'string') {
            skip(healthTasks);
            continue;
          }
          await gtm.updateAddress(change.addressId, { ...change.input, healthTasks });
          break;
        }
        case 'set-address-enable':
          await gtm.setAddressEnableStatus(change.addressId, change.status);
          break;
        case 'set-address-auto':
          await gtm.setAddressAutoMode(change.addressId);
          break;
        case 'create-pool':
          poolIds.set(change.pool, (await gtm.createPool(change.input)).poolId);
          break;
        case 'update-pool-basic':
          await gtm.updatePoolBasic(change.poolId, change.input);
          break;
        case 'set-pool-strategy':
          await gtm.setPoolLbStrategy((change.poolId ?? poolIds.get(change.pool)) as string, change.strategy);
          break;
        case 'replace-pool-addresses': {
          const members: Gtm3PoolMember[] = [];
          const missing = change.members.find((m) => (m.addressId ?? addressIds.get(key(change.pool, m.addr))) === undefined);
          if (missing) {
            unreplaced.add(change.pool);
            skip(`address ${missing.addr} was not created`);
            continue;
          }
          for (const m of change.members)
            members.push({
              addressId: (m.addressId ?? addressIds.get(key(change.pool, m.addr))) as string,
              serialNumber: m.serialNumber,
              weight: m.weight,
            });
          await gtm.replacePoolAddresses((change.poolId ?? poolIds.get(change.pool)) as string, members);
          break;
        }
        case 'delete-address':
          if (unreplaced.has(change.pool)) {
            skip(`pool ${change.pool} still holds it (its address list was not replaced)`);
            continue;
          }
          await gtm.deleteAddress(change.addressId);
          break;
        case 'create-config':
          configId = (await gtm.createInstanceConfig(change.input)).configId;
          break;
        case 'update-config-basic':
          await gtm.updateInstanceConfigBasic(change.configId, change.input);
          break;
        case 'replace-config-pools': {
          const refs = change.pools.map((p) => ({ ...p, poolId: p.poolId ?? poolIds.get(p.pool) }));
          const missing = refs.find((r) => r.poolId === undefined);
          if (missing) {
            skip(`pool ${missing.pool} was not created`);
            continue;
          }
          await gtm.replaceInstanceConfigPools(
            (change.configId ?? configId) as string,
            refs as Array<(typeof refs)[number] & { poolId: string }>,
          );
          break;
        }
        case 'set-config-strategy':
          await gtm.setInstanceConfigLbStrategy((change.configId ?? configId) as string, change.strategy, change.sequenceMode);
          break;
      }
      outcomes.push({ change, status: 'applied' });
    } catch (err) {
      if (change.kind === 'create-pool') failedPools.add(change.pool);
      if (change.kind === 'replace-pool-addresses') unreplaced.add(change.pool);
      if (change.kind === 'create-config') configFailed = true;
      outcomes.push({ change, status: 'failed', error: errorMessage(err), code: isTricenterError(err) ? err.code : 'INTERNAL' });
    }
  }
  const count = (status: Change3Outcome['status']) => outcomes.filter((o) => o.status === status).length;
  return { outcomes, applied: count('applied'), failed: count('failed'), skipped: count('skipped') };
}
