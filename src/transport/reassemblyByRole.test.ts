/**
 * [B-9] [B-10] [B-11] What a greeted peer may hold in reassembly depends on its role, and no
 * peer that may not submit jobs can take the share of the coordinator's budget that an honest
 * requester's submission needs; a message trickled in slower than the floor expires.
 */
import { describe, expect, it } from 'vitest';
import { SHARD_OUTPUT_BUDGET_BYTES } from '../core/shardOutputBudget.ts';
import { jobSpec } from '../core/testing/fixtures.ts';
import { LIMITS as PROTOCOL_LIMITS } from '../protocol/limits.ts';
import { PROTOCOL_VERSION, type Role } from '../protocol/messages.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import { PEER_BUDGETS, RESULT_OUTPUT_BYTES } from '../protocol/peerBudgets.ts';
import { ByteBudget, ChunkQueue, DEFAULT_CHUNK_BYTES, chunkCount } from './chunker.ts';
import { DEFAULT_DATA_PLANE } from './dataPlane.ts';
import { encodeFrame } from './frameCodec.ts';
import { InboundLink, type Received } from './inboundLink.ts';
import { rawChunk } from './testing/rawChunk.ts';

const MiB = 1024 * 1024;
const PLANE = DEFAULT_DATA_PLANE;

/** A connection another peer opened to the coordinator, greeted as `role`. */
function greeted(role: Role, shared: ByteBudget, now = 0): InboundLink {
  const link = new InboundLink(PLANE.budgets, PLANE.limits, shared, false, now);
  link.greet(role);
  return link;
}

/**
 * The first chunk of a message declaring `total` bytes (its skeleton part small, as a real
 * frame's is): what a peer sends to reserve the whole message before trickling the rest.
 */
function declare(link: InboundLink, id: number, total: number, now = 0): Received {
  const skeleton = 1024;
  return link.receive(rawChunk({ id, index: 0, count: chunkCount(total, DEFAULT_CHUNK_BYTES) + 2, total, partBytes: skeleton }, new Uint8Array(100)), now);
}

/** One more chunk of message `id` (its `index`th), a few bytes of its skeleton. */
function trickle(link: InboundLink, id: number, index: number, total: number, now: number): Received {
  return link.receive(rawChunk({ id, index, count: chunkCount(total, DEFAULT_CHUNK_BYTES) + 2, total, partBytes: 1024 }, new Uint8Array(4)), now);
}

/** The chunks an honest sender puts on the wire for `frame`. */
function chunksOf(frame: unknown): Uint8Array[] {
  const q = new ChunkQueue();
  q.enqueue(encodeFrame(frame));
  const out: Uint8Array[] = [];
  for (let c = q.next(); c; c = q.next()) out.push(c);
  return out;
}

const logOf = (r: Received): string => (r.kind === 'none' ? (r.log ?? '') : r.kind === 'drop' ? r.reason : '');

describe('[B-9] reassembly by role', () => {
  it('[B-9] the volunteer allowance is twice the shard output budget it repeats', () => {
    expect(RESULT_OUTPUT_BYTES).toBe(SHARD_OUTPUT_BUDGET_BYTES);
    expect(PEER_BUDGETS.volunteer.maxMessageBytes).toBe(2 * SHARD_OUTPUT_BUDGET_BYTES);
  });

  it('[B-9] a greeted volunteer declaring more than a result can be is dropped at the first chunk with the reason; a result-sized message is untouched', () => {
    const shared = new ByteBudget(PLANE.maxBufferedBytesAllPeers);
    const volunteer = greeted('volunteer', shared);
    const over = declare(volunteer, 0, PROTOCOL_LIMITS.maxFrameBytes);
    expect(logOf(over)).toMatch(/message 0 of 806354944 bytes exceeds the limit of 67108864/);
    expect(volunteer.bufferedBytes).toBe(0);
    expect(shared.usedBytes).toBe(0);

    expect(declare(volunteer, 1, 40 * MiB)).toEqual({ kind: 'progress' });
    expect(volunteer.bufferedBytes).toBe(40 * MiB);
  });

  it('[B-9] a greeted observer may hold almost nothing: a 1 MiB message is dropped; its hello and pings come through', () => {
    const shared = new ByteBudget(PLANE.maxBufferedBytesAllPeers);
    const observer = greeted('observer', shared);
    expect(logOf(declare(observer, 0, 1 * MiB))).toMatch(/message 0 of 1048576 bytes exceeds the limit of 65536/);
    expect(observer.bufferedBytes).toBe(0);
    const ping = { v: PROTOCOL_VERSION, t: 'ping' };
    expect(chunksOf(ping).map((c) => observer.receive(c, 0))).toEqual([{ kind: 'frame', frame: ping }]);
  });

  it('[B-9] a greeted requester may declare the largest submission', () => {
    const shared = new ByteBudget(PLANE.maxBufferedBytesAllPeers);
    const requester = greeted('requester', shared);
    expect(declare(requester, 0, PROTOCOL_LIMITS.maxFrameBytes)).toEqual({ kind: 'progress' });
    expect(shared.usedBytes).toBe(PROTOCOL_LIMITS.maxFrameBytes);
  });
});

describe("[B-10] a submission's share of the coordinator's budget", () => {
  it('[B-10] an honest submission completes while two greeted volunteers trickle huge declared messages', () => {
    const shared = new ByteBudget(PLANE.maxBufferedBytesAllPeers);
    const [a, b] = [greeted('volunteer', shared), greeted('volunteer', shared)] as [InboundLink, InboundLink];
    const requester = greeted('requester', shared);
    // Each volunteer declares as much as it can, in as many messages as it may, and trickles.
    const SIZES = [PROTOCOL_LIMITS.maxFrameBytes, 256 * MiB, 64 * MiB, 32 * MiB];
    const declared: [number, number][] = [];
    for (let k = 0; k < 4; k++) SIZES.forEach((total, i) => declared.push([k * SIZES.length + i, total]));
    let now = 0;
    for (const v of [a, b]) for (const [id, total] of declared) declare(v, id, total, now);
    for (let t = 1; t <= 5; t++) {
      now = t * 1_000;
      for (const v of [a, b]) for (const [id, total] of declared) trickle(v, id, t, total, now);
    }
    expect(a.bufferedBytes).toBeGreaterThan(0);
    // Whatever they hold leaves one largest submission's share free.
    expect(shared.maxBytes - shared.usedBytes).toBeGreaterThanOrEqual(PROTOCOL_LIMITS.maxFrameBytes);

    // A real submission, a few MiB in many chunks, arrives whole and parses.
    const spec = jobSpec(4, 2, undefined, { model: new Uint8Array(3 * MiB).fill(7).buffer });
    const submission = { v: PROTOCOL_VERSION, t: 'submit-job', ref: 'honest', spec };
    const got = chunksOf(submission).map((c) => requester.receive(c, now));
    const frame = got.find((r) => r.kind === 'frame');
    expect(got.filter((r) => r.kind !== 'frame' && r.kind !== 'progress')).toEqual([]);
    expect(frame?.kind).toBe('frame');
    const parsed = parseToCoordinator(frame?.kind === 'frame' ? frame.frame : null);
    expect(parsed.ok && parsed.msg.t === 'submit-job' && parsed.msg.spec.model.byteLength).toBe(3 * MiB);
    // And the largest submission the protocol allows would still be taken in.
    expect(declare(greeted('requester', shared), 0, PROTOCOL_LIMITS.maxFrameBytes, now)).toEqual({ kind: 'progress' });
  });

  it('[B-10] a volunteer message that would eat into the share is dropped with the reason', () => {
    // A budget with room for one submission and one result: the result fits, a second does not.
    const shared = new ByteBudget(PROTOCOL_LIMITS.maxFrameBytes + 64 * MiB);
    const [a, b] = [greeted('volunteer', shared), greeted('volunteer', shared)] as [InboundLink, InboundLink];
    expect(declare(a, 0, 60 * MiB)).toEqual({ kind: 'progress' });
    expect(logOf(declare(b, 0, 60 * MiB))).toMatch(/would leave less than the 806354944 bytes kept free for a requester's submission/);
    expect(b.bufferedBytes).toBe(0);
    expect(shared.usedBytes).toBe(60 * MiB);
  });
});

describe('[B-11] a message must keep coming', () => {
  it('[B-11] a message trickled in under the floor is dropped by the sweep once the grace has passed, its bytes released', () => {
    const shared = new ByteBudget(PLANE.maxBufferedBytesAllPeers);
    const requester = greeted('requester', shared);
    const total = PROTOCOL_LIMITS.maxFrameBytes;
    declare(requester, 0, total, 0);
    // A chunk every 10 s keeps it from going idle ([B-4]), but brings almost nothing.
    for (let t = 1; t <= 3; t++) {
      trickle(requester, 0, t, total, t * 10_000);
      const v = requester.sweep(t * 10_000);
      expect(v.drop).toBeNull();
      if (t < 3) expect(requester.bufferedBytes).toBe(total);
    }
    expect(requester.bufferedBytes).toBe(0);
    expect(shared.usedBytes).toBe(0);
  });

  it('[B-11] the sweep gives the reason; a message at an honest rate is untouched', () => {
    const shared = new ByteBudget(PLANE.maxBufferedBytesAllPeers);
    const slow = greeted('requester', shared);
    declare(slow, 0, 500 * MiB, 0);
    trickle(slow, 0, 1, 500 * MiB, 19_000);
    expect(slow.sweep(19_000).log).toBeNull();
    trickle(slow, 0, 2, 500 * MiB, 25_000);
    expect(slow.sweep(25_000).log).toMatch(/message 0 came at under 262144 bytes\/s \(108 of its 524288000 bytes came in 25000 ms\)/);

    // 1 MiB/s, in 64 KiB chunks, for 40 s: never dropped.
    const steady = greeted('requester', shared);
    const frame = { v: PROTOCOL_VERSION, t: 'blob', data: new Uint8Array(40 * MiB).buffer };
    const chunks = chunksOf(frame);
    const got: Received[] = [];
    chunks.forEach((c, i) => {
      const now = (i * 1000 * DEFAULT_CHUNK_BYTES) / MiB;
      got.push(steady.receive(c, now));
      if (i % 16 === 0) expect(steady.sweep(now)).toEqual({ log: null, drop: null });
    });
    expect(got.filter((r) => r.kind === 'frame')).toHaveLength(1);
  });
});
