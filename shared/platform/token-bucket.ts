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
 * 50 requests per second, 100 at once. client-go's 5/10 were made for controllers that run
 * forever; a deploy task is short and bursty: one round on one cluster of the seed (read, dry run
 * and apply 4 objects, poll health, list 8 kinds to prune) is 25 to 40 requests, so it fits in one
 * burst and is never delayed, and rounds that follow each other (a step verified then applied, a
 * new release) are held to 50 per second, which they hardly need (20/30 made one cluster's
 * back-to-back rounds in the fan-out bench wait ~1 s each). What the limit bounds is a stampede: a
 * fan-out or a big application aimed at one API server reaches it at 50 per second per process,
 * far under a kube-apiserver's default 400 requests in flight.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 50, burst: 100 };

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
