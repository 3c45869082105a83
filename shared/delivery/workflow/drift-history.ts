import type { DriftEvent, Run, Transition } from './run.ts';

/**
 * The drift history of a run: what the sweep found changed on a cluster after the run deployed it,
 * and what it did about it. Pure: the sweep reads, heals, then records with `recordDrift` through a
 * conditional write (transitionRun), so a concurrent writer makes it decide again.
 */

/** Oldest events are dropped beyond this, so that the run row stays small (Tablestore: one row). */
export const MAX_DRIFT_EVENTS = 100;

/**
 * Adds the events of one sweep round to the run. Only a run that ended `running` keeps state (its
 * release is what every cluster should run); any other run is left unchanged. A `reported` or
 * `heal-failed` event equal to the last event of the same object (same action, state, fields and
 * reason) is not added again: drift left alone, or a heal refused for the same reason, is recorded
 * when it appears or changes, not once a minute (the heal itself is tried every round). An event already
 * there with the same `at` is the same round's, written before by an attempt whose answer was lost:
 * not added twice (the caller passes one `now` for all the attempts of a round).
 */
export function recordDrift(run: Run, events: ReadonlyArray<Omit<DriftEvent, 'at'>>, now: number): Transition {
  if (run.phase !== 'running') return { run, effects: [], changed: false, ignoredReason: `run ${run.id} is ${run.phase}, not running` };
  const history = [...(run.driftEvents ?? [])];
  let added = 0;
  for (const event of events) {
    if (history.some((e) => e.at === now && e.cluster === event.cluster && e.object === event.object && e.action === event.action))
      continue;
    if (event.action !== 'healed') {
      const last = history.findLast((e) => e.cluster === event.cluster && e.object === event.object);
      if (last && last.action === event.action && sameFinding(last, event)) continue;
    }
    const entry: DriftEvent = { at: now, ...event };
    if (entry.fields === undefined) delete entry.fields;
    history.push(entry);
    added += 1;
  }
  if (added === 0) return { run, effects: [], changed: false, ignoredReason: 'no new drift event' };
  return { run: { ...run, driftEvents: history.slice(-MAX_DRIFT_EVENTS) }, effects: [], changed: true };
}

function sameFinding(a: Omit<DriftEvent, 'at'>, b: Omit<DriftEvent, 'at'>): boolean {
  return a.state === b.state && a.reason === b.reason && (a.fields ?? []).join() === (b.fields ?? []).join();
}
