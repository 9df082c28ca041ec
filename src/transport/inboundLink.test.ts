/**
 * [B-1] [B-2] [B-3] [B-4] [B-7] [B-8] One connection's incoming side under its budgets: over a
 * budget the peer is dropped with a reason; under it, frames come through untouched.
 */
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { PEER_BUDGETS, type PeerBudgets } from '../protocol/peerBudgets.ts';
import { ByteBudget, ChunkQueue } from './chunker.ts';
import { DEFAULT_DATA_PLANE } from './dataPlane.ts';
import { encodeFrame } from './frameCodec.ts';
import { InboundLink, type Received } from './inboundLink.ts';
import { rawChunk } from './testing/rawChunk.ts';

const MiB = 1024 * 1024;
const LIMITS = DEFAULT_DATA_PLANE.limits;

/** The chunks an honest sender puts on the wire for `frame`. */
function chunksOf(frame: unknown): Uint8Array[] {
  const q = new ChunkQueue();
  q.enqueue(encodeFrame(frame));
  const out: Uint8Array[] = [];
  for (let c = q.next(); c; c = q.next()) out.push(c);
  return out;
}

function feed(link: InboundLink, chunks: readonly Uint8Array[], now = 0): Received[] {
  return chunks.map((c) => link.receive(c, now));
}

const frames = (rs: readonly Received[]): unknown[] => rs.flatMap((r) => (r.kind === 'frame' ? [r.frame] : []));
const drops = (rs: readonly Received[]): string[] => rs.flatMap((r) => (r.kind === 'drop' ? [r.reason] : []));
const lines = (rs: readonly Received[]): string[] => rs.flatMap((r) => (r.kind === 'none' && r.log !== null ? [r.log] : []));

const ping = { v: PROTOCOL_VERSION, t: 'ping' };
/** A frame of about `bytes` bytes (one binary). */
const big = (bytes: number) => ({ v: PROTOCOL_VERSION, t: 'blob', data: new Uint8Array(bytes).buffer });

describe('[B-3] before hello, a small allowance', () => {
  it('[B-3] a never-greeted peer declaring a 769 MiB message is refused at its first chunk, with nothing held', () => {
    const shared = new ByteBudget(DEFAULT_DATA_PLANE.maxBufferedBytesAllPeers);
    const link = new InboundLink(PEER_BUDGETS, LIMITS, shared, false, 0);
    const r = link.receive(rawChunk({ id: 0, index: 0, count: 40_000, total: 769 * MiB, partBytes: 769 * MiB }, new Uint8Array(1)), 0);
    expect(r).toEqual({ kind: 'none', log: expect.stringMatching(/dropped a malformed frame: message 0 of 806354944 bytes exceeds the limit of 1048576/) });
    expect(link.bufferedBytes).toBe(0);
    expect(shared.usedBytes).toBe(0);
    // Small frames (its hello) still come through.
    expect(frames(feed(link, chunksOf(ping)))).toEqual([ping]);
  });

  it('[B-3] a 2 MiB frame is refused before hello and taken once the peer is greeted; a connection this tab opened takes it at once', () => {
    const link = new InboundLink(PEER_BUDGETS, LIMITS, null, false, 0);
    expect(frames(feed(link, chunksOf(big(2 * MiB))))).toEqual([]);
    link.greet('requester');
    expect(frames(feed(link, chunksOf(big(2 * MiB))))).toHaveLength(1);
    const opened = new InboundLink(PEER_BUDGETS, LIMITS, null, true, 0);
    expect(frames(feed(opened, chunksOf(big(2 * MiB))))).toHaveLength(1);
  });
});

describe('[B-1] [B-2] rates', () => {
  const tight: PeerBudgets = { ...PEER_BUDGETS, framesPerSecond: 10, frameBurst: 20, bytesPerSecond: 10_000, byteBurst: 20_000 };

  it('[B-1] more frames than the burst at once: dropped with the reason; at the rate: untouched', () => {
    const link = new InboundLink(tight, LIMITS, null, true, 0);
    const c = chunksOf(ping)[0] as Uint8Array;
    const burst = feed(link, Array<Uint8Array>(20).fill(c), 0);
    expect(frames(burst)).toHaveLength(20);
    expect(drops(feed(link, [c], 0))).toEqual([expect.stringMatching(/over its budget of 10 frames\/s \(a burst of 20\)/)]);
    // Dropped: until the transport has closed the connection, nothing more comes through, even later.
    expect(feed(link, [c], 60_000)).toEqual([{ kind: 'none', log: null }]);
    const calm = new InboundLink(tight, LIMITS, null, true, 0);
    const steady: Received[] = [];
    for (let i = 0; i < 100; i++) steady.push(calm.receive(c, i * 100)); // 10/s for 10 s
    expect(frames(steady)).toHaveLength(100);
  });

  it('[B-2] more bytes than the burst: dropped with the reason', () => {
    const link = new InboundLink(tight, LIMITS, null, true, 0);
    const rs = feed(link, chunksOf(big(30_000)), 0);
    expect(drops(rs)).toEqual([expect.stringMatching(/over its budget of 10000 bytes\/s \(a burst of 20000\)/)]);
    expect(frames(rs)).toEqual([]);
  });
});

describe('[B-4] [B-7] [B-8] stalls and malformed chunks', () => {
  it('[B-7] [B-8] 30,000 malformed chunks: one line, then the peer dropped with the count and the last reason', () => {
    const link = new InboundLink(PEER_BUDGETS, LIMITS, null, false, 0);
    const rs: Received[] = [];
    for (let i = 0; i < 30_000; i++) rs.push(link.receive(new Uint8Array([9, 9, 9]), Math.floor((i * 2300) / 30_000)));
    expect(lines(rs)).toEqual([expect.stringMatching(/dropped a malformed frame: chunk of 3 bytes is shorter than its 24-byte header/)]);
    expect(drops(rs)).toEqual([expect.stringMatching(/over its budget of malformed frames \(50 at once, 5\/s\): 51 so far/)]);
    expect(link.sweep(5_000)).toEqual({ log: null, drop: null });
  });

  it('[B-8] under the budget: later bad chunks come as one line per period from the sweep', () => {
    const link = new InboundLink(PEER_BUDGETS, LIMITS, null, true, 0);
    link.receive('text', 0);
    for (let i = 0; i < 9; i++) expect(link.receive('text', 10 + i)).toEqual({ kind: 'none', log: null });
    expect(link.sweep(500)).toEqual({ log: null, drop: null });
    expect(link.sweep(1_000)).toEqual({
      log: expect.stringMatching(/^dropped 9 malformed frames in the last 1\.0 s \(the last: expected binary chunks, got string\)$/),
      drop: null,
    });
    expect(frames(feed(link, chunksOf(ping), 1_000))).toEqual([ping]);
  });

  it('[B-4] a stalled message is dropped by the sweep and its bytes released', () => {
    const shared = new ByteBudget(100 * MiB);
    const link = new InboundLink(PEER_BUDGETS, LIMITS, shared, true, 0);
    const chunks = chunksOf(big(200_000));
    feed(link, chunks.slice(0, 1), 0);
    expect(link.bufferedBytes).toBeGreaterThan(200_000);
    expect(link.sweep(PEER_BUDGETS.messageIdleMs)).toEqual({ log: null, drop: null });
    expect(link.sweep(PEER_BUDGETS.messageIdleMs + 1).log).toMatch(/dropped a malformed frame: message 0 had no chunk for 20001 ms/);
    expect(link.bufferedBytes).toBe(0);
    expect(shared.usedBytes).toBe(0);
  });
});

describe('[P-8] a frame still arriving', () => {
  it('[P-8] every chunk of a message not yet whole is progress, the last one its frame; a bad chunk is not', () => {
    const link = new InboundLink(PEER_BUDGETS, LIMITS, null, true, 0);
    const frame = big(300_000);
    const chunks = chunksOf(frame);
    expect(chunks.length).toBeGreaterThan(4);
    const got = feed(link, chunks);
    expect(got.slice(0, -1).every((r) => r.kind === 'progress')).toBe(true);
    expect(got.at(-1)?.kind).toBe('frame');
    expect(link.receive(new Uint8Array(3), 0).kind).toBe('none');
  });
});
