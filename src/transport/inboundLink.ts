/**
 * The receiving half of one connection, as every transport that carries bytes runs it: raw
 * chunks through the per-peer budgets ([B-1] [B-2]), the Reassembler (with the pre-hello
 * allowance until the peer is greeted, [B-3], and expiry of stalled messages, [B-4]) and the
 * frame codec, with malformed chunks and frames counted and reported in aggregate ([B-7]
 * [B-8]). Pure: the transport passes its clock, logs the lines and closes the connection when
 * told to drop the peer.
 */
import type { Role } from '../protocol/messages.ts';
import type { PeerBudgets } from '../protocol/peerBudgets.ts';
import { Reassembler, type ByteBudget, type ReassemblyLimits } from './chunker.ts';
import { decodeFrame } from './frameCodec.ts';
import { PeerGuard, type GuardVerdict } from './peerGuard.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

export type Received =
  /** A whole frame, decoded; nothing about it is trusted yet. */
  | { readonly kind: 'frame'; readonly frame: unknown }
  /**
   * [P-8] A chunk of a message not yet whole, taken in: the peer is sending, however long its
   * message takes, so its host counts it as alive.
   */
  | { readonly kind: 'progress' }
  /** Nothing to hand on (a bad chunk counted, or the peer already dropped); `log`, when set, is due now. */
  | { readonly kind: 'none'; readonly log: string | null }
  /** The peer is over a budget: close the connection, logging `reason`. */
  | { readonly kind: 'drop'; readonly reason: string };

const NOTHING: Received = { kind: 'none', log: null };
const PROGRESS: Received = { kind: 'progress' };

export class InboundLink {
  private readonly reassembler: Reassembler;
  private readonly guard: PeerGuard;
  /** Told to drop the peer: until its connection is closed, nothing more comes through. */
  private dropped = false;

  /**
   * @param limits what a greeted peer may have in reassembly (the data plane's limits)
   * @param greeted [B-3] true for a connection this tab opened (its remote is the one it chose
   *   to reach); a connection another peer opened starts with `budgets.preHello` until `greet`.
   */
  constructor(
    private readonly budgets: PeerBudgets,
    private readonly limits: ReassemblyLimits,
    shared: ByteBudget | null,
    greeted: boolean,
    nowMs: number,
  ) {
    this.reassembler = new Reassembler(greeted ? limits : this.allowanceOf(null), shared);
    this.guard = new PeerGuard(budgets, nowMs);
  }

  /**
   * [B-3] [B-9] The peer said hello as `role`: from its next message on, a requester gets the
   * full limits, a volunteer what its results need, an observer almost nothing.
   */
  greet(role: Role): void {
    this.reassembler.setLimits(this.allowanceOf(role));
  }

  /**
   * [B-9] [B-10] What a peer another tab opened may hold in reassembly, by the role it said
   * (null: none yet). Only a requester may take the share of the endpoint's budget that one
   * largest submission needs; every other peer must leave it free.
   */
  private allowanceOf(role: Role | null): ReassemblyLimits {
    if (role === 'requester') return this.limits;
    const allowance = role === 'volunteer' ? this.budgets.volunteer : role === 'observer' ? this.budgets.observer : this.budgets.preHello;
    return {
      maxMessageBytes: Math.min(allowance.maxMessageBytes, this.limits.maxMessageBytes),
      maxPartialMessages: Math.min(allowance.maxPartialMessages, this.limits.maxPartialMessages),
      maxBufferedBytes: Math.min(allowance.maxBufferedBytes, this.limits.maxBufferedBytes),
      keepSharedFreeBytes: this.limits.maxMessageBytes,
    };
  }

  get bufferedBytes(): number {
    return this.reassembler.bufferedBytes;
  }

  get partialMessages(): number {
    return this.reassembler.partialMessages;
  }

  receive(raw: unknown, nowMs: number): Received {
    if (this.dropped) return NOTHING;
    const r = this.take(raw, nowMs);
    if (r.kind === 'drop') this.drop();
    return r;
  }

  private take(raw: unknown, nowMs: number): Received {
    if (!(raw instanceof ArrayBuffer) && !ArrayBuffer.isView(raw)) return this.bad(`expected binary chunks, got ${typeof raw}`, nowMs);
    const size = this.guard.chunk(raw.byteLength, nowMs);
    if (size.drop !== null) return { kind: 'drop', reason: size.drop };
    const r = this.reassembler.push(raw, nowMs);
    if (r.kind === 'dropped') return this.bad(r.reason, nowMs);
    if (r.kind === 'partial') return PROGRESS;
    if (r.kind !== 'message') return NOTHING;
    const rate = this.guard.frame(nowMs);
    if (rate.drop !== null) return { kind: 'drop', reason: rate.drop };
    try {
      return { kind: 'frame', frame: decodeFrame(r.parts) };
    } catch (e) {
      return this.bad(errorMessage(e), nowMs);
    }
  }

  /**
   * [B-4] [B-11] [B-8] On a timer: stalled and trickling messages are dropped (and counted as bad frames), and a line
   * is due for bad frames counted since the last one.
   */
  sweep(nowMs: number): GuardVerdict {
    if (this.dropped) return { log: null, drop: null };
    let log: string | null = null;
    for (const reason of this.reassembler.expire(nowMs, this.budgets.messageIdleMs, this.budgets.minMessageBytesPerSecond)) {
      const v = this.guard.bad(reason, nowMs);
      if (v.drop !== null) {
        this.drop();
        return v;
      }
      log ??= v.log;
    }
    return { log: log ?? this.guard.flush(nowMs), drop: null };
  }

  /** Forgets every message in progress, releasing its bytes (the connection closed). */
  clear(): void {
    this.reassembler.clear();
  }

  private drop(): void {
    this.dropped = true;
    this.reassembler.clear();
  }

  private bad(reason: string, nowMs: number): Received {
    const v = this.guard.bad(reason, nowMs);
    if (v.drop !== null) return { kind: 'drop', reason: v.drop };
    return v.log === null ? NOTHING : { kind: 'none', log: v.log };
  }
}
