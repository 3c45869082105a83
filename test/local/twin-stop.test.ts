import { describe, expect, it } from 'vitest';
import { packBundle } from '#cli/client.ts';
import { memoryLogger } from '#shared/platform/log.ts';
import { startTestTwin, waitForPhase, WEB_DEMO } from '../e2e/helpers.ts';

/**
 * Issue 14 (11): `npm run invoke` stopped the twin while the traffic reconcile a deploy step had
 * triggered was still retrying the stopped GTM emulator. stop() drains that work first.
 */
describe('local twin stop', () => {
  it('waits for the traffic reconcile in flight before stopping the GTM emulator, and runs none afterwards', async () => {
    const logger = memoryLogger();
    const { twin, client, cleanup } = await startTestTwin({ logger, timerIntervalMs: 600_000 });
    await client.upload(WEB_DEMO, await packBundle('examples/web-demo'));
    await waitForPhase(client, 'workflowSuspending', 60_000);

    const order: string[] = [];
    const reconciling = twin.reconcileTraffic().then(() => order.push('reconciled'));
    await cleanup();
    order.push('stopped');
    await reconciling;
    expect(order).toEqual(['reconciled', 'stopped']);

    await twin.reconcileTraffic();
    const messages = logger.lines.map((line) => String(line.msg));
    const emulatorStopped = messages.indexOf('gtm emulator stopped');
    expect(emulatorStopped).toBeGreaterThan(messages.lastIndexOf('traffic reconciled'));
    expect(messages.slice(emulatorStopped + 1)).toEqual(['work not started: the twin is stopping']);
    expect(messages.filter((m) => /failed|retried/.test(m))).toEqual([]);
  }, 120_000);
});
