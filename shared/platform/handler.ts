import type * as z from 'zod/mini';
import type { Logger } from './log.ts';
import { decodeEvent, type FcContext, type FcHandler } from './triggers/fc.ts';

/**
 * The one wrapper every function's handler is: decode the event Buffer, parse it with the
 * trigger's schema, give the use case a logger carrying `fn` and `requestId`, and let errors leave
 * in one place. After Powertools' parser + logger middlewares, without the middleware engine.
 */
interface Invocation<D> {
  deps: D;
  /** The deps' logger with `fn` and `requestId` (add `runId` once known). */
  log: Logger;
  context: FcContext;
}

export interface HandlerSpec<S extends z.ZodMiniType, D extends { logger: Logger }, R> {
  fn: string;
  /** The trigger's event schema (shared/platform/triggers). */
  trigger: S;
  /** The function's adapters, given the invocation (its STS keys); built once per instance by the composition, cheap to ask for again. */
  deps: (context: FcContext) => Promise<D>;
  handle: (event: z.output<S>, invocation: Invocation<D>) => Promise<R>;
  /**
   * How an error leaves. Default: thrown, so the invocation fails and FC retries it
   * (async invocations, OSS, timers). The HTTP trigger answers with a status instead.
   */
  onError?: (err: unknown, log: Logger) => R;
}

export function fcHandler<S extends z.ZodMiniType, D extends { logger: Logger }, R>(spec: HandlerSpec<S, D, R>): FcHandler<R> {
  return async (event, context) => {
    const deps = await spec.deps(context);
    const log = deps.logger.child({ fn: spec.fn, requestId: context.requestId });
    try {
      const parsed = spec.trigger.parse(decodeEvent(event)) as z.output<S>;
      return await spec.handle(parsed, { deps, log, context });
    } catch (err) {
      if (spec.onError) return spec.onError(err, log);
      throw err;
    }
  };
}
