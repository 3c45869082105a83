/**
 * The seed's traffic on the local twin, shared by the e2e tests of both GTM generations
 * (traffic-seed.test.ts and traffic-cli.test.ts on 2.0, their siblings on 3.0): a twin with the seed
 * running, what the drill must read back from GTM, and a drill phase by name.
 */
import { expect } from 'vitest';
import type { ApiClient } from '#cli/client.ts';
import type { DrillPhase, DrillReport, readDrillSetup } from '#local/drill.ts';
import type { LocalTwin, LocalTwinOptions } from '#local/twin.ts';
import { deploySeedToRunning, startTestTwin } from './helpers.ts';

export interface SeedOnTwin {
  twin: LocalTwin;
  client: ApiClient;
  cleanup(): Promise<void>;
  /** Each cluster's Ingress address, by cluster name. */
  address: Record<string, string>;
}

/** A test twin with the seed deployed and running (the twin is stopped again if the seed does not get there). */
export async function startSeedOnTwin(overrides: Partial<LocalTwinOptions>): Promise<SeedOnTwin> {
  const { twin, client, cleanup } = await startTestTwin(overrides);
  try {
    await deploySeedToRunning(client);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { twin, client, cleanup, address: Object.fromEntries(twin.sandbox.clusters.map((c) => [c.name, c.ingressAddress])) };
}

/** What the drill reads back through either generation's GTM API for the seed: Beijing primary, Hangzhou failover, the seed's bound. */
export function expectSeedDrillSetup(setup: Awaited<ReturnType<typeof readDrillSetup>>, address: Record<string, string>): void {
  expect(setup).toEqual({
    domain: 'web-demo.example.com',
    clusters: {
      primary: expect.arrayContaining([
        { cluster: 'cluster1-beijing', address: address['cluster1-beijing'] },
        { cluster: 'cluster2-beijing', address: address['cluster2-beijing'] },
      ]),
      failover: [{ cluster: 'cluster1-hangzhou', address: address['cluster1-hangzhou'] }],
    },
    bound: { intervalS: 60, evaluationCount: 2, ttlS: 60 },
  });
  expect(setup.clusters.primary).toHaveLength(2);
}

export function drillPhase(report: DrillReport, name: DrillPhase['name']): DrillPhase {
  const found = report.phases.find((p) => p.name === name);
  if (!found) throw new Error(`the drill has no phase ${name}: ${report.phases.map((p) => p.name).join(', ')}`);
  return found;
}
