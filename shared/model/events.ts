// zod/mini: every handler parses its event with these first, so they must load fast (cold starts).
import * as z from 'zod/mini';

/**
 * The shapes of the trigger events our functions receive, as Function Compute 3.0 delivers them
 * (samples in events/). Handlers parse with these and nothing else.
 */

/** OSS trigger: one or more object events. */
export const ossEventSchema = z.object({
  events: z
    .array(
      z.looseObject({
        eventName: z.string(),
        eventSource: z.optional(z.literal('acs:oss')),
        eventTime: z.optional(z.string()),
        region: z.optional(z.string()),
        oss: z.looseObject({
          bucket: z.looseObject({ name: z.string().check(z.minLength(1)) }),
          object: z.looseObject({
            key: z.string().check(z.minLength(1)),
            eTag: z.string().check(z.minLength(1)),
            size: z.int().check(z.nonnegative()),
          }),
        }),
      }),
    )
    .check(z.minLength(1)),
});
export type OssEvent = z.infer<typeof ossEventSchema>;

/** HTTP trigger of a built-in runtime (FC 3.0 request struct, version v1). */
export const httpTriggerEventSchema = z.object({
  version: z.optional(z.literal('v1')),
  rawPath: z.string(),
  body: z._default(z.string(), ''),
  isBase64Encoded: z._default(z.boolean(), false),
  headers: z._default(z.record(z.string(), z.string()), {}),
  queryParameters: z._default(z.record(z.string(), z.string()), {}),
  requestContext: z.looseObject({
    requestId: z.optional(z.string()),
    http: z.looseObject({ method: z.string(), path: z.optional(z.string()), sourceIp: z.optional(z.string()) }),
  }),
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
  payload: z._default(z.string(), ''),
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
