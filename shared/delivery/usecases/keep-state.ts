import { errorMessage } from '../../platform/errors.ts';
import { describeDrift, keepApplyOnceFields, type ObservedObject } from '../model/drift.ts';
import { objectRef, refKey, type KubeObject } from '../model/kube.ts';
import { appKey } from '../model/ownership.ts';
import { targetsByCluster } from '../model/plan.ts';
import type { Release } from '../model/records.ts';
import { recordDrift } from '../workflow/drift-history.ts';
import type { DriftEvent, Run } from '../workflow/run.ts';
import type { WorkflowDeps } from './deps.ts';
import { transitionRun } from './transition-run.ts';

/**
 * State keeping, KubeVela's name for it (Argo CD's self-heal): the sweep compares what each cluster
 * runs with the release of every application whose current run ended `running`, and applies again
 * what drifted (deleted, or edited: `kubectl edit`, `kubectl scale`, `kubectl delete`), unless:
 * - the Application says `tricenter.io/self-heal: "false"`: drift is reported, never healed;
 * - the paths an apply-once policy lists (affect `onStateKeep` or `always`): they are no drift,
 *   and a heal of the object's other fields sends the cluster's own values there;
 * - the object is no longer the application's (`foreign`): reported, never touched.
 * A heal goes through the gateway's apply, so its ownership check and server-side dry run hold:
 * a heal never writes an object another application or a person owns. Each finding is recorded
 * in the run's drift history (conditional write).
 *
 * Cost per round: one paged list per kind per cluster for every application together (the gateway's
 * `observe`), a read for each object those lists miss, and writes only for what drifted. Clusters are
 * observed `concurrency` at a time, each holding only its own desired and listed objects. Past what
 * one invocation keeps, deploy-step's timer splits the round by cluster (`clusters`: a shard keeps
 * only its clusters, reading only the releases deployed to them; functions/deploy-step/handler.ts).
 */
export interface DriftSweepOptions {
  /** Clusters observed at a time; default 8. */
  concurrency?: number;
  /**
   * A shard of a split round: only these clusters are observed and healed, and only the releases of
   * applications deployed to one of them are read (the other clusters are other shards').
   */
  clusters?: readonly string[];
  /** The runs that ended `running`, when the caller has just read them (keptRuns): not read again. */
  runs?: readonly Run[];
}

export interface DriftRound {
  /** Applications whose current run is `running` (the ones kept). */
  apps: number;
  /** Clusters observed. */
  clusters: number;
  objects: number;
  drifted: number;
  healed: number;
  healFailed: number;
  reported: number;
  /** Clusters that could not be observed (unknown, not drifted): retried next round. */
  unobserved: string[];
}

interface Kept {
  run: Run;
  release: Release;
  events: Array<Omit<DriftEvent, 'at'>>;
}

const SELF_HEAL_OFF = 'self-heal is off (tricenter.io/self-heal: "false"): reported, not applied again';
const NOT_OURS = 'no longer carries this application as its owner: never healed';

export async function sweepDrift(deps: WorkflowDeps, options: DriftSweepOptions = {}): Promise<DriftRound> {
  const only = options.clusters ? new Set(options.clusters) : undefined;
  const runs = options.runs ?? (await keptRuns(deps));
  const kept = await withReleases(deps, only ? runs.filter((run) => clustersOf(run).some((c) => only.has(c))) : runs);
  const round: DriftRound = {
    apps: kept.length,
    clusters: 0,
    objects: 0,
    drifted: 0,
    healed: 0,
    healFailed: 0,
    reported: 0,
    unobserved: [],
  };
  if (kept.length === 0) return round;
  const registry = await deps.registry();
  const byCluster = new Map<string, Kept[]>();
  for (const app of kept) {
    for (const cluster of targetsByCluster(app.release.plan).keys()) byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), app]);
  }
  const clusters = registry.clusters.map((c) => c.name).filter((name) => byCluster.has(name) && (!only || only.has(name)));
  await forEachLimit(clusters, options.concurrency ?? 8, async (cluster) => {
    try {
      await keepCluster(deps, cluster, byCluster.get(cluster) ?? [], round);
      round.clusters += 1;
    } catch (err) {
      round.unobserved.push(cluster);
      deps.logger.warn('drift: cluster not observed (unknown, not drifted)', { cluster, error: errorMessage(err) });
    }
  });
  const now = deps.clock.now();
  for (const app of kept) {
    if (app.events.length === 0) continue;
    try {
      await transitionRun(deps.store, app.run.id, (latest) => recordDrift(latest, app.events, now));
    } catch (err) {
      deps.logger.warn('drift: history not recorded', { runId: app.run.id, error: errorMessage(err) });
    }
  }
  return round;
}

/** The current run of every application, where it ended `running` (the ones kept): one page of app records a hundred, a read per run. */
export async function keptRuns(deps: Pick<WorkflowDeps, 'store'>): Promise<Run[]> {
  const runs: Run[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.listApps({ limit: 100, ...(cursor ? { cursor } : {}) });
    for (const record of page.items) {
      if (!record.currentRunId) continue;
      const run = await deps.store.getRun(record.currentRunId);
      if (run?.phase === 'running') runs.push(run);
    }
    cursor = page.nextCursor;
  } while (cursor);
  return runs;
}

/** The clusters a run deployed to (its deploy steps' tasks, one per target: the release plan's clusters). */
function clustersOf(run: Run): string[] {
  return [...new Set(run.steps.flatMap((step) => step.tasks.map((task) => task.cluster)))];
}

/**
 * The cluster x application pairs a round keeps, per cluster: how many of the runs deployed to it.
 * What one invocation's work grows with (each pair is a cluster's list share, a comparison per
 * object, the release's objects for that cluster).
 */
export function pairsByCluster(runs: readonly Run[]): Map<string, number> {
  const pairs = new Map<string, number>();
  for (const run of runs) for (const cluster of clustersOf(run)) pairs.set(cluster, (pairs.get(cluster) ?? 0) + 1);
  return pairs;
}

async function withReleases(deps: WorkflowDeps, runs: readonly Run[]): Promise<Kept[]> {
  const kept: Kept[] = [];
  for (const run of runs) {
    const release = await deps.store.getRelease(run.releaseId);
    if (release) kept.push({ run, release, events: [] });
  }
  return kept;
}

async function keepCluster(deps: WorkflowDeps, cluster: string, apps: Kept[], round: DriftRound): Promise<void> {
  const desired: KubeObject[][] = [];
  for (const app of apps) desired.push(await deps.manifests.desiredOn(app.release.plan, cluster));
  const observed = await deps.gateway.observe(cluster, desired.flat());
  round.objects += observed.length;
  let offset = 0;
  for (const [i, app] of apps.entries()) {
    const manifests = desired[i] ?? [];
    const mine = observed.slice(offset, offset + manifests.length);
    offset += manifests.length;
    const drifted = mine.flatMap((o, j) => (o.state === 'in-sync' ? [] : [{ observed: o, manifest: manifests[j] as KubeObject }]));
    if (drifted.length === 0) continue;
    round.drifted += drifted.length;
    deps.logger.warn('drift found', { cluster, app: appKey(app.run.app), objects: drifted.map((d) => describeDrift(d.observed)) });
    await healApp(deps, cluster, app, drifted, round);
  }
}

async function healApp(
  deps: WorkflowDeps,
  cluster: string,
  app: Kept,
  drifted: Array<{ observed: ObservedObject; manifest: KubeObject }>,
  round: DriftRound,
): Promise<void> {
  const finding = (o: ObservedObject) => ({
    cluster,
    object: refKey(o.ref),
    state: o.state as DriftEvent['state'],
    ...(o.fields ? { fields: o.fields } : {}),
  });
  const report = (o: ObservedObject, reason: string) => {
    app.events.push({ ...finding(o), action: 'reported', reason });
    round.reported += 1;
  };
  const healable: typeof drifted = [];
  for (const d of drifted) {
    if (d.observed.state === 'foreign') report(d.observed, NOT_OURS);
    else if (app.release.plan.selfHeal === false) report(d.observed, SELF_HEAL_OFF);
    else healable.push(d);
  }
  if (healable.length === 0) return;
  // A newer release may have started since the list: its own run deploys, this one must not write over it.
  const record = await deps.store.getApp(app.run.app);
  if (record?.currentRunId !== app.run.id) return;
  const toApply = healable.flatMap((d) => {
    const manifest = keepApplyOnceFields(d.manifest, d.observed.live, 'state-keep');
    return manifest ? [manifest] : [];
  });
  try {
    await deps.gateway.apply(cluster, toApply);
    for (const d of healable) {
      const reason =
        d.observed.state === 'missing' ? 'was deleted: created again' : `applied again: ${d.observed.fields?.join(', ') ?? ''}`;
      app.events.push({ ...finding(d.observed), action: 'healed', reason });
    }
    round.healed += healable.length;
    deps.logger.info('drift healed', { cluster, app: appKey(app.run.app), objects: toApply.map((m) => refKey(objectRef(m))) });
  } catch (err) {
    for (const d of healable) app.events.push({ ...finding(d.observed), action: 'heal-failed', reason: errorMessage(err) });
    round.healFailed += healable.length;
    deps.logger.warn('drift heal refused', { cluster, app: appKey(app.run.app), error: errorMessage(err) });
  }
}

async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}
