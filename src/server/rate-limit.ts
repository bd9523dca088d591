/** Token buckets by key (an employee, an address): a steady rate with a burst on top. */

export interface RateLimit {
  /** Requests per second, refilled continuously. */
  perSecond: number;
  /** How many may come at once. */
  burst: number;
}

/** One token taken, or how many seconds until there is one. */
export type RateLimitResult = { ok: true } | { ok: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes one token for `key`; when none is left, says how many seconds until there is one. */
  take(key: string): RateLimitResult;
  /** Returns a token taken for a request that was then refused for another reason. */
  giveBack(key: string): void;
}

const MAX_KEYS = 100_000;

/** A limiter that refills `limit` continuously by the clock `now` (ms). */
export function createRateLimiter(limit: RateLimit, now: () => number): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      let bucket = buckets.get(key);
      if (!bucket) {
        // Bound the memory: forget the oldest keys (full buckets by now) when there are too many.
        if (buckets.size >= MAX_KEYS) {
          for (const k of [...buckets.keys()].slice(0, MAX_KEYS / 10)) buckets.delete(k);
        }
        bucket = { tokens: limit.burst, at: t };
        buckets.set(key, bucket);
      }
      bucket.tokens = Math.min(
        limit.burst,
        bucket.tokens + ((t - bucket.at) / 1000) * limit.perSecond,
      );
      bucket.at = t;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.ceil((1 - bucket.tokens) / limit.perSecond) };
    },
    giveBack(key) {
      const bucket = buckets.get(key);
      if (bucket) bucket.tokens = Math.min(limit.burst, bucket.tokens + 1);
    },
  };
}
