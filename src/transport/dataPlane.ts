/**
 * The data plane's tuning and its defaults, apart from peerjsTransport.ts so that code without
 * peerjs (the bench's Node side) can read what the transport really uses.
 */
import { LIMITS } from '../protocol/limits.ts';
import { PEER_BUDGETS, type PeerBudgets } from '../protocol/peerBudgets.ts';
import { DEFAULT_CHUNK_BYTES, DEFAULT_INTERLEAVE, type ReassemblyLimits } from './chunker.ts';

/** Tuning of the data plane; the defaults are what `npm run bench` found best on loopback. */
export interface DataPlaneOptions {
  /** Bytes per DataChannel message, header included (Chromium's limit is 256 KiB). */
  readonly chunkBytes: number;
  /** Stop feeding the channel while more than this is buffered in it... */
  readonly highWaterBytes: number;
  /** ...and go on when `bufferedamountlow` says it fell to this. */
  readonly lowWaterBytes: number;
  /** What one connection's receiver accepts. */
  readonly limits: ReassemblyLimits;
  /** Bytes of unfinished messages all connections of one endpoint may hold together. */
  readonly maxBufferedBytesAllPeers: number;
  /** [B-1]…[B-5] What one peer may cost: rates, the pre-hello allowance, expiry, the send queue. */
  readonly budgets: PeerBudgets;
}

export const DEFAULT_DATA_PLANE: DataPlaneOptions = {
  chunkBytes: DEFAULT_CHUNK_BYTES,
  highWaterBytes: 1024 * 1024,
  lowWaterBytes: 256 * 1024,
  limits: {
    maxMessageBytes: LIMITS.maxFrameBytes,
    maxPartialMessages: 2 * DEFAULT_INTERLEAVE,
    maxBufferedBytes: LIMITS.maxFrameBytes,
  },
  maxBufferedBytesAllPeers: LIMITS.maxFrameBytes + 256 * 1024 * 1024,
  budgets: PEER_BUDGETS,
};

/** [B-4] [B-8] How often each endpoint sweeps its connections for stalled messages and due log lines. */
export const SWEEP_MS = 1_000;
