import { errorMessage, isTricenterError, TricenterError } from '../../platform/errors.ts';
import type { Logger } from '../../platform/log.ts';
import type { ClusterRegistry } from '../../delivery/model/clusters.ts';
import type { AppRef } from '../../delivery/model/ownership.ts';
import type { TrafficPolicy } from '../../delivery/model/traffic-policy.ts';
import type { RunStore } from '../../delivery/ports/run-store.port.ts';
import { normalizeDomain, type TrafficTarget } from '../domain/claims.ts';
import type { ClusterGateway } from '../../delivery/ports/cluster-gateway.port.ts';
import { ownedPoolName, ownedStrategyName, type GtmMonitorConfig } from '../domain/gtm.ts';
import type { Gtm } from '../ports/gtm.port.ts';
import type { Gtm3 } from '../ports/gtm3.port.ts';
import type { Gtm3State, GtmCache, Traffic3Plan, TrafficRecord } from '../domain/types.ts';
import type { TrafficHistoryStore } from '../ports/traffic-history.port.ts';
import { planTraffic } from '../domain/planner.ts';
import { planTraffic3 } from '../domain/planner3.ts';
import { ownedAppRemark } from '../domain/gtm3.ts';
import { resolvePools } from '../domain/resolve.ts';
import type { ClusterObservation, GtmState, TrafficPlan } from '../domain/types.ts';
import { applyGtmChanges, GtmApplyError, type ApplyResult } from './apply-gtm-changes.ts';
import { applyGtm3Changes, describeChange3, type Apply3Result } from './apply-gtm3-changes.ts';
import { trafficClaimProblems } from './traffic-claims.ts';

export { GtmApplyError } from './apply-gtm-changes.ts';

const DEFAULT_OBSERVE_TIMEOUT_MS = 5_000;
/**
 * Monitors, the access strategy and the TTL are re-read from GTM at least this often. In between,
 * the values read last (kept in the traffic history, dropped whenever we write one of them) stand
 * in for them, so that a reconcile with nothing to do reads only the pool list, the pools and the
 * strategy list. Addresses are always read: they are what changes.
 */
const DEFAULT_VERIFY_EVERY_MS = 15 * 60 * 1000;

export interface ReconcileTrafficInput {
  policy: TrafficPolicy;
  registry: ClusterRegistry;
  gateway: Pick<ClusterGateway, 'ingressAddresses'>;
  /**
   * A Gtm bound to the GTM instance serving the policy's domain: a GTM 2.0 port, or a GTM 3.0 port
   * (`gtmVersion: '3.0'`); the version picks the planner. Both keep the same history records.
   */
  gtm: Gtm | Gtm3;
  /** Where the GTM claims live: the application must hold its instance and domain before anything is read or written. */
  claims: Pick<RunStore, 'getTrafficClaim'>;
  history: TrafficHistoryStore;
  logger: Logger;
  now: number;
  /** Plan and log only: nothing is written to GTM or to the history. */
  dryRun: boolean;
  /** Per cluster; a cluster that does not answer in time is unknown ('unreachable'). */
  observeTimeoutMs?: number;
  /** Absent observations in a row before an address is removed (default 3). */
  removeAfter?: number;
  /** 0: read every GTM setting on every run. */
  verifyEveryMs?: number;
}

export interface ReconcileTrafficResult {
  app: AppRef;
  /** Which GTM the plan is for: its changes are that version's. */
  gtmVersion: '2.0' | '3.0';
  dryRun: boolean;
  observations: Record<string, ClusterObservation>;
  plan: TrafficPlan | Traffic3Plan;
  /** Absent in dry-run mode. */
  applied?: ApplyResult | Apply3Result;
  /** Whether monitors, strategy and TTL were all read from GTM this time, or (mostly) taken from the cache. */
  gtmSettings: 'read' | 'cached';
}

/**
 * One traffic reconcile of one application: observe every cluster's Ingress (in parallel, each
 * bounded), read the application's part of GTM, plan with the pure planner, log the plan as JSON,
 * then apply it and persist the history (conditional write). Throws GtmApplyError, after saving
 * the history, when any change failed.
 */
export async function reconcileTraffic(input: ReconcileTrafficInput): Promise<ReconcileTrafficResult> {
  const { policy, gtm, now } = input;
  const app: AppRef = { namespace: policy.metadata.namespace, name: policy.metadata.name };
  const log = input.logger.child({ app: `${app.namespace}/${app.name}` });
  const target: TrafficTarget = { app, instanceId: gtm.instanceId, domain: normalizeDomain(policy.spec.domain) };
  const unclaimed = await trafficClaimProblems(input.claims, target);
  if (unclaimed.length > 0) refuse(log, app, unclaimed);

  const clusters = [...new Set(resolvePools(policy, input.registry).flatMap((p) => p.clusters.map((c) => c.name)))];
  const ingress = { namespace: policy.spec.ingress.namespace ?? app.namespace, name: policy.spec.ingress.name };
  const [observations, stored] = await Promise.all([
    observeClusters(input.gateway, clusters, ingress, input.observeTimeoutMs ?? DEFAULT_OBSERVE_TIMEOUT_MS, log),
    input.history.get(app),
  ]);
  if (isGtm3(gtm)) return reconcile3(input, gtm, { app, log, target, observations, stored });

  const verifyEveryMs = input.verifyEveryMs ?? DEFAULT_VERIFY_EVERY_MS;
  const cache = stored?.record.gtmCache;
  const fresh = cache !== undefined && now - cache.verifiedAt < verifyEveryMs ? cache : undefined;
  const state = await readGtmState(gtm, policy, app, fresh);
  const served = normalizeDomain(state.global.userDomainName ?? '');
  if (served !== '' && served !== target.domain) {
    // The instance answers for another domain (claimed before claims existed, or an instance shared by mistake): never take it from its holder.
    const taken = await trafficClaimProblems(input.claims, { ...target, domain: served });
    const holder = taken.find((p) => p.includes('is claimed by'));
    if (holder) refuse(log, app, [`GTM instance ${gtm.instanceId} answers for ${served}: ${holder}`]);
  }

  const plan = planTraffic({
    policy,
    registry: input.registry,
    observations,
    history: stored?.record.history,
    state,
    now,
    ...(input.removeAfter === undefined ? {} : { removeAfter: input.removeAfter }),
  });
  log.info('traffic plan', { dryRun: input.dryRun, changes: plan.changes, warnings: plan.warnings, desired: plan.desired, observations });
  for (const warning of plan.warnings) {
    if (warning.code === 'DRIFT') log.error('GTM changed outside tricenter', { ...warning });
    else log.warn('traffic warning', { ...warning });
  }
  const gtmSettings = fresh ? 'cached' : 'read';
  if (input.dryRun) return { app, gtmVersion: '2.0', dryRun: true, observations, plan, gtmSettings };

  const applied = await applyGtmChanges(gtm, plan.changes);
  const wroteSettings = plan.changes.some((c) => c.kind !== 'create-pool' && c.kind !== 'update-pool');
  // Values read now join the cache, but only a full read renews its age.
  const nextCache: GtmCache | undefined = wroteSettings
    ? undefined
    : {
        verifiedAt: fresh?.verifiedAt ?? now,
        monitors: state.monitors,
        ...(state.strategies.length === 1 ? { strategy: state.strategies[0] } : {}),
        global: state.global,
      };
  const record: TrafficRecord = { history: plan.history, ...(nextCache ? { gtmCache: nextCache } : {}) };
  await saveHistory(input, app, log, record, stored?.version ?? null);
  finish(log, applied, () => new GtmApplyError(applied));
  return { app, gtmVersion: '2.0', dryRun: false, observations, plan, applied, gtmSettings };
}

/** A reconcile outside the application's claims: nothing is written, and the reason is loud. */
function refuse(log: Logger, app: AppRef, problems: string[]): never {
  log.error('traffic reconcile refused: outside its GTM claims', { problems });
  throw new TricenterError('FORBIDDEN', `${app.namespace}/${app.name}: no GTM write: ${problems.join('; ')}`);
}

async function observeClusters(
  gateway: Pick<ClusterGateway, 'ingressAddresses'>,
  clusters: string[],
  ingress: { namespace: string; name: string },
  timeoutMs: number,
  log: Logger,
): Promise<Record<string, ClusterObservation>> {
  const entries = await Promise.all(
    clusters.map(async (cluster): Promise<[string, ClusterObservation]> => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        return [cluster, { addresses: await Promise.race([gateway.ingressAddresses(cluster, ingress), deadline]) }];
      } catch (err) {
        // Only an answer is evidence of absence: any failure leaves the cluster unknown.
        log.warn('cluster not observed; its addresses are kept', {
          cluster,
          code: isTricenterError(err) ? err.code : 'TIMEOUT',
          error: errorMessage(err),
        });
        return [cluster, 'unreachable'];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** The application's part of GTM; settings found in `cache` (when fresh) are not read again. */
async function readGtmState(gtm: Gtm, policy: TrafficPolicy, app: AppRef, cache: GtmCache | undefined): Promise<GtmState> {
  const names = new Set(policy.spec.pools.map((p) => ownedPoolName(app, p.name)));
  const strategyName = ownedStrategyName(app);
  const [summaries, strategySummaries] = await Promise.all([gtm.listPools(), gtm.listStrategies()]);
  const pools = await Promise.all(summaries.filter((p) => names.has(p.name)).map((p) => gtm.getPool(p.id)));

  const monitors: Record<string, GtmMonitorConfig> = {};
  await Promise.all(
    pools.map(async (pool) => {
      const id = pool.monitorConfigId;
      if (id === undefined) return;
      const cached = cache?.monitors[id];
      monitors[id] = cached ?? (await gtm.getMonitor(id));
    }),
  );
  const strategies = await Promise.all(
    strategySummaries
      .filter((s) => s.name === strategyName)
      .map(async (s) => {
        if (cache?.strategy?.id === s.id) return cache.strategy;
        return gtm.getStrategy(s.id);
      }),
  );
  const global = cache?.global ?? (await gtm.getGlobalConfig());
  return { pools, monitors, strategies, global };
}

function isGtm3(gtm: Gtm | Gtm3): gtm is Gtm3 {
  return 'gtmVersion' in gtm && gtm.gtmVersion === '3.0';
}

/** The history is a conditional write: a concurrent reconcile that saved first wins. */
async function saveHistory(
  input: ReconcileTrafficInput,
  app: AppRef,
  log: Logger,
  record: TrafficRecord,
  version: number | null,
): Promise<void> {
  await input.history.put(app, record, version).catch((err: unknown) => {
    // A concurrent reconcile saved its own observations; losing ours only delays a removal by one round.
    if (isTricenterError(err) && err.code === 'CONFLICT')
      log.warn('traffic history changed meanwhile; this round is not recorded', { error: errorMessage(err) });
    else throw err;
  });
}

/** Logs the outcome; a change that failed or was skipped fails the reconcile (after the history is saved). */
function finish(log: Logger, applied: ApplyResult | Apply3Result, error: () => GtmApplyError): void {
  const outcome = { applied: applied.applied, failed: applied.failed, skipped: applied.skipped };
  if (applied.failed > 0 || applied.skipped > 0) {
    log.error('traffic changes failed', { ...outcome, outcomes: applied.outcomes.filter((o) => o.status !== 'applied') });
    throw error();
  }
  log.info('traffic reconciled', outcome);
}

interface Observed {
  app: AppRef;
  log: Logger;
  target: TrafficTarget;
  observations: Record<string, ClusterObservation>;
  stored: Awaited<ReturnType<TrafficHistoryStore['get']>>;
}

/**
 * The GTM 3.0 half of reconcileTraffic: every address, pool, template and instance config read
 * (four paged list calls: no settings cache is needed), planned with planTraffic3, applied with
 * applyGtm3Changes; the same history records and the same claim checks as 2.0.
 */
async function reconcile3(input: ReconcileTrafficInput, gtm: Gtm3, observed: Observed): Promise<ReconcileTrafficResult> {
  const { policy, now } = input;
  const { app, log, target, observations, stored } = observed;
  const [addresses, pools, templates, configs] = await Promise.all([
    gtm.listAddresses(),
    gtm.listPools(),
    gtm.listMonitorTemplates(),
    gtm.listInstanceConfigs(),
  ]);
  const state: Gtm3State = { addresses, pools, templates, configs };
  // Our configuration answering for another domain (rewritten behind our back): never take that domain from its holder.
  for (const config of configs.filter((c) => c.remark === ownedAppRemark(app))) {
    const served = normalizeDomain(config.domain);
    if (served === '' || served === target.domain) continue;
    const taken = await trafficClaimProblems(input.claims, { ...target, domain: served });
    const holder = taken.find((p) => p.includes('is claimed by'));
    if (holder) refuse(log, app, [`GTM instance ${gtm.instanceId} configuration ${config.id} answers for ${served}: ${holder}`]);
  }
  const plan = planTraffic3({
    policy,
    registry: input.registry,
    observations,
    history: stored?.record.history,
    state,
    now,
    ...(input.removeAfter === undefined ? {} : { removeAfter: input.removeAfter }),
  });
  log.info('traffic plan', {
    gtmVersion: '3.0',
    dryRun: input.dryRun,
    changes: plan.changes,
    warnings: plan.warnings,
    desired: plan.desired,
    observations,
  });
  for (const warning of plan.warnings) {
    if (warning.code === 'DRIFT') log.error('GTM changed outside tricenter', { ...warning });
    else log.warn('traffic warning', { ...warning });
  }
  if (input.dryRun) return { app, gtmVersion: '3.0', dryRun: true, observations, plan, gtmSettings: 'read' };

  const applied = await applyGtm3Changes(gtm, plan.changes);
  await saveHistory(input, app, log, { history: plan.history }, stored?.version ?? null);
  finish(log, applied, () => new GtmApplyError(applied, describeChange3));
  return { app, gtmVersion: '3.0', dryRun: false, observations, plan, applied, gtmSettings: 'read' };
}
