/**
 * What every Transport must do, as one suite run against each implementation: the memory
 * transport in wire mode (transport.contract.test.ts) and peerjs over real WebRTC in Node
 * (nodeTransport.node.test.ts). A host written against the interface may rely on all of it.
 *
 * The contract, beyond transport.ts's comments:
 * - the factory never throws: a failure to join (a taken id) rejects its promise with a
 *   TransportError; everything after that is reported through `handlers.error`;
 * - `connect` opens both ends (each sees `open` with the other's id) or reports
 *   'peer-unreachable' and opens nothing; it never throws;
 * - frames from one peer arrive whole and in the order sent, however big (5 MB here) — except
 *   that a small frame may overtake a big one still on the wire: [B-13] a frame of one chunk
 *   goes ahead of every bigger one queued, so a ping or a pong never waits behind 50 MB — and go
 *   through the frame codec: every binary (ArrayBuffer or typed array) arrives as an ArrayBuffer
 *   of exactly its bytes, plain data as it was;
 * - [P-8] every chunk of a frame not yet whole is told to `handlers.progress`, so a host can
 *   count a peer that is sending as alive however long its frame takes;
 * - `send` never throws: it returns false for a peer with no open connection, and for a frame
 *   the wire cannot carry it also reports 'bad-frame' (the connection lives on);
 * - `close` and `destroy` are seen by the other side as `close`;
 * - [K-3] both ends of an open connection name its DTLS certificate fingerprints, normalised,
 *   and agree on them (one's `local` is the other's `remote`, and the two differ); without an
 *   open connection there are none;
 * - the receiving side enforces the data plane's budgets: a peer that has not said hello cannot
 *   push a big frame ([B-3]), and a peer over its frame rate is dropped with the reason reported
 *   as 'bad-frame' ([B-1]).
 *
 * Tests wait for states, never for fixed times, so that a loaded machine only makes them slower.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PEER_BUDGETS } from '../protocol/peerBudgets.ts';
import type { PeerId } from '../protocol/ids.ts';
import { DTLS_FINGERPRINT } from '../protocol/coordinatorProof.ts';
import type { DataPlaneOptions } from './dataPlane.ts';
import { TransportError, type Endpoint, type EndpointFactory, type EndpointHandlers } from './transport.ts';

export interface ContractHarness {
  /** Endpoints on one network, with the data plane's options changed by `dataPlane`. */
  factory(dataPlane?: Partial<DataPlaneOptions>): EndpointFactory;
  /** Lets queued work happen: the memory network delivers what it holds, a real one waits a moment. */
  settle(): Promise<void>;
  /** How long a state may take to come about before the test fails. */
  readonly waitMs: number;
  /** Frees what the harness holds (servers, threads). */
  close(): Promise<void>;
}

interface Recorder {
  readonly handlers: EndpointHandlers;
  readonly opened: PeerId[];
  readonly frames: { readonly from: PeerId; readonly frame: unknown }[];
  readonly closed: PeerId[];
  readonly errors: TransportError[];
  /** [P-8] Every chunk of a frame not yet whole, by sender. */
  readonly progress: PeerId[];
  /** [P-8] How many of them came before the first whole frame. */
  progressBeforeFirstFrame: number;
}

function recorder(): Recorder {
  const r: Recorder = {
    opened: [],
    frames: [],
    closed: [],
    errors: [],
    progress: [],
    progressBeforeFirstFrame: 0,
    handlers: {
      open: (peer) => r.opened.push(peer),
      data: (from, frame) => r.frames.push({ from, frame }),
      progress: (peer) => {
        r.progress.push(peer);
        if (r.frames.length === 0) r.progressBeforeFirstFrame++;
      },
      close: (peer) => r.closed.push(peer),
      signaling: () => undefined,
      error: (e) => r.errors.push(e),
    },
  };
  return r;
}

/** A binary whose every byte depends on its position, so a lost, doubled or moved chunk shows. */
function pattern(bytes: number, seed: number): ArrayBuffer {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed + (i >>> 16)) & 0xff;
  return out.buffer;
}

function sameBytes(a: unknown, b: ArrayBuffer): boolean {
  if (!(a instanceof ArrayBuffer) || a.byteLength !== b.byteLength) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Ids differ from run to run, so a rerun never meets the ids of one before it on a shared signaling server. */
const RUN = Date.now().toString(36);

export function describeTransportContract(name: string, makeHarness: () => Promise<ContractHarness>): void {
  describe(`Transport contract: ${name}`, () => {
    let h: ContractHarness;
    const live: Endpoint[] = [];
    let nextId = 0;

    beforeAll(async () => {
      h = await makeHarness();
    });
    afterEach(async () => {
      for (const e of live.splice(0)) e.destroy();
      await h.settle();
    });
    // Closing a real transport may wait for connections still closing (node-datachannel's cleanup
    // gives them up to 10 s on a loaded machine): more than the default hook timeout.
    afterAll(async () => {
      await h.close();
    }, 60_000);

    /** A fresh id per endpoint: the real transport's signaling server keeps ids a while after they go. */
    const freshId = (): string => `contract${RUN}x${++nextId}`;

    async function until(what: string, holds: () => boolean): Promise<void> {
      const deadline = Date.now() + h.waitMs;
      while (!holds()) {
        if (Date.now() > deadline) throw new Error(`timed out after ${h.waitMs} ms waiting for ${what}`);
        await h.settle();
      }
    }

    async function endpoint(factory = h.factory(), id: string | null = freshId()): Promise<{ ep: Endpoint; rec: Recorder }> {
      const rec = recorder();
      const ep = await factory(id, rec.handlers);
      live.push(ep);
      return { ep, rec };
    }

    /** Two endpoints, `a` having connected to `b`, both open. */
    async function pair(factory = h.factory()): Promise<{ a: Endpoint; b: Endpoint; ra: Recorder; rb: Recorder }> {
      const { ep: a, rec: ra } = await endpoint(factory);
      const { ep: b, rec: rb } = await endpoint(factory);
      a.connect(b.selfId);
      await until('both ends to open', () => ra.opened.includes(b.selfId) && rb.opened.includes(a.selfId));
      return { a, b, ra, rb };
    }

    it('connect opens both ends, each seeing the other by id; an endpoint without an id is given one', async () => {
      const { ep: anon } = await endpoint(h.factory(), null);
      expect(anon.selfId.length).toBeGreaterThan(0);
      const { a, b, ra, rb } = await pair();
      expect(ra.opened).toEqual([b.selfId]);
      expect(rb.opened).toEqual([a.selfId]);
      expect([...ra.errors, ...rb.errors]).toEqual([]);
    });

    it("[K-3] both ends name the connection's DTLS fingerprints and agree on them; none without a connection", async () => {
      const { a, b } = await pair();
      const fa = a.dtlsFingerprints(b.selfId);
      const fb = b.dtlsFingerprints(a.selfId);
      expect(fa).not.toBeNull();
      expect(fa?.local).toMatch(DTLS_FINGERPRINT);
      expect(fa?.remote).toMatch(DTLS_FINGERPRINT);
      expect(fa?.local).not.toBe(fa?.remote);
      expect(fb).toEqual({ local: fa?.remote, remote: fa?.local });
      expect(a.dtlsFingerprints(`${freshId()}nobody` as PeerId)).toBeNull();
      a.close(b.selfId);
      await until('both ends to close', () => a.dtlsFingerprints(b.selfId) === null && b.dtlsFingerprints(a.selfId) === null);
    });

    it('frames from one peer arrive whole and in the order sent, both ways at once', async () => {
      const { a, b, ra, rb } = await pair();
      const n = 200;
      for (let i = 0; i < n; i++) {
        expect(a.send(b.selfId, { type: 'seq', n: i, text: `frame ${i}` })).toBe(true);
        expect(b.send(a.selfId, { type: 'seq', n: i })).toBe(true);
      }
      await until(`${n} frames each way`, () => rb.frames.length >= n && ra.frames.length >= n);
      expect(rb.frames.map((f) => (f.frame as { n: number }).n)).toEqual([...Array(n).keys()]);
      expect(ra.frames.map((f) => (f.frame as { n: number }).n)).toEqual([...Array(n).keys()]);
      expect(rb.frames.every((f) => f.from === a.selfId)).toBe(true);
      expect(rb.frames[7]?.frame).toEqual({ type: 'seq', n: 7, text: 'frame 7' });
    });

    it('a 5 MB binary arrives whole, byte for byte, among small frames; a frame sent before it comes first', async () => {
      const { a, b, rb } = await pair();
      b.greeted(a.selfId, 'requester'); // [B-3] a greeted requester may send frames of any size the protocol allows
      const big = pattern(5 * 1024 * 1024, 3);
      expect(a.send(b.selfId, { type: 'before' })).toBe(true);
      expect(a.send(b.selfId, { type: 'big', bytes: big })).toBe(true);
      expect(a.send(b.selfId, { type: 'after' })).toBe(true);
      await until('three frames', () => rb.frames.length >= 3);
      const types = rb.frames.map((f) => (f.frame as { type: string }).type);
      expect(types[0]).toBe('before');
      expect([...types].sort()).toEqual(['after', 'before', 'big']);
      const got = rb.frames.find((f) => (f.frame as { type: string }).type === 'big')?.frame as { bytes: unknown };
      expect(sameBytes(got.bytes, big)).toBe(true);
      expect(rb.frames.length).toBe(3);
    });

    it('[B-13] a one-chunk frame sent behind more big frames than the sender interleaves arrives before any of them', async () => {
      // A channel that takes little at a time, as on a slow link: on loopback a real channel takes
      // megabytes at once, and frames would never wait in the sender's queue at all.
      const { a, b, rb } = await pair(h.factory({ highWaterBytes: 64 * 1024, lowWaterBytes: 0 }));
      b.greeted(a.selfId, 'requester');
      const bigs = [0, 1, 2, 3, 4, 5].map((i) => pattern(2 * 1024 * 1024, 20 + i));
      for (const [i, bytes] of bigs.entries()) expect(a.send(b.selfId, { type: 'big', i, bytes })).toBe(true);
      expect(a.send(b.selfId, { type: 'ping' })).toBe(true);
      await until('all seven frames', () => rb.frames.length >= 7);
      const types = rb.frames.map((f) => (f.frame as { type: string }).type);
      expect(types[0]).toBe('ping');
      // The big ones still arrive whole, in the order sent.
      expect(rb.frames.slice(1).map((f) => (f.frame as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(bigs.every((bytes, i) => sameBytes((rb.frames[i + 1]?.frame as { bytes: unknown }).bytes, bytes))).toBe(true);
    });

    it('[P-8] the receiver hears of every chunk of a frame still arriving, before the frame is whole', async () => {
      const { a, b, rb } = await pair();
      b.greeted(a.selfId, 'requester');
      expect(a.send(b.selfId, { type: 'big', bytes: pattern(1024 * 1024, 7) })).toBe(true);
      await until('the frame', () => rb.frames.length >= 1);
      // 1 MiB in 64 KiB chunks: at least 16 of them came before the last one completed the frame.
      expect(rb.progress.filter((p) => p === a.selfId).length).toBeGreaterThanOrEqual(15);
      expect(rb.progressBeforeFirstFrame).toBeGreaterThanOrEqual(15);
    });

    it('frames go through the frame codec: every binary arrives as an ArrayBuffer of exactly its bytes', async () => {
      const { a, b, ra, rb } = await pair();
      const small = pattern(100, 1);
      const large = pattern(300_000, 2); // large enough to travel as a part of its own
      const floats = new Float32Array([1.5, -2, 3.25]);
      const view = new Uint8Array(pattern(64, 5), 16, 8); // a view into a bigger buffer: only its 8 bytes go
      const frame = { type: 'mixed', nested: { small, list: [large, floats, view] }, n: 42, s: 'ü', ok: true, none: null, gone: undefined };
      expect(a.send(b.selfId, frame)).toBe(true);
      await until('the frame', () => rb.frames.length >= 1);
      const got = rb.frames[0]?.frame as { nested: { small: unknown; list: unknown[] } } & Record<string, unknown>;
      expect(sameBytes(got.nested.small, small)).toBe(true);
      expect(sameBytes(got.nested.list[0], large)).toBe(true);
      expect(sameBytes(got.nested.list[1], floats.slice().buffer)).toBe(true);
      expect(sameBytes(got.nested.list[2], view.slice().buffer)).toBe(true);
      expect({ ...got, nested: null }).toEqual({ type: 'mixed', nested: null, n: 42, s: 'ü', ok: true, none: null });
      expect('gone' in got).toBe(false);
      expect(ra.errors).toEqual([]);
    });

    it('a taken id rejects the factory promise with an id-taken TransportError, never a synchronous throw', async () => {
      const { ep } = await endpoint();
      const rec = recorder();
      let attempt: Promise<Endpoint> | undefined;
      expect(() => {
        attempt = h.factory()(ep.selfId, rec.handlers);
      }).not.toThrow();
      const error = await (attempt as Promise<Endpoint>).then(
        (e) => {
          live.push(e);
          return null;
        },
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).kind).toBe('id-taken');
    });

    it('connecting to a peer nobody holds reports peer-unreachable and opens nothing', async () => {
      const { ep, rec } = await endpoint();
      expect(() => ep.connect(`${freshId()}absent` as PeerId)).not.toThrow();
      await until('an error', () => rec.errors.length > 0);
      expect(rec.errors[0]?.kind).toBe('peer-unreachable');
      expect(rec.opened).toEqual([]);
    });

    it('send never throws: false to an unconnected peer; false and a bad-frame error for a frame the wire cannot carry', async () => {
      const { a, b, ra, rb } = await pair();
      expect(a.send(`${freshId()}nobody` as PeerId, { type: 'x' })).toBe(false);
      let sent: boolean | undefined;
      expect(() => {
        sent = a.send(b.selfId, { type: 'bad', map: new Map([[1, 2]]) });
      }).not.toThrow();
      expect(sent).toBe(false);
      expect(ra.errors.map((e) => e.kind)).toEqual(['bad-frame']);
      // The connection lives on.
      expect(a.send(b.selfId, { type: 'good' })).toBe(true);
      await until('the good frame', () => rb.frames.length >= 1);
      expect(rb.frames.map((f) => f.frame)).toEqual([{ type: 'good' }]);
    });

    it('close is seen by the other side, and send then returns false on both', async () => {
      const { a, b, ra, rb } = await pair();
      a.close(b.selfId);
      await until('both ends to close', () => ra.closed.includes(b.selfId) && rb.closed.includes(a.selfId));
      expect(a.send(b.selfId, { type: 'x' })).toBe(false);
      expect(b.send(a.selfId, { type: 'x' })).toBe(false);
    });

    it('destroy closes every connection, and each peer sees it', async () => {
      const { ep: hub, rec: rh } = await endpoint();
      const { ep: p, rec: rp } = await endpoint();
      const { ep: q, rec: rq } = await endpoint();
      p.connect(hub.selfId);
      q.connect(hub.selfId);
      await until('both connections', () => rh.opened.length === 2 && rp.opened.length === 1 && rq.opened.length === 1);
      hub.destroy();
      await until('both peers to see the close', () => rp.closed.includes(hub.selfId) && rq.closed.includes(hub.selfId));
    });

    it('[B-3] a peer that has not said hello cannot push a big frame; once greeted it can', async () => {
      const { a, b, rb } = await pair();
      const big = pattern(PEER_BUDGETS.preHello.maxMessageBytes + 1024, 9);
      expect(a.send(b.selfId, { type: 'big', bytes: big })).toBe(true);
      expect(a.send(b.selfId, { type: 'small' })).toBe(true);
      await until('the small frame', () => rb.frames.length >= 1);
      expect(rb.frames.map((f) => (f.frame as { type: string }).type)).toEqual(['small']);
      b.greeted(a.selfId, 'requester');
      expect(a.send(b.selfId, { type: 'big', bytes: big })).toBe(true);
      await until('the big frame', () => rb.frames.length >= 2);
      expect(sameBytes((rb.frames[1]?.frame as { bytes: unknown }).bytes, big)).toBe(true);
    });

    it('[B-1] a peer over its frame budget is dropped: the receiver reports why, both ends see the close', async () => {
      const tight = h.factory({ budgets: { ...PEER_BUDGETS, framesPerSecond: 1, frameBurst: 20 } });
      const { a, b, ra, rb } = await pair(tight);
      for (let i = 0; i < 200; i++) a.send(b.selfId, { type: 'flood', n: i });
      await until('the drop', () => rb.closed.includes(a.selfId) && ra.closed.includes(b.selfId));
      const drop = rb.errors.find((e) => e.message.startsWith(`dropped peer ${a.selfId}`));
      expect(drop?.kind).toBe('bad-frame');
      expect(drop?.message).toMatch(/frames\/s/);
      expect(rb.frames.length).toBeLessThanOrEqual(20);
    });
  });
}
