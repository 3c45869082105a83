import * as z from 'zod/mini';

/** Timer trigger (sample: events/timer-tick.json). */
export const timerEventSchema = z.object({
  triggerTime: z.string(),
  triggerName: z.string(),
  payload: z._default(z.string(), ''),
});
