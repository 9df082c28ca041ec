/**
 * [B-1] [B-2] [B-7] [B-8] What one connection may send this tab, per peer: frames per second,
 * bytes per second and malformed frames, each a token bucket from PEER_BUDGETS. Pure (the
 * transport passes its clock): it says when a line is due and when the peer must be dropped;
 * the transport logs and closes.
 */
import { BadFrameTally } from '../protocol/badFrameTally.ts';
import type { PeerBudgets } from '../protocol/peerBudgets.ts';
import { TokenBucket } from '../protocol/tokenBucket.ts';

export interface GuardVerdict {
  /** A line to log now, or null. */
  readonly log: string | null;
  /** Why the peer must be dropped now, or null. */
  readonly drop: string | null;
}

const FINE: GuardVerdict = { log: null, drop: null };

export class PeerGuard {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private readonly tally: BadFrameTally;
  private dropped = false;

  constructor(
    private readonly budgets: PeerBudgets,
    nowMs: number,
  ) {
    this.frames = new TokenBucket(budgets.framesPerSecond, budgets.frameBurst, nowMs);
    this.bytes = new TokenBucket(budgets.bytesPerSecond, budgets.byteBurst, nowMs);
    this.tally = new BadFrameTally(budgets, nowMs);
  }

  /** [B-2] Every raw chunk, before anything else is done with it. */
  chunk(byteLength: number, nowMs: number): GuardVerdict {
    if (this.dropped) return FINE;
    if (this.bytes.take(byteLength, nowMs)) return FINE;
    return this.drop(`over its budget of ${this.budgets.bytesPerSecond} bytes/s (a burst of ${this.budgets.byteBurst})`);
  }

  /** [B-1] A whole message received. */
  frame(nowMs: number): GuardVerdict {
    if (this.dropped) return FINE;
    if (this.frames.take(1, nowMs)) return FINE;
    return this.drop(`over its budget of ${this.budgets.framesPerSecond} frames/s (a burst of ${this.budgets.frameBurst})`);
  }

  /** [B-1] [B-7] [B-8] A chunk or frame dropped as malformed: it counts as a frame, and as a bad one. */
  bad(reason: string, nowMs: number): GuardVerdict {
    if (this.dropped) return FINE;
    const rate = this.frame(nowMs);
    if (rate.drop !== null) return rate;
    const v = this.tally.note(reason, nowMs);
    if (v.drop !== null) return this.drop(v.drop);
    return v;
  }

  /** [B-8] The line for bad frames counted but not yet logged, once its period has passed. */
  flush(nowMs: number): string | null {
    return this.dropped ? null : this.tally.flush(nowMs);
  }

  private drop(reason: string): GuardVerdict {
    this.dropped = true;
    return { log: null, drop: reason };
  }
}

/**
 * [B-5] Why queuing a frame of `frameBytes` to a peer that has `pendingBytes` in `pendingFrames`
 * frames still queued would overflow its send queue, or null. One frame is always taken when
 * nothing waits: any frame the protocol allows can be sent to a peer that reads.
 */
export function sendQueueOverflow(pendingBytes: number, pendingFrames: number, frameBytes: number, budgets: PeerBudgets): string | null {
  if (pendingFrames === 0) return null;
  if (pendingFrames + 1 > budgets.maxSendQueueFrames) {
    return `it is not reading: ${pendingFrames} frames are already queued to it (the limit is ${budgets.maxSendQueueFrames})`;
  }
  if (pendingBytes + frameBytes > budgets.maxSendQueueBytes) {
    return `it is not reading: ${pendingBytes} bytes are already queued to it, and ${frameBytes} more would pass the limit of ${budgets.maxSendQueueBytes}`;
  }
  return null;
}
