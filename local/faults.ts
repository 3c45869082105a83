import { TricenterError } from '#shared/platform/errors.ts';
import { seededRandom, type Random } from '#shared/delivery/adapters/local/seeded-random.ts';
import type { Notifier } from '#shared/delivery/ports/notifier.port.ts';
import type { RunStore } from '#shared/delivery/ports/run-store.port.ts';
import type { ConsumingTaskQueue, QueueMessage, TaskHandler } from '#shared/delivery/ports/task-queue.port.ts';

/**
 * Fault injection for the twin's chaos runs and the tests, by wrapping ports (production code has
 * no hooks): a queue that duplicates, delays (so reorders) and drops messages, and a run store
 * whose run writes crash, which is what a process dying between applying to a cluster and
 * recording it looks like to everyone else. Reproducible for a seed.
 */
export interface TwinFaults {
  /** Probability that a sent message is delivered twice. */
  duplicateRate?: number;
  /** Each copy waits a random delay in [min, max] ms before it reaches the queue, so messages overtake each other. */
  delayMs?: [number, number];
  /** Probability that a sent message is never delivered. */
  dropRate?: number;
  /** Probability that a task's run write throws InjectedCrash: applied to the cluster, not recorded. */
  crashBeforeRecordRate?: number;
  /** While this answers true the twin's notification channel fails every send, as an unreachable receiver does (retryable). */
  notifierDown?: () => boolean;
  seed?: number;
}

export interface FaultStats {
  duplicated: number;
  dropped: number;
  crashed: number;
}

export class InjectedCrash extends TricenterError {
  constructor() {
    super('INTERNAL', 'injected crash between apply and record', { retryable: true });
  }
}

export class FaultInjector {
  readonly stats: FaultStats = { duplicated: 0, dropped: 0, crashed: 0 };
  private readonly random: Random;

  constructor(private readonly faults: TwinFaults) {
    this.random = seededRandom(faults.seed ?? 1);
  }

  /** `inner` behind duplicates, delays and drops; `drain` also waits for the delayed copies. */
  queue<T extends QueueMessage>(inner: ConsumingTaskQueue<T>): ConsumingTaskQueue<T> {
    return new FaultyQueue(inner, this.faults, this.random, this.stats);
  }

  /** `inner` failing every send while `notifierDown()` holds, as a receiver that is down does (retryable; nothing reaches it). */
  notifier(inner: Notifier): Notifier {
    const down = this.faults.notifierDown;
    if (!down) return inner;
    return {
      name: inner.name,
      get recipients() {
        return inner.recipients;
      },
      send: async (notification) => {
        if (down())
          throw new TricenterError('UNREACHABLE', `notifier ${inner.name}: the webhook could not be reached (injected)`, {
            retryable: true,
          });
        return inner.send(notification);
      },
    };
  }

  /** `inner` whose `updateRun` sometimes throws InjectedCrash instead of writing; give it to the task worker only. */
  crashingRunWrites(inner: RunStore): RunStore {
    const rate = this.faults.crashBeforeRecordRate ?? 0;
    const updateRun: RunStore['updateRun'] = async (run, expectedVersion) => {
      if (this.random.chance(rate)) {
        this.stats.crashed += 1;
        throw new InjectedCrash();
      }
      return inner.updateRun(run, expectedVersion);
    };
    return new Proxy(inner, {
      get(target, property) {
        if (property === 'updateRun') return updateRun;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }
}

interface DelayedCopy {
  timer: NodeJS.Timeout;
  settle: () => void;
}

class FaultyQueue<T extends QueueMessage> implements ConsumingTaskQueue<T> {
  private readonly delayed = new Map<Promise<void>, DelayedCopy>();

  constructor(
    private readonly inner: ConsumingTaskQueue<T>,
    private readonly faults: TwinFaults,
    private readonly random: Random,
    private readonly stats: FaultStats,
  ) {}

  async send(messages: readonly T[]): Promise<void> {
    const now: T[] = [];
    for (const message of messages) {
      if (this.random.chance(this.faults.dropRate ?? 0)) {
        this.stats.dropped += 1;
        continue;
      }
      const copies = this.random.chance(this.faults.duplicateRate ?? 0) ? 2 : 1;
      if (copies === 2) this.stats.duplicated += 1;
      for (let copy = 0; copy < copies; copy++) {
        const delayMs = this.faults.delayMs ? this.random.integer(...this.faults.delayMs) : 0;
        if (delayMs > 0) this.later(message, delayMs);
        else now.push(message);
      }
    }
    if (now.length > 0) await this.inner.send(now);
  }

  start(handler: TaskHandler<T>): void {
    this.inner.start(handler);
  }

  async stop(): Promise<void> {
    for (const { timer, settle } of this.delayed.values()) {
      clearTimeout(timer);
      settle();
    }
    this.delayed.clear();
    await this.inner.stop();
  }

  /** Handlers send through this wrapper too, so a drained inner queue may have refilled the delays: loop until both are empty. */
  async drain(): Promise<void> {
    do {
      await Promise.all(this.delayed.keys());
      await this.inner.drain();
    } while (this.delayed.size > 0);
  }

  private later(message: T, delayMs: number): void {
    let settle!: () => void;
    const arrived = new Promise<void>((resolve) => (settle = resolve));
    const timer = setTimeout(() => {
      this.delayed.delete(arrived);
      void this.inner.send([message]).finally(settle);
    }, delayMs);
    this.delayed.set(arrived, { timer, settle });
  }
}
