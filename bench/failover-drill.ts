/**
 * What the two failover benches share (failover.bench.ts on GTM 2.0, failover-gtm3.bench.ts on
 * GTM 3.0): the seed deployed on the local twin and running, then the disaster-recovery drill
 * (local/drill.ts) with the twin's default probe scale (0.05: a 60 s interval probes every 3 s).
 * Each measured switch is reported beside its bound, interval x evaluation count; the TTL term is
 * 0 locally (no resolver cache; see the notes in the result). Goal: failover / bound <= 1.2.
 */
import { packBundle } from '#cli/client.ts';
import { FAILOVER_GOAL_RATIO, runDrillOnTwin } from '#local/drill.ts';
import type { GtmEmulator, GtmVersion } from '#sandbox/gtm/index.ts';
import { startTestTwin, waitFor, waitForPhase, WEB_DEMO } from '../test/e2e/helpers.ts';

/** The twin's own default (LocalTwinOptions.probeIntervalScale). */
const DEFAULT_LOCAL_SCALE = 0.05;
const SEED_WAIT_MS = 30_000;

/** Waits until the emulator holds the seed's pools and what points the domain at them, in its generation's objects. */
const SEED_IN_GTM: Record<GtmVersion, (gtm: GtmEmulator) => Promise<unknown>> = {
  '2.0': (gtm) =>
    waitFor(
      async () => gtm.state(),
      (state) =>
        state.strategies.some((s) => s.failoverPoolIds.length > 0) &&
        state.pools.every((p) => p.addresses.length > 0) &&
        state.pools.length >= 2,
      SEED_WAIT_MS,
      'the GTM pools and strategy of the seed',
    ),
  '3.0': (gtm) =>
    waitFor(
      async () => gtm.cloudState(),
      (state) =>
        state.configs.some((c) => c.poolIds.length >= 2) && state.pools.length >= 2 && state.pools.every((p) => p.addressIds.length > 0),
      SEED_WAIT_MS,
      'the GTM 3.0 pools and instance configuration of the seed',
    ),
};

export async function failoverDrill(gtmVersion: GtmVersion): Promise<Record<string, unknown>> {
  const { twin, client, cleanup } = await startTestTwin({
    probeIntervalScale: DEFAULT_LOCAL_SCALE,
    timerIntervalMs: 500,
    gtmVersion,
  });
  try {
    const packed = await packBundle('examples/web-demo');
    await client.upload(packed.app, packed);
    await waitForPhase(client, 'workflowSuspending', SEED_WAIT_MS);
    await client.decide(WEB_DEMO, 'approve');
    await waitForPhase(client, 'running', SEED_WAIT_MS);
    await SEED_IN_GTM[gtmVersion](twin.gtm);
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
