import { describe, expect, it } from 'vitest';
import { checkRateLimit, DEFAULT_RATE_LIMIT, TokenBucket, type RateLimit } from '#shared/platform/token-bucket.ts';

/** Takes one token at each arrival time (in order) and returns when each request may go. */
function releases(limit: RateLimit, arrivals: number[], start = 0): number[] {
  const bucket = new TokenBucket(limit, start);
  return arrivals.map((at) => at + bucket.take(at));
}

/**
 * The most requests released in any window [a, b], minus what the limit allows there: <= 0 when the
 * limit holds. Waits are whole milliseconds rounded up, so one release of a window may come up to a
 * millisecond late and shorten it: the window is given that millisecond.
 */
function worstExcess(limit: RateLimit, released: number[]): number {
  const sorted = [...released].sort((a, b) => a - b);
  let worst = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const allowed = limit.burst + (limit.qps * ((sorted[j] as number) - (sorted[i] as number) + 1)) / 1000;
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return worst;
}

/** A small deterministic generator: the same "random" arrivals on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

describe('TokenBucket', () => {
  const table: Array<{ name: string; limit: RateLimit; arrivals: number[]; waits: number[] }> = [
    { name: 'a burst goes at once', limit: { qps: 5, burst: 3 }, arrivals: [0, 0, 0], waits: [0, 0, 0] },
    {
      name: 'past the burst, one request per 1/qps, in order',
      limit: { qps: 5, burst: 2 },
      arrivals: [0, 0, 0, 0, 0],
      waits: [0, 0, 200, 400, 600],
    },
    { name: 'tokens come back at qps', limit: { qps: 5, burst: 2 }, arrivals: [0, 0, 200, 400, 400], waits: [0, 0, 0, 0, 200] },
    {
      name: 'a long quiet period refills to the burst, not beyond',
      limit: { qps: 10, burst: 2 },
      arrivals: [0, 0, 60_000, 60_000, 60_000],
      waits: [0, 0, 0, 0, 100],
    },
    { name: 'a fraction of a millisecond is waited in full', limit: { qps: 3, burst: 1 }, arrivals: [0, 0], waits: [0, 334] },
    { name: 'a clock that steps back owes its step', limit: { qps: 10, burst: 1 }, arrivals: [1_000, 900], waits: [0, 200] },
  ];
  for (const { name, limit, arrivals, waits } of table) {
    it(name, () => {
      const bucket = new TokenBucket(limit, arrivals[0] ?? 0);
      expect(arrivals.map((at) => bucket.take(at))).toEqual(waits);
    });
  }

  it('abuse: 500 requests at once never exceed burst + qps * t, and are not held longer than that', () => {
    const limit = { qps: 20, burst: 30 };
    const released = releases(
      limit,
      Array.from({ length: 500 }, () => 0),
    );
    // Measured from the full bucket, exactly: the k-th request goes no earlier than (k - burst) / qps.
    const early = released.filter((at, k) => k + 1 > limit.burst + (limit.qps * at) / 1000 + 1e-9);
    expect(early).toEqual([]);
    expect(worstExcess(limit, released)).toBeLessThanOrEqual(1e-9);
    // Served in order, and the last as soon as the limit allows: (500 - burst) / qps seconds.
    expect(released).toEqual([...released].sort((a, b) => a - b));
    expect(released.at(-1)).toBe(Math.ceil(((500 - limit.burst) / limit.qps) * 1000));
  });

  it('abuse: 500 requests arriving in random clumps never exceed burst + qps * (b - a) in any window [a, b]', () => {
    const random = seeded(15);
    for (const limit of [DEFAULT_RATE_LIMIT, { qps: 5, burst: 10 }, { qps: 0.5, burst: 1 }, { qps: 1000, burst: 50 }]) {
      let at = 0;
      const arrivals = Array.from({ length: 500 }, () => {
        at += random() < 0.8 ? 0 : Math.floor(random() * 3_000);
        return at;
      });
      expect(worstExcess(limit, releases(limit, arrivals)), `${limit.qps}/${limit.burst}`).toBeLessThanOrEqual(1e-9);
    }
  });

  it('refuses limits that would stop or never limit: one clear error naming the field', () => {
    const cases: Array<[RateLimit, RegExp]> = [
      [{ qps: 0, burst: 10 }, /qps must be a positive number, got 0/],
      [{ qps: -1, burst: 10 }, /qps must be a positive number/],
      [{ qps: Number.NaN, burst: 10 }, /qps must be a positive number/],
      [{ qps: Number.POSITIVE_INFINITY, burst: 10 }, /qps must be a positive number/],
      [{ qps: 5, burst: 0 }, /burst must be a whole number of at least 1, got 0/],
      [{ qps: 5, burst: 1.5 }, /burst must be a whole number/],
    ];
    for (const [limit, message] of cases) {
      expect(() => checkRateLimit(limit, 'cluster c1')).toThrow(message);
      expect(() => new TokenBucket(limit, 0)).toThrow(message);
    }
    expect(() => checkRateLimit({ qps: 5, burst: 10 }, 'cluster c1')).not.toThrow();
  });
});
