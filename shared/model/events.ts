import { z } from 'zod';

/**
 * The shapes of the trigger events our functions receive, as Function Compute 3.0 delivers them
 * (samples in events/). Handlers parse with these and nothing else.
 */

/** OSS trigger: one or more object events. */
export const ossEventSchema = z.object({
  events: z
    .array(
      z.object({
        eventName: z.string(),
        eventSource: z.literal('acs:oss').optional(),
        eventTime: z.string().optional(),
        region: z.string().optional(),
        oss: z.object({
          bucket: z.object({ name: z.string().min(1) }).loose(),
          object: z
            .object({
              key: z.string().min(1),
              eTag: z.string().min(1),
              size: z.number().int().nonnegative(),
            })
            .loose(),
        }).loose(),
      }).loose(),
    )
    .min(1),
});
export type OssEvent = z.infer<typeof ossEventSchema>;

/** HTTP trigger of a built-in runtime (FC 3.0 request struct, version v1). */
export const httpTriggerEventSchema = z.object({
  version: z.literal('v1').optional(),
  rawPath: z.string(),
  body: z.string().optional().default(''),
  isBase64Encoded: z.boolean().optional().default(false),
  headers: z.record(z.string(), z.string()).optional().default({}),
  queryParameters: z.record(z.string(), z.string()).optional().default({}),
  requestContext: z
    .object({
      requestId: z.string().optional(),
      http: z.object({ method: z.string(), path: z.string().optional(), sourceIp: z.string().optional() }).loose(),
    })
    .loose(),
});
export type HttpTriggerEvent = z.infer<typeof httpTriggerEventSchema>;

/** What a built-in runtime's HTTP-triggered handler returns. */
export interface HttpTriggerResponse {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

/** Timer trigger. */
export const timerEventSchema = z.object({
  triggerTime: z.string(),
  triggerName: z.string(),
  payload: z.string().optional().default(''),
});
export type TimerEvent = z.infer<typeof timerEventSchema>;

/** Decodes an FC event (a Buffer, or a string/object when invoked locally) into JSON. */
export function decodeEvent(event: unknown): unknown {
  if (Buffer.isBuffer(event)) return JSON.parse(event.toString('utf8'));
  if (event instanceof Uint8Array) return JSON.parse(Buffer.from(event).toString('utf8'));
  if (typeof event === 'string') return JSON.parse(event);
  return event;
}

/** The part of Function Compute's invocation context our handlers use. */
export interface FcContext {
  requestId: string;
  credentials?: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
  function?: { name: string };
  region?: string;
  accountId?: string;
}

/** A Function Compute handler as the nodejs20 runtime calls it: the event arrives as a Buffer. */
export type FcHandler<R = unknown> = (event: Buffer, context: FcContext) => Promise<R>;

/** A deploy task as it travels through the queue (FC async invocation payload). */
export const deployTaskSchema = z.strictObject({
  runId: z.string().min(1),
  step: z.string().min(1),
  cluster: z.string().min(1),
  attempt: z.number().int().positive(),
  key: z.string().min(1),
});

/** Sent to gtm-reconcile right after a deploy step finished, so traffic follows within seconds. */
export const stepFinishedEventSchema = z.strictObject({
  type: z.literal('step-finished'),
  /** Present when it travelled as an FC async invocation (the queue's idempotency key). */
  key: z.string().optional(),
  app: z.strictObject({ namespace: z.string().min(1), name: z.string().min(1) }),
  step: z.string().min(1),
});
export type StepFinishedEvent = z.infer<typeof stepFinishedEventSchema>;
