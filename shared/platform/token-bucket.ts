import { TricenterError } from './errors.ts';

/**
 * Client-side rate limits, as client-go's (`rest.Config` QPS and Burst over a token bucket): a
 * client may send `burst` requests at once, then `qps` per second. Pure: the caller passes `now`
 * (epoch ms, from its Clock) and sleeps for the wait it is given.
 */
export interface RateLimit {
  /** Requests per second, sustained. */
  qps: number;
  /** Requests that may go at once after a quiet period (the bucket's size). */
  burst: number;
}

/**
 * 20 requests per second, 30 at once (controller-runtime's defaults; client-go's 5/10 were made
 * for controllers that run forever). A deploy task of the seed sends about 16 requests on its
 * first apply (discovery, reads, a namespace, dry runs, applies) and 4 on an unchanged one: one
 * burst, never delayed. What the limit bounds is a fan-out: 100 clusters' worth of work aimed at
 * one API server by mistake, or one application with hundreds of objects, reaches it at 20 per
 * second per process, well under a kube-apiserver's default 400 requests in flight.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 20, burst: 30 };

export function checkRateLimit(limit: RateLimit, where: string): RateLimit {
  if (!(Number.isFinite(limit.qps) && limit.qps > 0))
    throw new TricenterError('VALIDATION', `${where}: qps must be a positive number, got ${limit.qps}`);
  if (!(Number.isInteger(limit.burst) && limit.burst >= 1))
    throw new TricenterError('VALIDATION', `${where}: burst must be a whole number of at least 1, got ${limit.burst}`);
  return limit;
}

/**
 * A token bucket whose tokens may be taken ahead of time (golang.org/x/time/rate's reservations,
 * which client-go's limiter waits on): a caller that finds the bucket empty takes a token it owes,
 * and is told how long to wait; the next caller waits behind it. Callers are therefore served in
 * order, and however many arrive at once, no more than `burst + qps * t` tokens are usable by `t`
 * milliseconds / 1000 after the bucket was full.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly limit: RateLimit,
    now: number,
  ) {
    checkRateLimit(limit, 'rate limit');
    this.tokens = limit.burst;
    this.at = now;
  }

  /** Takes one token at `now`; returns the milliseconds to wait before using it (0: at once). */
  take(now: number): number {
    // A clock that steps back refills nothing and owes nothing more.
    if (now > this.at) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.at) * this.limit.qps) / 1000);
      this.at = now;
    }
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    // Rounded up: a wait a fraction of a millisecond short would use the token before it exists.
    return Math.ceil((-this.tokens * 1000) / this.limit.qps) + (this.at - now);
  }
}
