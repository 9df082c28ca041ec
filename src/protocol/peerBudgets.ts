/**
 * [B-1]…[B-8] What one peer may cost this tab, in one place (core/SPEC.md explains each rule).
 * A peer over any of them is dropped with a logged reason; the numbers are far above what an
 * honest peer does, so honest peers never notice (each line says what honest traffic needs).
 */
import { LIMITS } from './limits.ts';

const MiB = 1024 * 1024;

/** [B-1]…[B-8] Per-peer budgets; PEER_BUDGETS holds the defaults (tests pass smaller ones). */
export interface PeerBudgets {
  readonly framesPerSecond: number;
  readonly frameBurst: number;
  readonly bytesPerSecond: number;
  readonly byteBurst: number;
  readonly preHello: { readonly maxMessageBytes: number; readonly maxPartialMessages: number; readonly maxBufferedBytes: number };
  readonly messageIdleMs: number;
  readonly maxSendQueueBytes: number;
  readonly maxSendQueueFrames: number;
  readonly helloTimeoutMs: number;
  readonly badFramesPerSecond: number;
  readonly badFrameBurst: number;
  readonly badFrameReportMs: number;
}

export const PEER_BUDGETS: PeerBudgets = {
  /**
   * [B-1] Frames (whole messages, and chunks dropped as malformed) per second, as a token bucket.
   * Honest peers send a few per second; the largest honest burst is a 256 MiB model's 1,024
   * `model-chunk` frames, which the burst covers.
   */
  framesPerSecond: 500,
  frameBurst: 2_000,
  /**
   * [B-2] Raw bytes per second, as a token bucket. The burst lets one largest frame (a submission
   * with the largest model and inputs) arrive at any speed; the rate is above what a DataChannel
   * carries on loopback.
   */
  bytesPerSecond: 256 * MiB,
  byteBurst: LIMITS.maxFrameBytes,
  /**
   * [B-3] Reassembly before `hello`: a hello is a few hundred bytes, so a peer that has not said
   * it gets 1 MiB of unfinished messages, one message at a time; after hello it gets the data
   * plane's full limits (dataPlane.ts).
   */
  preHello: { maxMessageBytes: 1 * MiB, maxPartialMessages: 2, maxBufferedBytes: 1 * MiB },
  /**
   * [B-4] A message in progress with no new chunk for this long is dropped and its bytes
   * released. An honest sender feeds every message it has started without pause (it interleaves
   * at most four), so a gap this long means it never will.
   */
  messageIdleMs: 20_000,
  /**
   * [B-5] Bytes and frames queued to one peer and not yet taken by its channel. One frame of any
   * size up to LIMITS.maxFrameBytes is always queued when nothing is waiting; past these, the
   * peer is not reading and is dropped rather than growing this tab's memory.
   */
  maxSendQueueBytes: LIMITS.maxFrameBytes,
  maxSendQueueFrames: 8_192,
  /** [B-6] A peer that has not said `hello` this long after connecting is closed. */
  helloTimeoutMs: 5_000,
  /**
   * [B-7] Malformed frames (bad chunks, undecodable or unparseable frames) per peer, as a token
   * bucket: an honest peer sends none, so a small burst and rate leave room only for a bug.
   */
  badFramesPerSecond: 5,
  badFrameBurst: 50,
  /** [B-8] Bad frames are logged in aggregate: at most one line per peer per this period. */
  badFrameReportMs: 1_000,
};
