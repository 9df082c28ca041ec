/**
 * [B-7] [B-8] One peer's malformed frames, counted rather than logged one by one: 30,000 bad
 * frames once cost 30,000 log entries and as many re-renders, and froze the coordinator's page
 * for a minute and a half. The first bad frame is reported at once (a real bug shows up
 * promptly), later ones in one line per period; past the budget the peer is to be dropped. Pure:
 * the caller passes the time and writes the lines.
 */
import type { PeerBudgets } from './peerBudgets.ts';
import { TokenBucket } from './tokenBucket.ts';

export interface BadFrameVerdict {
  /** A line to log now, or null (counted into a later line). */
  readonly log: string | null;
  /** Why the peer must be dropped now (once), or null. */
  readonly drop: string | null;
}

type TallyBudgets = Pick<PeerBudgets, 'badFramesPerSecond' | 'badFrameBurst' | 'badFrameReportMs'>;

export class BadFrameTally {
  private readonly bucket: TokenBucket;
  /** Bad frames since the last line, and when that line was written (null: none yet). */
  private unreported = 0;
  private reportedAtMs: number | null = null;
  private lastReason = '';
  private dropped = false;
  /** Every bad frame counted, for the drop reason and tests. */
  total = 0;

  constructor(
    private readonly budgets: TallyBudgets,
    nowMs: number,
  ) {
    this.bucket = new TokenBucket(budgets.badFramesPerSecond, budgets.badFrameBurst, nowMs);
  }

  note(reason: string, nowMs: number): BadFrameVerdict {
    if (this.dropped) return { log: null, drop: null };
    this.total++;
    this.unreported++;
    this.lastReason = reason;
    if (!this.bucket.take(1, nowMs)) {
      this.dropped = true;
      this.unreported = 0;
      const { badFrameBurst, badFramesPerSecond } = this.budgets;
      return {
        log: null,
        drop: `over its budget of malformed frames (${badFrameBurst} at once, ${badFramesPerSecond}/s): ${this.total} so far, the last: ${reason}`,
      };
    }
    return { log: this.flush(nowMs), drop: null };
  }

  /** The line for the frames not yet reported, if any and its period has passed; call it on a timer too. */
  flush(nowMs: number): string | null {
    if (this.unreported === 0) return null;
    const since = this.reportedAtMs;
    if (since !== null && nowMs - since < this.budgets.badFrameReportMs) return null;
    const n = this.unreported;
    this.unreported = 0;
    this.reportedAtMs = nowMs;
    if (n === 1) return `dropped a malformed frame: ${this.lastReason}`;
    const seconds = since === null ? '' : ` in the last ${((nowMs - since) / 1000).toFixed(1)} s`;
    return `dropped ${n} malformed frames${seconds} (the last: ${this.lastReason})`;
  }
}
