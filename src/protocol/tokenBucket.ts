/**
 * A token bucket: `burst` tokens at most, refilled at `perSecond`. Pure: the caller passes the
 * time, so the cores and tests drive it with their own clocks ([D-1]).
 */
export class TokenBucket {
  private tokens: number;
  private atMs: number;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.atMs = nowMs;
  }

  /** Takes `n` tokens if there are that many (after refilling up to `nowMs`); false when over. */
  take(n: number, nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Tokens there now (after refilling). */
  available(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }

  private refill(nowMs: number): void {
    // A clock that steps back refills nothing rather than draining the bucket.
    if (nowMs > this.atMs) {
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.atMs) * this.perSecond) / 1000);
      this.atMs = nowMs;
    }
  }
}
