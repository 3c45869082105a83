/**
 * Failover time on the local twin with GTM 2.0: the seed deployed and running, then the
 * disaster-recovery drill at the twin's default probe scale (failover-drill.ts). Same figures as
 * failover-gtm3.bench.ts (GTM 3.0, the twin's default), so the two generations of the emulator can
 * be set side by side. Goal: failover / bound <= 1.2.
 */
import { failoverDrill } from './failover-drill.ts';

export async function run(): Promise<Record<string, unknown>> {
  return failoverDrill('2.0');
}
