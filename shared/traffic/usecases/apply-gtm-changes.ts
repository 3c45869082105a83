import { errorMessage, isTricenterError, TricenterError, type ErrorCode } from '../../platform/errors.ts';
import type { Gtm } from '../ports/gtm.port.ts';
import type { GtmPoolRef } from '../domain/gtm.ts';
import type { GtmChange, PoolRefPlan } from '../domain/types.ts';
import type { Apply3Result } from './apply-gtm3-changes.ts';

interface ChangeOutcome {
  change: GtmChange;
  status: 'applied' | 'failed' | 'skipped';
  /** Why it failed, or which earlier failure it depended on. */
  error?: string;
  code?: ErrorCode;
}

export interface ApplyResult {
  outcomes: ChangeOutcome[];
  applied: number;
  failed: number;
  skipped: number;
}

/** Raised by a reconcile whose writes did not all succeed; `result` lists every change's outcome. */
export class GtmApplyError extends TricenterError {
  /** `describe` names a change in the message: the 2.0 changes' by default, describeChange3 for a 3.0 plan. */
  constructor(
    readonly result: ApplyResult | Apply3Result,
    describe: (change: never) => string = describeChange,
  ) {
    const failures: Array<{ change: unknown; error?: string; code?: ErrorCode }> = result.outcomes.filter((o) => o.status === 'failed');
    const first = failures[0];
    super(
      first?.code ?? 'INTERNAL',
      `${result.failed} of ${result.outcomes.length} GTM changes failed (${result.skipped} skipped, ${result.applied} applied): ${failures
        .map((o) => `${describe(o.change as never)}: ${o.error}`)
        .join('; ')}`,
      {
        retryable: failures.every(
          (o) => o.code === 'THROTTLED' || o.code === 'UNREACHABLE' || o.code === 'TIMEOUT' || o.code === 'CONFLICT',
        ),
      },
    );
  }
}

function describeChange(change: GtmChange): string {
  switch (change.kind) {
    case 'create-pool':
    case 'update-pool':
    case 'create-monitor':
    case 'update-monitor':
    case 'open-monitor':
      return `${change.kind} ${change.pool}`;
    case 'create-strategy':
    case 'update-strategy':
      return `${change.kind} ${change.input.name}`;
    case 'update-global-config':
      return `${change.kind} ttl=${change.config.ttl}`;
  }
}

/**
 * Applies a plan's changes in order, each once (the adapter retries throttling itself). A failed
 * change does not stop the others; a change that needs the id of a pool or monitor whose create
 * failed is skipped. Every change gets an outcome, so a partial failure is always reported.
 */
export async function applyGtmChanges(gtm: Gtm, changes: GtmChange[]): Promise<ApplyResult> {
  const poolIds = new Map<string, string>();
  const monitorIds = new Map<string, string>();
  const failedPools = new Set<string>();
  const outcomes: ChangeOutcome[] = [];

  const resolveRefs = (refs: PoolRefPlan[]): GtmPoolRef[] | string => {
    const resolved: GtmPoolRef[] = [];
    for (const ref of refs) {
      const poolId = ref.poolId ?? poolIds.get(ref.pool);
      if (poolId === undefined) return `pool ${ref.pool} was not created`;
      resolved.push({ poolId, weight: ref.weight });
    }
    return resolved;
  };

  for (const change of changes) {
    const pool = 'pool' in change ? change.pool : undefined;
    if (pool !== undefined && failedPools.has(pool)) {
      outcomes.push({ change, status: 'skipped', error: `pool ${pool} was not created` });
      continue;
    }
    if (change.kind === 'open-monitor' && (change.monitorConfigId ?? monitorIds.get(change.pool)) === undefined) {
      outcomes.push({ change, status: 'skipped', error: `the health check of pool ${change.pool} was not created` });
      continue;
    }
    try {
      switch (change.kind) {
        case 'create-pool': {
          const created = await gtm.createPool(change.input);
          poolIds.set(change.pool, created.poolId);
          if (created.monitorConfigId) monitorIds.set(change.pool, created.monitorConfigId);
          break;
        }
        case 'update-pool':
          await gtm.updatePool(change.poolId, change.input);
          break;
        case 'create-monitor':
          monitorIds.set(change.pool, (await gtm.createMonitor(change.poolId, change.config)).monitorConfigId);
          break;
        case 'update-monitor':
          await gtm.updateMonitor(change.monitorConfigId, change.config);
          break;
        case 'open-monitor':
          await gtm.setMonitorStatus((change.monitorConfigId ?? monitorIds.get(change.pool)) as string, 'OPEN');
          break;
        case 'create-strategy':
        case 'update-strategy': {
          const primary = resolveRefs(change.input.primary);
          const failover = resolveRefs(change.input.failover);
          const missing = [primary, failover].find((r): r is string => typeof r === 'string');
          if (missing !== undefined) {
            outcomes.push({ change, status: 'skipped', error: missing });
            continue;
          }
          const input = { ...change.input, primary: primary as GtmPoolRef[], failover: failover as GtmPoolRef[] };
          if (change.kind === 'create-strategy') await gtm.createStrategy(input);
          else await gtm.updateStrategy(change.strategyId, input);
          break;
        }
        case 'update-global-config':
          await gtm.updateGlobalConfig(change.config);
          break;
      }
      outcomes.push({ change, status: 'applied' });
    } catch (err) {
      if (change.kind === 'create-pool') failedPools.add(change.pool);
      outcomes.push({ change, status: 'failed', error: errorMessage(err), code: isTricenterError(err) ? err.code : 'INTERNAL' });
    }
  }
  const count = (status: ChangeOutcome['status']) => outcomes.filter((o) => o.status === status).length;
  return { outcomes, applied: count('applied'), failed: count('failed'), skipped: count('skipped') };
}
