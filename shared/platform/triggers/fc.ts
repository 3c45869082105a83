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

/** Decodes an FC event (a Buffer, or a string/object when invoked locally) into JSON. */
export function decodeEvent(event: unknown): unknown {
  if (Buffer.isBuffer(event)) return JSON.parse(event.toString('utf8'));
  if (event instanceof Uint8Array) return JSON.parse(Buffer.from(event).toString('utf8'));
  if (typeof event === 'string') return JSON.parse(event);
  return event;
}
