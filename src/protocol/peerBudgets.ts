/**
 * [B-1]…[B-11] What one peer may cost this tab, in one place (core/SPEC.md explains each rule).
 * A peer over any of them is dropped with a logged reason; the numbers are far above what an
 * honest peer does, so honest peers never notice (each line says what honest traffic needs).
 */
import { LIMITS } from './limits.ts';

const MiB = 1024 * 1024;

/** What one connection may have in reassembly: unfinished messages, each counted at its declared size. */
export interface ReassemblyAllowance {
  readonly maxMessageBytes: number;
  readonly maxPartialMessages: number;
  readonly maxBufferedBytes: number;
}

/**
 * [B-9] The most output bytes a shard's result should hold: core/shardOutputBudget.ts's
 * SHARD_OUTPUT_BUDGET_BYTES (32 MiB), repeated here because the protocol layer cannot import
 * the core (a test checks that the two agree).
 */
export const RESULT_OUTPUT_BYTES = 32 * MiB;

/** [B-1]…[B-11] Per-peer budgets; PEER_BUDGETS holds the defaults (tests pass smaller ones). */
export interface PeerBudgets {
  readonly framesPerSecond: number;
  readonly frameBurst: number;
  readonly bytesPerSecond: number;
  readonly byteBurst: number;
  readonly preHello: ReassemblyAllowance;
  readonly volunteer: ReassemblyAllowance;
  readonly observer: ReassemblyAllowance;
  readonly messageIdleMs: number;
  readonly minMessageBytesPerSecond: number;
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
   * [B-9] Reassembly of a greeted volunteer: it sends results (and frames of a few hundred
   * bytes). A result holds at most a shard's output budget (RESULT_OUTPUT_BYTES; [J-5] keeps
   * admitted jobs within it), so one message may be twice that (answers, names and framing fit
   * many times over), and two may be in progress at once (the one it ran and the one queued
   * behind it, [W-18]). Anything bigger is no result: dropped at its first chunk.
   */
  volunteer: { maxMessageBytes: 2 * RESULT_OUTPUT_BYTES, maxPartialMessages: 8, maxBufferedBytes: 4 * RESULT_OUTPUT_BYTES },
  /** [B-9] Reassembly of a greeted observer: it sends nothing but hello and ping ([O-1]), a few hundred bytes each. */
  observer: { maxMessageBytes: 64 * 1024, maxPartialMessages: 1, maxBufferedBytes: 64 * 1024 },
  /**
   * [B-4] A message in progress with no new chunk for this long is dropped and its bytes
   * released. An honest sender feeds every message it has started without pause (it interleaves
   * at most four), so a gap this long means it never will.
   */
  messageIdleMs: 20_000,
  /**
   * [B-11] A message in progress for longer than `messageIdleMs` must have come at this average
   * rate since (bytes received ≥ rate × (time since its first chunk − messageIdleMs)), or it is
   * dropped: a peer that trickles a byte now and then into a huge declared message holds its
   * reservation for seconds, not for ever. Honest senders are far above it (a DataChannel
   * carries 20-38 MB/s on loopback; 8 tabs uploading to one page at once got 0.5 MB/s each).
   */
  minMessageBytesPerSecond: 256 * 1024,
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
