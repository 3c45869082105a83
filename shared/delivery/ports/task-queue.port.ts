import type { DeployTask } from '../workflow/run.ts';

/**
 * Carries task messages to workers. Delivery is at-least-once and unordered: a message may arrive
 * twice, late, or (rarely) never — the run record makes duplicates harmless and the sweep re-sends
 * what was lost. `key` is the idempotency id (FC async invoke's invocation id), unique per attempt.
 */
export interface QueueMessage {
  key: string;
}

export interface TaskQueue<T extends QueueMessage = DeployTask> {
  /** Hands the messages to the transport; resolves once it accepted them (not once they were handled). */
  send(messages: readonly T[]): Promise<void>;
}

/** A queue that also delivers, inside this process (the local twin; tests). */
export interface ConsumingTaskQueue<T extends QueueMessage = DeployTask> extends TaskQueue<T> {
  /** Starts delivering to `handler`; a handler that throws has the message re-delivered after a backoff. */
  start(handler: TaskHandler<T>): void;
  /** Stops delivering and waits for handlers in flight; messages not yet delivered are discarded. */
  stop(): Promise<void>;
  /** Resolves once nothing is queued, delayed, waiting for a retry or in flight (before `start`, queued messages wait for it). */
  drain(): Promise<void>;
}

export type TaskHandler<T> = (message: T, context: DeliveryContext) => Promise<void>;

interface DeliveryContext {
  /** 1 on the first delivery of this copy of the message, then 2, 3... after the handler threw. */
  delivery: number;
}
