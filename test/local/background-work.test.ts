import { describe, expect, it } from 'vitest';
import { memoryLogger } from '#shared/platform/log.ts';
import { BackgroundWork } from '#local/background-work.ts';

/** The twin's own work (sweeps, wake-ups, traffic reconciles) is drained by stop(), never cut off. */
describe('BackgroundWork', () => {
  it('stop() resolves only after the work in flight finished, and starts nothing afterwards', async () => {
    const work = new BackgroundWork(memoryLogger());
    const events: string[] = [];
    let release!: () => void;
    void work.start('gtm-reconcile', async () => {
      await new Promise<void>((resolve) => (release = resolve));
      events.push('reconciled');
    });
    const stopped = work.stop().then(() => events.push('stopped'));
    // However long the reconcile takes, stop() is still waiting for it.
    for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(events).toEqual([]);
    release();
    await stopped;
    await work.start('gtm-reconcile', async () => {
      events.push('ran after stop');
    });
    expect(events).toEqual(['reconciled', 'stopped']);
  });

  it('waits for work started while stopping by work in flight (refused), and logs failures instead of throwing', async () => {
    const logger = memoryLogger();
    const work = new BackgroundWork(logger);
    const events: string[] = [];
    void work.start('sweep', async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      void work.start('wake-up', async () => events.push('wake-up'));
      throw new Error('store closed');
    });
    await work.stop();
    expect(events).toEqual([]);
    expect(logger.lines.map((l) => [l.msg, l.error ?? l.what])).toEqual([
      ['work not started: the twin is stopping', 'wake-up'],
      ['sweep failed', 'store closed'],
    ]);
  });
});
