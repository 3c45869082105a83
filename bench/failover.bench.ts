/**
 * Failover time on the local twin: the seed deployed and running, then the disaster-recovery drill
 * (local/drill.ts) with the twin's default probe scale (0.05: a 60 s interval probes every 3 s).
 * Each measured switch is reported beside its bound, interval x evaluation count, and the TTL term
 * is 0 locally (no resolver cache; see the notes in the result). Goal: failover / bound <= 1.2.
 */
import { packBundle } from '#cli/client.ts';
import { FAILOVER_GOAL_RATIO, runDrillOnTwin } from '#local/drill.ts';
import { startTestTwin, waitFor, waitForPhase, WEB_DEMO } from '../test/e2e/helpers.ts';

/** The twin's own default (LocalTwinOptions.probeIntervalScale). */
const DEFAULT_LOCAL_SCALE = 0.05;

export async function run(): Promise<Record<string, unknown>> {
  const { twin, client, cleanup } = await startTestTwin({
    probeIntervalScale: DEFAULT_LOCAL_SCALE,
    timerIntervalMs: 500,
    gtmVersion: '2.0',
  });
  try {
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending', 30_000);
    await client.decide(WEB_DEMO, 'approve');
    await waitForPhase(client, 'running', 30_000);
    await waitFor(
      async () => twin.gtm.state(),
      (state) =>
        state.strategies.some((s) => s.failoverPoolIds.length > 0) &&
        state.pools.every((p) => p.addresses.length > 0) &&
        state.pools.length >= 2,
      30_000,
      'the GTM pools and strategy of the seed',
    );
    const report = await runDrillOnTwin(twin.endpoints, { app: WEB_DEMO, requests: 50 });
    const switches = report.phases.flatMap((p) => (p.transition ? [{ phase: p.title, ...p.transition }] : []));
    return {
      probeIntervalScale: report.bound.probeIntervalScale,
      boundMs: report.bound.localMs,
      cloudBoundS: report.bound.cloudS,
      switches,
      worstFailoverRatio: Math.max(...switches.filter((s) => s.kind === 'failover').map((s) => s.ratio)),
      goalRatio: FAILOVER_GOAL_RATIO,
      failoverWithinGoal: report.failoverWithinGoal,
      drillPassed: report.ok,
      answers: Object.fromEntries(
        report.phases.map((p) => [p.title, Object.fromEntries(Object.entries(p.answeredBy).map(([c, t]) => [c, t.count]))]),
      ),
      notes: report.notes,
    };
  } finally {
    await cleanup();
  }
}
