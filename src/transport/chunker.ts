/**
 * Framing for message transports whose messages are small (a DataChannel message should stay at
 * or under 64-256 KiB): the sender cuts every encoded frame into chunks with a small header, the
 * receiver puts them back together. Pure: no DOM, no timers; the transport does the I/O and the
 * backpressure.
 *
 * A message is one or more *parts* (frameCodec.ts: the MessagePack skeleton, then each big binary
 * as a part of its own). No chunk straddles two parts, so the receiver can give every part its own
 * exactly-sized buffer: a 50 MB tensor is copied once out of the chunks and handed on as that
 * buffer, never copied again to cut it out of one big message.
 *
 * Chunk layout (little-endian), CHUNK_HEADER_BYTES = 24:
 *   0  u8   format version (CHUNK_FORMAT_VERSION)
 *   1  u8   flags (0)
 *   2  u16  part index, 0-based
 *   4  u32  message id (per connection and direction; wraps)
 *   8  u32  chunk index within the message, 0-based
 *   12 u32  chunk count of the message (all parts)
 *   16 u32  message length in bytes (all parts)
 *   20 u32  length of this chunk's part in bytes
 *   24 ...  payload
 *
 * The sender interleaves up to `interleave` messages chunk by chunk, and [B-13] a message of one
 * chunk (a ping, a pong, an ack, a lease) goes ahead of every bigger one, in the order such
 * messages came: a control frame never waits behind 50 MB, however many big messages are queued
 * (a volunteer re-sending its whole outbox after a reconnect queues several). The receiver trusts nothing: on a reliable, ordered
 * channel an honest sender's chunks of one message arrive in order, part by part, so anything
 * else — an unknown version, an out-of-order or duplicate chunk, a part that starts before the
 * one before it is complete, lengths that do not add up, more messages in progress or more bytes
 * buffered than its limits allow — drops that message with a reason, and its remaining chunks
 * are discarded quietly.
 */

export const CHUNK_HEADER_BYTES = 24;
export const CHUNK_FORMAT_VERSION = 2;
/** Parts one message may have (the u16 part index allows more; no frame needs them). */
export const MAX_PARTS = 1024;
/** Default size of one chunk on the wire, header included. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** Messages a sender interleaves at most; receivers must accept at least this many in progress. */
export const DEFAULT_INTERLEAVE = 4;

export interface ReassemblyLimits {
  /** Largest message accepted. */
  readonly maxMessageBytes: number;
  /** Messages in progress at once. */
  readonly maxPartialMessages: number;
  /** Bytes of all messages in progress together (each counted at its declared size). */
  readonly maxBufferedBytes: number;
  /**
   * [B-10] Bytes of the shared budget this connection's messages must leave free: a peer that
   * may not submit jobs cannot take the share a requester's submission needs.
   */
  readonly keepSharedFreeBytes?: number;
}

/**
 * Bytes of unfinished messages that several Reassemblers (one per connection) may hold together,
 * so that many hostile peers cannot multiply the per-connection limit.
 */
export class ByteBudget {
  private used = 0;
  constructor(readonly maxBytes: number) {}
  get usedBytes(): number {
    return this.used;
  }
  /** Takes `n` bytes if `keepFree` bytes are still left over afterwards ([B-10]). */
  tryTake(n: number, keepFree = 0): boolean {
    if (this.used + n + keepFree > this.maxBytes) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

export class ChunkError extends Error {
  override readonly name = 'ChunkError';
}

interface Outgoing {
  readonly id: number;
  readonly parts: readonly Uint8Array[];
  readonly total: number;
  readonly count: number;
  /** Chunks taken so far (the next chunk's index). */
  next: number;
  /** The part the next chunk comes from, and where in it. */
  part: number;
  offset: number;
}

/** Chunks in a message of `messageBytes` with `chunkBytes` per chunk (header included). */
export function chunkCount(messageBytes: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(messageBytes / (chunkBytes - CHUNK_HEADER_BYTES)));
}

/** Chunks in a message made of `parts`: each part starts a chunk of its own. */
export function chunkCountOfParts(parts: readonly Uint8Array[], chunkBytes: number): number {
  let n = 0;
  for (const p of parts) n += chunkCount(p.byteLength, chunkBytes);
  return n;
}

/** The sender's side: a queue of messages that yields chunks, interleaving a few messages. */
export class ChunkQueue {
  /** Messages of more than one chunk, interleaved `interleave` at a time. */
  private readonly queue: Outgoing[] = [];
  /** [B-13] Messages of one chunk, first in first out, each sent before any chunk of `queue`. */
  private urgent: Outgoing[] = [];
  /** The next of `urgent` to send: an index rather than `shift()`, which costs O(n) a frame in a flood. */
  private urgentHead = 0;
  private cursor = 0;
  private nextId = 0;
  private queuedBytes = 0;
  private readonly payloadBytes: number;

  constructor(
    readonly chunkBytes: number = DEFAULT_CHUNK_BYTES,
    readonly interleave: number = DEFAULT_INTERLEAVE,
  ) {
    if (!Number.isInteger(chunkBytes) || chunkBytes <= CHUNK_HEADER_BYTES) {
      throw new ChunkError(`chunkBytes must be an integer above ${CHUNK_HEADER_BYTES}, got ${chunkBytes}`);
    }
    if (!Number.isInteger(interleave) || interleave < 1) throw new ChunkError(`interleave must be a positive integer, got ${interleave}`);
    this.payloadBytes = chunkBytes - CHUNK_HEADER_BYTES;
  }

  /**
   * Queues one message, given whole or as its parts (only the first may be empty, and only when it
   * is the only one); its bytes must not change until its last chunk has been taken.
   */
  enqueue(message: Uint8Array | readonly Uint8Array[]): number {
    const parts = message instanceof Uint8Array ? [message] : message;
    if (parts.length === 0 || parts.length > MAX_PARTS) throw new ChunkError(`a message has 1 to ${MAX_PARTS} parts, got ${parts.length}`);
    let total = 0;
    for (const p of parts) {
      if (p.byteLength === 0 && parts.length > 1) throw new ChunkError('only a message of one part may be empty');
      total += p.byteLength;
    }
    if (total > 0xffffffff) throw new ChunkError(`message of ${total} bytes is too long to frame`);
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    const m: Outgoing = { id, parts, total, count: chunkCountOfParts(parts, this.chunkBytes), next: 0, part: 0, offset: 0 };
    (m.count === 1 ? this.urgent : this.queue).push(m);
    this.queuedBytes += total;
    return id;
  }

  /** Payload bytes not yet taken as chunks. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  get pendingMessages(): number {
    return this.queue.length + this.urgent.length - this.urgentHead;
  }

  /**
   * The next chunk to send, or null when nothing is queued: a fresh buffer, or with `scratch` (at
   * least `chunkBytes` long) a view of it, valid until the next call. A transport whose send copies
   * (RTCDataChannel.send does) passes one scratch buffer for every chunk instead of allocating one.
   */
  next(scratch?: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> | null {
    const urgent = this.urgent[this.urgentHead];
    if (urgent === undefined && this.queue.length === 0) return null;
    const width = Math.min(this.interleave, this.queue.length);
    if (this.cursor >= width) this.cursor = 0;
    const m = urgent ?? (this.queue[this.cursor] as Outgoing);
    const part = m.parts[m.part] as Uint8Array;
    const start = m.offset;
    const end = Math.min(start + this.payloadBytes, part.byteLength);
    const size = CHUNK_HEADER_BYTES + (end - start);
    if (scratch && scratch.byteLength < size) throw new ChunkError(`a scratch buffer of ${scratch.byteLength} bytes cannot hold a chunk of ${size}`);
    const chunk = scratch ? scratch.subarray(0, size) : new Uint8Array(size);
    chunk.fill(0, 0, CHUNK_HEADER_BYTES);
    const view = new DataView(chunk.buffer, chunk.byteOffset, CHUNK_HEADER_BYTES);
    view.setUint8(0, CHUNK_FORMAT_VERSION);
    view.setUint16(2, m.part, true);
    view.setUint32(4, m.id, true);
    view.setUint32(8, m.next, true);
    view.setUint32(12, m.count, true);
    view.setUint32(16, m.total, true);
    view.setUint32(20, part.byteLength, true);
    chunk.set(part.subarray(start, end), CHUNK_HEADER_BYTES);
    this.queuedBytes -= end - start;
    m.next++;
    if (end === part.byteLength) {
      m.part++;
      m.offset = 0;
    } else {
      m.offset = end;
    }
    if (urgent !== undefined)
      this.takeUrgent(); // one chunk: it is done, and the interleaving's turn is untouched
    else if (m.next === m.count)
      this.queue.splice(this.cursor, 1); // the cursor now points at the next message
    else this.cursor++;
    return chunk;
  }

  private takeUrgent(): void {
    this.urgentHead++;
    if (this.urgentHead === this.urgent.length) {
      this.urgent = [];
      this.urgentHead = 0;
    } else if (this.urgentHead >= 1024 && this.urgentHead * 2 >= this.urgent.length) {
      this.urgent = this.urgent.slice(this.urgentHead);
      this.urgentHead = 0;
    }
  }

  clear(): void {
    this.queue.length = 0;
    this.urgent = [];
    this.urgentHead = 0;
    this.queuedBytes = 0;
    this.cursor = 0;
  }
}

export type PushResult =
  /**
   * A whole message, as its parts. A message that came in one chunk is a view into that chunk (copy
   * before keeping it past the next push); every part of a longer one is a fresh buffer of exactly
   * its bytes, the receiver's to keep.
   */
  | { readonly kind: 'message'; readonly parts: readonly Uint8Array[] }
  /** Taken in; the message is not complete yet. */
  | { readonly kind: 'partial' }
  /** A later chunk of a message already dropped: discarded without another reason. */
  | { readonly kind: 'discarded' }
  /** The chunk (and its message, if one was in progress) was dropped. */
  | { readonly kind: 'dropped'; readonly reason: string };

interface Partial {
  readonly count: number;
  readonly total: number;
  /**
   * The parts so far, each allocated at its first chunk and filled as chunks arrive: the copy out
   * of each chunk happens while the rest is still on the wire, not in one pass after the last
   * chunk. The message's whole `total` is counted against the limits from its first chunk, and
   * the parts together can never be allocated past it.
   */
  readonly parts: Uint8Array[];
  /** Bytes of all parts allocated so far. */
  allocated: number;
  /** Bytes written into the last part. */
  filled: number;
  /** Chunks taken so far (the index the next chunk must have). */
  chunks: number;
  received: number;
  /** [B-4] When its last chunk came, by the clock `push` was given. */
  lastChunkMs: number;
  /** [B-11] When its first chunk came. */
  readonly startMs: number;
}

interface ChunkHeader {
  readonly part: number;
  readonly id: number;
  readonly index: number;
  readonly count: number;
  readonly total: number;
  readonly partBytes: number;
}

/** Message ids dropped recently, whose further chunks are discarded quietly. */
const REMEMBERED_DROPS = 64;

/** The receiver's side: puts chunks back together into messages, within limits. */
export class Reassembler {
  private readonly partials = new Map<number, Partial>();
  private readonly dropped: number[] = [];
  private buffered = 0;
  private current: ReassemblyLimits;

  constructor(
    limits: ReassemblyLimits,
    /** Shared with the other connections' reassemblers, if given. */
    private readonly shared: ByteBudget | null = null,
  ) {
    this.current = limits;
  }

  get limits(): ReassemblyLimits {
    return this.current;
  }

  /**
   * [B-3] New limits for messages from now on (a peer's `hello` raises them from the pre-hello
   * allowance); messages in progress keep what they reserved.
   */
  setLimits(limits: ReassemblyLimits): void {
    this.current = limits;
  }

  /**
   * [B-4] Drops every message in progress whose last chunk came more than `idleMs` before
   * `nowMs`, releasing its bytes; returns a reason per message dropped. Its later chunks, should
   * they ever come, are discarded quietly.
   */
  expire(nowMs: number, idleMs: number, minBytesPerSecond = 0): string[] {
    const reasons: string[] = [];
    for (const [id, partial] of [...this.partials]) {
      const why = this.stalled(id, partial, nowMs, idleMs, minBytesPerSecond);
      if (why === null) continue;
      const r = this.drop(id, why);
      if (r.kind === 'dropped') reasons.push(r.reason);
    }
    return reasons;
  }

  /**
   * [B-4] A message with no chunk for `idleMs`, or [B-11] one that, past `idleMs` since its first
   * chunk, has come slower than `minBytesPerSecond` on average since then: why it must go, or null.
   */
  private stalled(id: number, partial: Partial, nowMs: number, idleMs: number, minBytesPerSecond: number): string | null {
    const came = `${partial.received} of its ${partial.total} bytes came`;
    if (nowMs - partial.lastChunkMs > idleMs) return `message ${id} had no chunk for ${nowMs - partial.lastChunkMs} ms (${came}): dropped`;
    const owed = (minBytesPerSecond * (nowMs - partial.startMs - idleMs)) / 1000;
    if (minBytesPerSecond > 0 && partial.received < owed) {
      return `message ${id} came at under ${minBytesPerSecond} bytes/s (${came} in ${nowMs - partial.startMs} ms): dropped`;
    }
    return null;
  }

  /** Bytes reserved for messages in progress (each one's declared size, from its first chunk). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  get partialMessages(): number {
    return this.partials.size;
  }

  /** `nowMs`: [B-4] the receiver's clock, for `expire` (tests that never expire may leave it out). */
  push(raw: ArrayBuffer | ArrayBufferView, nowMs = 0): PushResult {
    const chunk = raw instanceof ArrayBuffer ? new Uint8Array(raw) : new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    if (chunk.byteLength < CHUNK_HEADER_BYTES) {
      return { kind: 'dropped', reason: `chunk of ${chunk.byteLength} bytes is shorter than its ${CHUNK_HEADER_BYTES}-byte header` };
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, CHUNK_HEADER_BYTES);
    const version = view.getUint8(0);
    if (version !== CHUNK_FORMAT_VERSION) {
      return { kind: 'dropped', reason: `chunk format v${version}, this tab speaks v${CHUNK_FORMAT_VERSION}: reload both pages from the same server` };
    }
    if (view.getUint8(1) !== 0) return { kind: 'dropped', reason: 'chunk has unknown flags set' };
    const h: ChunkHeader = {
      part: view.getUint16(2, true),
      id: view.getUint32(4, true),
      index: view.getUint32(8, true),
      count: view.getUint32(12, true),
      total: view.getUint32(16, true),
      partBytes: view.getUint32(20, true),
    };
    const { id, index, count, total } = h;
    const payload = chunk.subarray(CHUNK_HEADER_BYTES);

    const partial = this.partials.get(id);
    if (!partial && index > 0) {
      if (this.dropped.includes(id)) return { kind: 'discarded' };
      return this.drop(id, `chunk ${index} of message ${id}, whose first chunk never came`);
    }
    if (partial && index === 0) return this.drop(id, `duplicate first chunk of message ${id}`);

    if (count === 0 || index >= count) return this.drop(id, `chunk ${index} of ${count} in message ${id}`);
    if (total > this.limits.maxMessageBytes) {
      return this.drop(id, `message ${id} of ${total} bytes exceeds the limit of ${this.limits.maxMessageBytes}`);
    }
    // Every chunk carries at least one byte (an empty message is one empty chunk).
    if ((total === 0 && (count !== 1 || payload.byteLength !== 0)) || (total > 0 && (count > total || payload.byteLength === 0))) {
      return this.drop(id, `message ${id}: ${count} chunks cannot carry ${total} bytes`);
    }

    if (!partial) {
      if (h.part !== 0) return this.drop(id, `message ${id} starts with part ${h.part}, not part 0`);
      if (count === 1) {
        if (payload.byteLength !== total || h.partBytes !== total) {
          return this.drop(id, `message ${id} has ${payload.byteLength} bytes, its header says ${total} (part of ${h.partBytes})`);
        }
        return { kind: 'message', parts: [payload] };
      }
      if (h.partBytes === 0 || h.partBytes > total) return this.drop(id, `message ${id} of ${total} bytes cannot have a part of ${h.partBytes}`);
      if (this.partials.size >= this.limits.maxPartialMessages) {
        return this.drop(id, `more than ${this.limits.maxPartialMessages} messages in progress at once`);
      }
      const fresh = this.start(id, count, total, nowMs);
      if (!fresh) return this.drop(id, this.refusal(total));
      return this.append(h, fresh, payload);
    }

    if (count !== partial.count || total !== partial.total) {
      return this.drop(id, `chunk ${index} of message ${id} disagrees with its first chunk about the message's size`);
    }
    const expected = partial.chunks;
    if (index !== expected) {
      const what = index < expected ? 'duplicate' : 'out-of-order';
      return this.drop(id, `${what} chunk ${index} of message ${id} (expected chunk ${expected})`);
    }
    partial.lastChunkMs = nowMs;
    return this.append(h, partial, payload);
  }

  /** Forgets every message in progress (e.g. when the connection closes). */
  clear(): void {
    this.partials.clear();
    this.shared?.give(this.buffered);
    this.buffered = 0;
  }

  /**
   * Reserves a message's declared size against both budgets, or returns null (the caller drops the
   * message with `refusal`). What is reserved bounds everything its parts may allocate, so a
   * hostile first chunk cannot make this tab allocate more than the limits allow.
   */
  private start(id: number, count: number, total: number, nowMs: number): Partial | null {
    if (this.buffered + total > this.limits.maxBufferedBytes) return null;
    if (this.shared && !this.shared.tryTake(total, this.limits.keepSharedFreeBytes ?? 0)) return null;
    this.buffered += total;
    const partial: Partial = { count, total, parts: [], allocated: 0, filled: 0, chunks: 0, received: 0, lastChunkMs: nowMs, startMs: nowMs };
    this.partials.set(id, partial);
    return partial;
  }

  private refusal(total: number): string {
    if (this.buffered + total > this.limits.maxBufferedBytes) {
      return `a message of ${total} bytes would take more than ${this.limits.maxBufferedBytes} bytes of unfinished messages`;
    }
    if (this.shared && this.shared.usedBytes + total > this.shared.maxBytes) {
      return `a message of ${total} bytes would take more than ${this.shared.maxBytes} bytes of unfinished messages on all connections together`;
    }
    const keep = this.limits.keepSharedFreeBytes ?? 0;
    if (this.shared && this.shared.usedBytes + total + keep > this.shared.maxBytes) {
      return `a message of ${total} bytes would leave less than the ${keep} bytes kept free for a requester's submission on all connections together`;
    }
    return `could not allocate a message of ${total} bytes`;
  }

  private append(h: ChunkHeader, partial: Partial, payload: Uint8Array): PushResult {
    const { id } = h;
    const last = partial.parts[partial.parts.length - 1];
    let current: Uint8Array;
    if (last !== undefined && h.part === partial.parts.length - 1) {
      if (h.partBytes !== last.byteLength) return this.drop(id, `chunk ${h.index} of message ${id} disagrees about the length of part ${h.part}`);
      current = last;
    } else {
      // The next part begins: only once the one before it is complete, and only within the message.
      if (h.part !== partial.parts.length)
        return this.drop(id, `chunk ${h.index} of message ${id} is in part ${h.part}, expected part ${partial.parts.length}`);
      if (last !== undefined && partial.filled !== last.byteLength) {
        return this.drop(id, `part ${h.part} of message ${id} began before part ${h.part - 1} was complete`);
      }
      if (h.partBytes === 0 || h.partBytes > partial.total - partial.allocated) {
        return this.drop(id, `message ${id} carries more than the ${partial.total} bytes its header says`);
      }
      try {
        current = new Uint8Array(h.partBytes);
      } catch {
        return this.drop(id, `could not allocate a part of ${h.partBytes} bytes`);
      }
      partial.parts.push(current);
      partial.allocated += h.partBytes;
      partial.filled = 0;
    }
    if (partial.filled + payload.byteLength > current.byteLength) {
      return this.drop(id, `message ${id} carries more than the ${partial.total} bytes its header says`);
    }
    current.set(payload, partial.filled);
    partial.filled += payload.byteLength;
    partial.received += payload.byteLength;
    partial.chunks++;
    if (partial.chunks < partial.count) return { kind: 'partial' };
    this.forget(id, partial);
    if (partial.received !== partial.total) {
      return this.drop(id, `message ${id} ended with ${partial.received} of its ${partial.total} bytes`);
    }
    return { kind: 'message', parts: partial.parts };
  }

  private forget(id: number, partial: Partial): void {
    this.partials.delete(id);
    this.buffered -= partial.total;
    this.shared?.give(partial.total);
  }

  private drop(id: number, reason: string): PushResult {
    const partial = this.partials.get(id);
    if (partial) this.forget(id, partial);
    this.dropped.push(id);
    if (this.dropped.length > REMEMBERED_DROPS) this.dropped.shift();
    return { kind: 'dropped', reason };
  }
}
