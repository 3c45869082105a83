/**
 * Failover time on the local twin with GTM 3.0 (the twin's default): the seed deployed and
 * running, then the disaster-recovery drill (local/drill.ts) with the twin's default probe scale
 * (0.05: a 60 s interval probes every 3 s). Same figures as failover.bench.ts (which runs GTM 2.0),
 * so the two generations of the emulator can be set side by side. Goal: failover / bound <= 1.2.
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
    gtmVersion: '3.0',
  });
  try {
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending', 30_000);
    await client.decide(WEB_DEMO, 'approve');
    await waitForPhase(client, 'running', 30_000);
    await waitFor(
      async () => twin.gtm.cloudState(),
      (state) =>
        state.configs.some((c) => c.poolIds.length >= 2) && state.pools.length >= 2 && state.pools.every((p) => p.addressIds.length > 0),
      30_000,
      'the GTM 3.0 pools and instance configuration of the seed',
    );
    const report = await runDrillOnTwin(twin.endpoints, { app: WEB_DEMO, requests: 50 });
    const switches = report.phases.flatMap((p) => (p.transition ? [{ phase: p.title, ...p.transition }] : []));
    return {
      gtmVersion: twin.gtm.gtmVersion,
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
