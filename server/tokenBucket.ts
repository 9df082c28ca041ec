/**
 * A token bucket: `burst` tokens, refilled at `perSecond`; `take(n)` spends n when there are that
 * many. Time is read from the clock passed in, so the server can be tested with a fake one.
 */
export interface TokenBucket {
  take(n?: number): boolean;
  /** True while the bucket is full, i.e. it can be forgotten without changing any answer. */
  full(): boolean;
}

export function createTokenBucket(burst: number, perSecond: number, now: () => number): TokenBucket {
  let tokens = burst;
  let at = now();
  const refill = (): void => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - at) / 1000) * perSecond);
    at = t;
  };
  return {
    take(n = 1) {
      refill();
      if (tokens < n) return false;
      tokens -= n;
      return true;
    },
    full() {
      refill();
      return tokens >= burst;
    },
  };
}
