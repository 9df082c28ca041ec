import { describe, expect, it } from 'vitest';
import { caps, countingBytes, f32, policy } from '../core/testing/fixtures.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { parseFromCoordinator, parseToCoordinator } from '../protocol/parse.ts';
import {
  ByteBudget,
  CHUNK_FORMAT_VERSION,
  CHUNK_HEADER_BYTES,
  ChunkError,
  ChunkQueue,
  chunkCount,
  Reassembler,
  type PushResult,
  type ReassemblyLimits,
} from './chunker.ts';
import { decodeFrame, encodeFrame } from './frameCodec.ts';

const LIMITS: ReassemblyLimits = { maxMessageBytes: 1_000_000, maxPartialMessages: 4, maxBufferedBytes: 2_000_000 };

function message(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) % 251;
  return b;
}

function drain(q: ChunkQueue): Uint8Array<ArrayBuffer>[] {
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (let c = q.next(); c; c = q.next()) out.push(c);
  return out;
}

/** A message's parts joined back into one (a copy). */
function joined(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function messagesOf(results: readonly PushResult[]): Uint8Array[] {
  return results.flatMap((r) => (r.kind === 'message' ? [joined(r.parts)] : []));
}

/** A hand-made chunk, for what an honest ChunkQueue never sends (one part of `total` unless told). */
function chunk(
  h: { id: number; index: number; count: number; total: number; part?: number; partBytes?: number; version?: number; flags?: number },
  payload: Uint8Array,
): Uint8Array {
  const c = new Uint8Array(CHUNK_HEADER_BYTES + payload.byteLength);
  const v = new DataView(c.buffer);
  v.setUint8(0, h.version ?? CHUNK_FORMAT_VERSION);
  v.setUint8(1, h.flags ?? 0);
  v.setUint16(2, h.part ?? 0, true);
  v.setUint32(4, h.id, true);
  v.setUint32(8, h.index, true);
  v.setUint32(12, h.count, true);
  v.setUint32(16, h.total, true);
  v.setUint32(20, h.partBytes ?? h.total, true);
  c.set(payload, CHUNK_HEADER_BYTES);
  return c;
}

const reason = (r: PushResult): string => (r.kind === 'dropped' ? r.reason : `(${r.kind})`);

describe('ChunkQueue + Reassembler', () => {
  it('round-trips messages of every awkward size', () => {
    const chunkBytes = 64 + CHUNK_HEADER_BYTES; // 64 payload bytes per chunk
    for (const n of [0, 1, 63, 64, 65, 128, 1000, 4096 + 3]) {
      const q = new ChunkQueue(chunkBytes);
      const m = message(n, n);
      q.enqueue(m);
      const chunks = drain(q);
      expect(chunks).toHaveLength(chunkCount(n, chunkBytes));
      for (const c of chunks) expect(c.byteLength).toBeLessThanOrEqual(chunkBytes);
      const r = new Reassembler(LIMITS);
      const out = messagesOf(chunks.map((c) => r.push(c.buffer)));
      expect(out).toEqual([m]);
      expect(r.bufferedBytes).toBe(0);
      expect(r.partialMessages).toBe(0);
    }
  });

  it('interleaves a few messages so a small one overtakes a big one', () => {
    const q = new ChunkQueue(16 + CHUNK_HEADER_BYTES, 2);
    const big = message(16 * 10, 1);
    const small = message(5, 2);
    q.enqueue(big);
    q.enqueue(small);
    const r = new Reassembler(LIMITS);
    const results = drain(q).map((c) => r.push(c));
    const order = results.flatMap((x, i) => (x.kind === 'message' ? [i] : []));
    expect(order).toEqual([0, 10]); // [B-13] the small message goes at once, the big one last
    expect(messagesOf(results)).toEqual([small, big]);
  });

  it('[B-13] a one-chunk message goes ahead of every bigger one queued, however many, in the order one-chunk messages came', () => {
    const q = new ChunkQueue(16 + CHUNK_HEADER_BYTES, 2);
    const bigs = [0, 1, 2, 3, 4].map((i) => message(16 * 8, 10 + i));
    for (const b of bigs) q.enqueue(b);
    const r = new Reassembler({ ...LIMITS, maxPartialMessages: 8 });
    const first = r.push(q.next() as Uint8Array); // the first big message has begun
    expect(first.kind).toBe('partial');
    const ping = message(3, 7);
    const pong = message(16, 8); // exactly one chunk's payload
    q.enqueue(ping);
    q.enqueue(pong);
    const results = [first, ...drain(q).map((c) => r.push(c))];
    expect(results[1]).toEqual({ kind: 'message', parts: [ping] });
    expect(results[2]).toEqual({ kind: 'message', parts: [pong] });
    // The big ones still come whole, interleaved two at a time as before.
    expect(messagesOf(results)).toEqual([ping, pong, bigs[0], bigs[1], bigs[2], bigs[3], bigs[4]]);
    expect(q.pendingBytes).toBe(0);
  });

  it('never interleaves more messages than its window, and counts pending bytes', () => {
    const q = new ChunkQueue(10 + CHUNK_HEADER_BYTES, 3);
    for (let i = 0; i < 6; i++) q.enqueue(message(50, i));
    expect(q.pendingBytes).toBe(300);
    expect(q.pendingMessages).toBe(6);
    const ids = new Set<number>();
    let maxOpen = 0;
    const open = new Set<number>();
    for (let c = q.next(); c; c = q.next()) {
      const v = new DataView(c.buffer);
      const id = v.getUint32(4, true);
      const index = v.getUint32(8, true);
      const count = v.getUint32(12, true);
      ids.add(id);
      open.add(id);
      maxOpen = Math.max(maxOpen, open.size);
      if (index === count - 1) open.delete(id);
    }
    expect(ids.size).toBe(6);
    expect(maxOpen).toBe(3);
    expect(q.pendingBytes).toBe(0);
  });

  it('accepts chunks as ArrayBuffers or as views at an offset', () => {
    const q = new ChunkQueue(32 + CHUNK_HEADER_BYTES);
    const m = message(100);
    q.enqueue(m);
    const r = new Reassembler(LIMITS);
    const results = drain(q).map((c) => {
      const padded = new Uint8Array(c.byteLength + 8);
      padded.set(c, 5);
      return r.push(padded.subarray(5, 5 + c.byteLength));
    });
    expect(messagesOf(results)).toEqual([m]);
  });

  it('refuses bad settings', () => {
    expect(() => new ChunkQueue(CHUNK_HEADER_BYTES)).toThrow(ChunkError);
    expect(() => new ChunkQueue(100, 0)).toThrow(ChunkError);
    expect(() => new ChunkQueue().enqueue([])).toThrow(ChunkError);
    expect(() => new ChunkQueue().enqueue([message(3), new Uint8Array(0)])).toThrow(/only a message of one part may be empty/);
  });

  it("builds chunks in a caller's scratch buffer when given one, byte for byte as fresh ones", () => {
    const chunkBytes = 16 + CHUNK_HEADER_BYTES;
    const fresh = new ChunkQueue(chunkBytes);
    const reused = new ChunkQueue(chunkBytes);
    const scratch = new Uint8Array(chunkBytes).fill(0xee); // stale bytes must never leak into a chunk
    for (const q of [fresh, reused]) q.enqueue([message(20, 1), message(7, 2)]);
    const a = drain(fresh).map((c) => [...c]);
    const b: number[][] = [];
    for (let c = reused.next(scratch); c; c = reused.next(scratch)) {
      expect(c.buffer).toBe(scratch.buffer);
      b.push([...c]);
    }
    expect(b).toEqual(a);
    expect(() => new ChunkQueue(chunkBytes).next(new Uint8Array(4))).not.toThrow(); // nothing queued
    const q = new ChunkQueue(chunkBytes);
    q.enqueue(message(20));
    expect(() => q.next(new Uint8Array(chunkBytes - 1))).toThrow(/cannot hold a chunk/);
  });

  it('sends a message of parts with no chunk straddling two, and hands each part over in a buffer of its own', () => {
    const chunkBytes = 16 + CHUNK_HEADER_BYTES;
    const parts = [message(5, 1), message(16, 2), message(33, 3), message(1, 4)];
    const q = new ChunkQueue(chunkBytes, 2);
    q.enqueue(parts);
    q.enqueue(message(40, 9)); // interleaved with it
    const chunks = drain(q);
    // 5 -> 1 chunk, 16 -> 1, 33 -> 3, 1 -> 1; plus 3 for the other message.
    expect(chunks).toHaveLength(6 + 3);
    const r = new Reassembler(LIMITS);
    const done = chunks.flatMap((c) => {
      const res = r.push(c);
      return res.kind === 'message' ? [res.parts] : [];
    });
    expect(done).toHaveLength(2);
    const multi = done.find((d) => d.length === 4) as readonly Uint8Array[];
    expect(multi.map((p) => [...p])).toEqual(parts.map((p) => [...p]));
    for (const p of multi) {
      // Owned: the part is its buffer, so the protocol can take it as an ArrayBuffer without a copy.
      expect(p.byteOffset).toBe(0);
      expect(p.byteLength).toBe(p.buffer.byteLength);
    }
    expect(r.bufferedBytes).toBe(0);
  });
});

describe('Reassembler refuses what an honest sender never sends', () => {
  const p = (n: number): Uint8Array => message(n);

  it('drops chunks shorter than a header, of another version, or with unknown flags', () => {
    const r = new Reassembler(LIMITS);
    expect(reason(r.push(new Uint8Array(5)))).toMatch(/shorter than its 24-byte header/);
    expect(reason(r.push(chunk({ id: 1, index: 0, count: 1, total: 1, version: 9 }, p(1))))).toMatch(/format v9.*reload/);
    expect(reason(r.push(chunk({ id: 1, index: 0, count: 1, total: 1, flags: 1 }, p(1))))).toMatch(/flags/);
  });

  it('drops out-of-order chunks and the message they belong to', () => {
    const r = new Reassembler(LIMITS);
    expect(r.push(chunk({ id: 3, index: 0, count: 3, total: 30 }, p(10))).kind).toBe('partial');
    expect(reason(r.push(chunk({ id: 3, index: 2, count: 3, total: 30 }, p(10))))).toMatch(/out-of-order chunk 2 of message 3 \(expected chunk 1\)/);
    expect(r.partialMessages).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    // The rest of a dropped message is discarded without another reason.
    expect(r.push(chunk({ id: 3, index: 1, count: 3, total: 30 }, p(10))).kind).toBe('discarded');
  });

  it('drops duplicate chunks', () => {
    const r = new Reassembler(LIMITS);
    r.push(chunk({ id: 4, index: 0, count: 3, total: 30 }, p(10)));
    r.push(chunk({ id: 4, index: 1, count: 3, total: 30 }, p(10)));
    expect(reason(r.push(chunk({ id: 4, index: 1, count: 3, total: 30 }, p(10))))).toMatch(/duplicate chunk 1/);
    r.push(chunk({ id: 5, index: 0, count: 2, total: 20 }, p(10)));
    expect(reason(r.push(chunk({ id: 5, index: 0, count: 2, total: 20 }, p(10))))).toMatch(/duplicate first chunk/);
  });

  it('drops a chunk of a message whose first chunk never came', () => {
    const r = new Reassembler(LIMITS);
    expect(reason(r.push(chunk({ id: 8, index: 1, count: 2, total: 20 }, p(10))))).toMatch(/first chunk never came/);
  });

  it('drops headers that do not add up', () => {
    const r = new Reassembler(LIMITS);
    expect(reason(r.push(chunk({ id: 1, index: 0, count: 0, total: 0 }, p(0))))).toMatch(/chunk 0 of 0/);
    expect(reason(r.push(chunk({ id: 2, index: 5, count: 5, total: 50 }, p(10))))).toMatch(/first chunk never came|chunk 5 of 5/);
    expect(reason(r.push(chunk({ id: 3, index: 0, count: 10, total: 5 }, p(1))))).toMatch(/cannot carry/);
    expect(reason(r.push(chunk({ id: 4, index: 0, count: 1, total: 10 }, p(9))))).toMatch(/has 9 bytes, its header says 10/);
    expect(reason(r.push(chunk({ id: 5, index: 0, count: 2, total: 10 }, p(0))))).toMatch(/cannot carry/);
    // A later chunk that changes the message's size, or carries too much.
    r.push(chunk({ id: 6, index: 0, count: 2, total: 20 }, p(10)));
    expect(reason(r.push(chunk({ id: 6, index: 1, count: 2, total: 30 }, p(10))))).toMatch(/disagrees/);
    r.push(chunk({ id: 7, index: 0, count: 2, total: 20 }, p(10)));
    expect(reason(r.push(chunk({ id: 7, index: 1, count: 2, total: 20 }, p(11))))).toMatch(/more than the 20 bytes/);
    r.push(chunk({ id: 9, index: 0, count: 2, total: 20 }, p(5)));
    expect(reason(r.push(chunk({ id: 9, index: 1, count: 2, total: 20 }, p(5))))).toMatch(/ended with 10 of its 20 bytes/);
    expect(r.bufferedBytes).toBe(0);
    expect(r.partialMessages).toBe(0);
  });

  it('drops parts that do not follow one another', () => {
    const r = new Reassembler(LIMITS);
    // The first chunk must open part 0, and a part cannot be empty or larger than the message.
    expect(reason(r.push(chunk({ id: 1, index: 0, count: 3, total: 30, part: 1, partBytes: 10 }, p(10))))).toMatch(/starts with part 1/);
    expect(reason(r.push(chunk({ id: 2, index: 0, count: 3, total: 30, partBytes: 0 }, p(10))))).toMatch(/cannot have a part of 0/);
    expect(reason(r.push(chunk({ id: 3, index: 0, count: 3, total: 30, partBytes: 31 }, p(10))))).toMatch(/cannot have a part of 31/);
    // Part 1 may not begin before part 0 is complete, nor may a part be skipped.
    r.push(chunk({ id: 4, index: 0, count: 3, total: 30, partBytes: 20 }, p(10)));
    expect(reason(r.push(chunk({ id: 4, index: 1, count: 3, total: 30, part: 1, partBytes: 10 }, p(10))))).toMatch(/began before part 0 was complete/);
    r.push(chunk({ id: 5, index: 0, count: 3, total: 30, partBytes: 10 }, p(10)));
    expect(reason(r.push(chunk({ id: 5, index: 1, count: 3, total: 30, part: 2, partBytes: 10 }, p(10))))).toMatch(/in part 2, expected part 1/);
    // A chunk that changes its part's length, a part past the message's end, a chunk past its part's end.
    r.push(chunk({ id: 6, index: 0, count: 3, total: 30, partBytes: 20 }, p(10)));
    expect(reason(r.push(chunk({ id: 6, index: 1, count: 3, total: 30, partBytes: 25 }, p(10))))).toMatch(/disagrees about the length of part 0/);
    r.push(chunk({ id: 7, index: 0, count: 3, total: 30, partBytes: 20 }, p(20)));
    expect(reason(r.push(chunk({ id: 7, index: 1, count: 3, total: 30, part: 1, partBytes: 11 }, p(5))))).toMatch(/more than the 30 bytes/);
    r.push(chunk({ id: 8, index: 0, count: 3, total: 30, partBytes: 20 }, p(15)));
    expect(reason(r.push(chunk({ id: 8, index: 1, count: 3, total: 30, partBytes: 20 }, p(6))))).toMatch(/more than the 30 bytes/);
    expect(r.bufferedBytes).toBe(0);
    expect(r.partialMessages).toBe(0);
    // An honest two-part message still goes through.
    r.push(chunk({ id: 9, index: 0, count: 2, total: 30, partBytes: 20 }, p(20)));
    const res = r.push(chunk({ id: 9, index: 1, count: 2, total: 30, part: 1, partBytes: 10 }, p(10)));
    expect(res.kind === 'message' ? res.parts.map((x) => x.byteLength) : reason(res)).toEqual([20, 10]);
  });

  it('drops messages larger than the limit before buffering anything', () => {
    const r = new Reassembler({ ...LIMITS, maxMessageBytes: 100 });
    expect(reason(r.push(chunk({ id: 1, index: 0, count: 2, total: 101 }, p(60))))).toMatch(/101 bytes exceeds the limit of 100/);
    expect(r.bufferedBytes).toBe(0);
  });

  it('bounds the messages in progress and the bytes they hold', () => {
    const r = new Reassembler({ maxMessageBytes: 1000, maxPartialMessages: 2, maxBufferedBytes: 150 });
    expect(r.push(chunk({ id: 1, index: 0, count: 10, total: 100 }, p(10))).kind).toBe('partial');
    expect(r.push(chunk({ id: 2, index: 0, count: 10, total: 40 }, p(4))).kind).toBe('partial');
    expect(reason(r.push(chunk({ id: 3, index: 0, count: 10, total: 10 }, p(1))))).toMatch(/more than 2 messages in progress/);
    expect(r.bufferedBytes).toBe(140);
    r.push(chunk({ id: 2, index: 1, count: 10, total: 40 }, p(50)));
    // Message 2 was dropped and its bytes released; message 1 goes on and single-chunk messages still pass.
    expect(r.bufferedBytes).toBe(100);
    expect(r.push(chunk({ id: 4, index: 0, count: 1, total: 3 }, p(3))).kind).toBe('message');
    r.clear();
    expect(r.bufferedBytes).toBe(0);
    expect(r.partialMessages).toBe(0);
  });

  it('counts a message at its declared size from its first chunk, so one chunk cannot make it allocate past the limit', () => {
    const r = new Reassembler({ maxMessageBytes: 1000, maxPartialMessages: 4, maxBufferedBytes: 150 });
    expect(r.push(chunk({ id: 1, index: 0, count: 10, total: 100 }, p(10))).kind).toBe('partial');
    expect(r.bufferedBytes).toBe(100);
    // 100 + 60 > 150: refused at its first chunk, before anything is allocated for it.
    expect(reason(r.push(chunk({ id: 2, index: 0, count: 2, total: 60 }, p(30))))).toMatch(/message of 60 bytes would take more than 150 bytes/);
    expect(r.push(chunk({ id: 2, index: 1, count: 2, total: 60 }, p(30))).kind).toBe('discarded');
    expect(r.bufferedBytes).toBe(100);
    expect(r.push(chunk({ id: 3, index: 0, count: 2, total: 50 }, p(25))).kind).toBe('partial');
    expect(r.bufferedBytes).toBe(150);
  });

  it('shares one byte budget across connections, so many peers cannot multiply the limit', () => {
    const budget = new ByteBudget(100);
    const a = new Reassembler(LIMITS, budget);
    const b = new Reassembler(LIMITS, budget);
    expect(a.push(chunk({ id: 1, index: 0, count: 3, total: 60 }, p(20))).kind).toBe('partial');
    expect(reason(b.push(chunk({ id: 1, index: 0, count: 3, total: 60 }, p(20))))).toMatch(/on all connections together/);
    expect(budget.usedBytes).toBe(60);
    // A finished message, a dropped one and a cleared reassembler all give their bytes back.
    expect(b.push(chunk({ id: 2, index: 0, count: 2, total: 40 }, p(20))).kind).toBe('partial');
    expect(budget.usedBytes).toBe(100);
    expect(b.push(chunk({ id: 2, index: 1, count: 2, total: 40 }, p(20))).kind).toBe('message');
    expect(budget.usedBytes).toBe(60);
    expect(b.push(chunk({ id: 3, index: 0, count: 3, total: 30 }, p(10))).kind).toBe('partial');
    expect(budget.usedBytes).toBe(90);
    expect(reason(b.push(chunk({ id: 3, index: 0, count: 3, total: 30 }, p(10))))).toMatch(/duplicate/);
    expect(budget.usedBytes).toBe(60);
    a.clear();
    expect(budget.usedBytes).toBe(0);
  });

  it('survives garbage: random chunks never throw and never leave bytes over the limits', () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const limits = { maxMessageBytes: 4096, maxPartialMessages: 3, maxBufferedBytes: 8192 };
    const r = new Reassembler(limits);
    for (let i = 0; i < 5000; i++) {
      const count = 1 + Math.floor(rand() * 4);
      const total = Math.floor(rand() * 300);
      const part = rand() < 0.7 ? { part: Math.floor(rand() * 3), partBytes: Math.floor(rand() * 200) } : {};
      const c = chunk({ id: Math.floor(rand() * 6), index: Math.floor(rand() * 5), count, total, ...part }, p(Math.floor(rand() * 120)));
      if (rand() < 0.1) c[Math.floor(rand() * CHUNK_HEADER_BYTES)] = Math.floor(rand() * 256);
      const res = r.push(c);
      if (res.kind === 'message') expect(joined(res.parts).byteLength).toBeLessThanOrEqual(limits.maxMessageBytes);
      expect(r.bufferedBytes).toBeLessThanOrEqual(limits.maxBufferedBytes);
      expect(r.partialMessages).toBeLessThanOrEqual(limits.maxPartialMessages);
    }
  });
});

describe('[B-3] [B-4] limits that change, and messages that stall', () => {
  it('[B-4] a message with no chunk for longer than the idle time is dropped and its bytes released, here and in the shared budget', () => {
    const shared = new ByteBudget(10_000_000);
    const r = new Reassembler(LIMITS, shared);
    const body = message(1000);
    expect(r.push(chunk({ id: 1, index: 0, count: 2, total: 1000 }, body.subarray(0, 500)), 0).kind).toBe('partial');
    expect(r.push(chunk({ id: 2, index: 0, count: 2, total: 800 }, body.subarray(0, 400)), 15_000).kind).toBe('partial');
    expect(r.bufferedBytes).toBe(1800);
    expect(r.expire(20_000, 20_000)).toEqual([]); // exactly at the limit: kept
    const reasons = r.expire(20_001, 20_000);
    expect(reasons).toEqual([expect.stringMatching(/^message 1 had no chunk for 20001 ms \(500 of its 1000 bytes came\): dropped$/)]);
    expect(r.bufferedBytes).toBe(800);
    expect(shared.usedBytes).toBe(800);
    expect(r.partialMessages).toBe(1);
    // Its last chunk, should it come after all, is discarded quietly; the other message completes.
    expect(r.push(chunk({ id: 1, index: 1, count: 2, total: 1000, part: 0, partBytes: 1000 }, body.subarray(500)), 20_002).kind).toBe('discarded');
    expect(r.push(chunk({ id: 2, index: 1, count: 2, total: 800 }, body.subarray(400, 800)), 20_002).kind).toBe('message');
    expect(r.bufferedBytes).toBe(0);
    expect(shared.usedBytes).toBe(0);
  });

  it("[B-4] every chunk restarts a message's idle time", () => {
    const r = new Reassembler(LIMITS);
    const body = message(900);
    r.push(chunk({ id: 7, index: 0, count: 3, total: 900 }, body.subarray(0, 300)), 0);
    r.push(chunk({ id: 7, index: 1, count: 3, total: 900 }, body.subarray(300, 600)), 19_000);
    expect(r.expire(30_000, 20_000)).toEqual([]);
    expect(r.push(chunk({ id: 7, index: 2, count: 3, total: 900 }, body.subarray(600)), 30_000).kind).toBe('message');
  });

  it('[B-3] raised limits apply to the next message', () => {
    const r = new Reassembler({ maxMessageBytes: 100, maxPartialMessages: 1, maxBufferedBytes: 100 });
    expect(reason(r.push(chunk({ id: 1, index: 0, count: 2, total: 500 }, message(250))))).toMatch(/message 1 of 500 bytes exceeds the limit of 100/);
    r.setLimits(LIMITS);
    expect(r.push(chunk({ id: 2, index: 0, count: 2, total: 500 }, message(250))).kind).toBe('partial');
  });
});

describe('protocol frames over codec + chunks', () => {
  it('arrive intact and pass the protocol parsers', () => {
    const V = PROTOCOL_VERSION;
    const inputs = [f32('pixels', [2, 3], [0, 0.25, 0.5, 0.75, 1, -1])];
    const toCoordinator = [
      { v: V, t: 'hello', role: 'volunteer', caps: caps('wasm'), label: 'tab' },
      { v: V, t: 'result', leaseId: 'l1', outputs: inputs, backend: 'wasm', inferMs: 1.5 },
      {
        v: V,
        t: 'submit-job',
        ref: 'r1',
        spec: { name: 'mnist', model: countingBytes(200_000), inputs, shardSize: 1, policy: policy(1, 1, 4), requesterKey: '' },
      },
    ];
    const lease = {
      v: V,
      t: 'lease',
      leaseId: 'l1',
      jobId: 'jabc',
      shardId: 'jabc/0',
      modelHash: 'c'.repeat(64),
      modelBytes: 200_000,
      inputs,
      deadlineInMs: 60_000,
    };
    const q = new ChunkQueue(4096);
    for (const f of [...toCoordinator, lease]) q.enqueue(encodeFrame(f));
    const r = new Reassembler(LIMITS);
    const frames = drain(q).flatMap((c) => {
      const res = r.push(c);
      return res.kind === 'message' ? [decodeFrame(res.parts)] : [];
    });
    // Interleaving lets the small frames finish before the big submit-job: find them by type.
    const byType = new Map(frames.map((f) => [(f as { t: string }).t, f]));
    expect([...byType.keys()].sort()).toEqual(['hello', 'lease', 'result', 'submit-job']);
    for (const t of ['hello', 'result', 'submit-job']) {
      const parsed = parseToCoordinator(byType.get(t));
      expect(parsed.ok, parsed.ok ? '' : parsed.error.reason).toBe(true);
    }
    const parsedLease = parseFromCoordinator(byType.get('lease'));
    expect(parsedLease.ok).toBe(true);
    if (parsedLease.ok && parsedLease.msg.t === 'lease') {
      expect([...new Float32Array(parsedLease.msg.inputs[0]!.data)]).toEqual([0, 0.25, 0.5, 0.75, 1, -1]);
    }
    const submit = parseToCoordinator(byType.get('submit-job'));
    if (submit.ok && submit.msg.t === 'submit-job') expect(new Uint8Array(submit.msg.spec.model)).toEqual(new Uint8Array(countingBytes(200_000)));
  });
});
