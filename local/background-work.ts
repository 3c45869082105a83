import { errorMessage } from '#shared/platform/errors.ts';
import type { Logger } from '#shared/platform/log.ts';

/**
 * The work the twin starts by itself (timer sweeps, wake-up ticks, traffic reconciles), tracked so
 * that stopping drains it: `stop()` refuses new work and resolves once nothing is in flight, so no
 * reconcile is left retrying a GTM emulator that was stopped under it, and no tick writes to a
 * closed store. A failure is logged (the next timer round retries), never thrown to the starter.
 */
export class BackgroundWork {
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;

  constructor(private readonly logger: Logger) {}

  /** Runs `work` now unless stopping; resolves when it settled. `context` goes into its failure's log line. */
  start(what: string, work: () => Promise<unknown>, context: Record<string, unknown> = {}): Promise<void> {
    if (this.stopping) {
      this.logger.info('work not started: the twin is stopping', { what });
      return Promise.resolve();
    }
    const running: Promise<void> = work()
      .then(
        () => undefined,
        (err: unknown) => this.logger.warn(`${what} failed`, { ...context, error: errorMessage(err) }),
      )
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
    return running;
  }

  /** Refuses new work, then waits for the work in flight (including what it starts meanwhile: refused). */
  async stop(): Promise<void> {
    this.stopping = true;
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }
}
