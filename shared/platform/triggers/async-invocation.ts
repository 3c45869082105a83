import * as z from 'zod/mini';

/** Payloads our functions send each other as FC async invocations (the task queue). */

/** A deploy task as it travels through the queue: one step on one cluster. */
export const deployTaskSchema = z.strictObject({
  runId: z.string().check(z.minLength(1)),
  step: z.string().check(z.minLength(1)),
  cluster: z.string().check(z.minLength(1)),
  attempt: z.int().check(z.positive()),
  key: z.string().check(z.minLength(1)),
});

/** Sent to gtm-reconcile right after a deploy step finished, so traffic follows within seconds. */
export const stepFinishedEventSchema = z.strictObject({
  type: z.literal('step-finished'),
  /** Present when it travelled as an FC async invocation (the queue's idempotency key). */
  key: z.optional(z.string()),
  app: z.strictObject({ namespace: z.string().check(z.minLength(1)), name: z.string().check(z.minLength(1)) }),
  step: z.string().check(z.minLength(1)),
});
export type StepFinishedEvent = z.infer<typeof stepFinishedEventSchema>;

/** The most applications one traffic shard may carry (a bound on what one invocation is asked to hold). */
export const TRAFFIC_SHARD_MAX_APPS = 1_000;

/**
 * Sent by gtm-reconcile's timer to gtm-reconcile when the round has more applications than one
 * invocation keeps: one message per shard of applications, each reconciled as its own invocation.
 */
export const trafficShardEventSchema = z.strictObject({
  type: z.literal('traffic-shard'),
  /** Present when it travelled as an FC async invocation (the queue's idempotency key). */
  key: z.optional(z.string()),
  /** When the timer round that sent it started (epoch ms): a shard from an older round is stale. */
  roundAt: z.int().check(z.nonnegative()),
  apps: z
    .array(z.strictObject({ namespace: z.string().check(z.minLength(1)), name: z.string().check(z.minLength(1)) }))
    .check(z.minLength(1), z.maxLength(TRAFFIC_SHARD_MAX_APPS)),
});
export type TrafficShardEvent = z.infer<typeof trafficShardEventSchema>;

/** The most clusters one drift shard may carry (a bound on what one invocation is asked to observe). */
export const DRIFT_SHARD_MAX_CLUSTERS = 500;

/**
 * Sent by deploy-step's timer to deploy-step when state keeping has more cluster x application
 * pairs than one invocation keeps: one message per shard of clusters, each observed and healed as
 * its own invocation (functions/deploy-step/shards.ts).
 */
export const driftShardEventSchema = z.strictObject({
  type: z.literal('drift-shard'),
  /** Present when it travelled as an FC async invocation (the queue's idempotency key). */
  key: z.optional(z.string()),
  /** When the timer round that sent it started (epoch ms): a shard from an older round is stale. */
  roundAt: z.int().check(z.nonnegative()),
  clusters: z.array(z.string().check(z.minLength(1))).check(z.minLength(1), z.maxLength(DRIFT_SHARD_MAX_CLUSTERS)),
});
export type DriftShardEvent = z.infer<typeof driftShardEventSchema>;
