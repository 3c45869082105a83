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
