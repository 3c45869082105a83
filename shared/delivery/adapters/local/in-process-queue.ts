import { errorMessage } from '../../../platform/errors.ts';
import { silentLogger, type Logger } from '../../../platform/log.ts';
import type { ConsumingTaskQueue, QueueMessage, TaskHandler } from '../../ports/task-queue.port.ts';
import type { DeployTask } from '../../workflow/run.ts';

/**
 * The local task queue: delivers in this process with a concurrency limit, re-delivers with
 * exponential backoff when the handler throws (like FC async invoke's retries), and sets aside
 * messages that failed `maxDeliveries` times (the dead letters). Faults (duplicates, delays,
 * drops) are injected by wrapping it: local/faults.ts.
 */

export interface InProcessQueueOptions {
  /** Handlers running at once (default 4). */
  concurrency?: number;
  /** Deliveries of one message before it becomes a dead letter (default 5). */
  maxDeliveries?: number;
  /** Re-delivery delay after a throw: base · 2^(delivery-1), capped (defaults 20 ms, 2 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  logger?: Logger;
}

export interface QueueStats {
  sent: number;
  delivered: number;
  retried: number;
  deadLettered: number;
}

interface Envelope<T> {
  message: T;
  delivery: number;
}

export class InProcessQueue<T extends QueueMessage = DeployTask> implements ConsumingTaskQueue<T> {
  readonly stats: QueueStats = { sent: 0, delivered: 0, retried: 0, deadLettered: 0 };
  readonly deadLetters: Array<{ message: T; error: string }> = [];

  private readonly ready: Array<Envelope<T>> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly idleWaiters: Array<() => void> = [];
  private handler: TaskHandler<T> | undefined;
  private readonly concurrency: number;
  private readonly maxDeliveries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly logger: Logger;

  constructor(options: InProcessQueueOptions = {}) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxDeliveries = Math.max(1, options.maxDeliveries ?? 5);
    this.retryBaseMs = options.retryBaseMs ?? 20;
    this.retryMaxMs = options.retryMaxMs ?? 2_000;
    this.logger = options.logger ?? silentLogger;
  }

  async send(messages: readonly T[]): Promise<void> {
    for (const message of messages) {
      this.stats.sent += 1;
      this.ready.push({ message, delivery: 1 });
    }
    this.pump();
  }

  start(handler: TaskHandler<T>): void {
    this.handler = handler;
    this.pump();
  }

  async stop(): Promise<void> {
    this.handler = undefined;
    for (const timer of this.timers) clearTimeout(timer);
    const discarded = this.ready.length + this.timers.size;
    this.timers.clear();
    this.ready.length = 0;
    if (discarded > 0) this.logger.info('queue stopped with undelivered messages', { discarded });
    await Promise.all(this.running);
    this.notifyIfIdle();
  }

  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(envelope: Envelope<T>, delayMs: number): void {
    if (delayMs <= 0) {
      this.ready.push(envelope);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push(envelope);
      this.pump();
    }, delayMs);
    this.timers.add(timer);
  }

  private pump(): void {
    const handler = this.handler;
    if (!handler) return;
    while (this.running.size < this.concurrency && this.ready.length > 0) {
      const envelope = this.ready.shift()!;
      const delivery = this.deliver(handler, envelope).finally(() => {
        this.running.delete(delivery);
        this.pump();
        this.notifyIfIdle();
      });
      this.running.add(delivery);
    }
  }

  private async deliver(handler: TaskHandler<T>, envelope: Envelope<T>): Promise<void> {
    this.stats.delivered += 1;
    try {
      await handler(envelope.message, { delivery: envelope.delivery });
    } catch (err) {
      if (!this.handler) return;
      if (envelope.delivery >= this.maxDeliveries) {
        this.stats.deadLettered += 1;
        this.deadLetters.push({ message: envelope.message, error: errorMessage(err) });
        this.logger.error('queue gave up on a message', { key: envelope.message.key, deliveries: envelope.delivery, error: err });
        return;
      }
      this.stats.retried += 1;
      const backoff = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (envelope.delivery - 1));
      this.logger.warn('queue handler failed; will re-deliver', {
        key: envelope.message.key,
        delivery: envelope.delivery,
        backoffMs: backoff,
        error: err,
      });
      this.enqueue({ message: envelope.message, delivery: envelope.delivery + 1 }, backoff);
    }
  }

  private isIdle(): boolean {
    return this.ready.length === 0 && this.timers.size === 0 && this.running.size === 0;
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
