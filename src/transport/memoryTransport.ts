/**
 * An in-process Transport for tests: endpoints on one `MemoryNetwork` reach each other by id.
 * Frames are queued and delivered only when the test calls `flush()` (or `deliverNext()`), so a
 * test decides the interleaving. Frames are structured-cloned, as a real channel would copy them.
 *
 * With `wire`, frames travel as the real transport sends them instead: encoded, queued in one
 * ChunkQueue per connection and direction (so chunks leave in the real sender's order: one-chunk
 * frames first, [B-13], big ones interleaved), one chunk per delivery, and received through an
 * InboundLink per connection, with its budgets ([B-1]…[B-4], [B-7], [B-8]) on the clock the test
 * gives, every chunk of an unfinished frame told to `progress` ([P-8]); a test that delivers
 * chunks one by one while its clock runs is a throttled link. `sendRaw` puts arbitrary bytes on a
 * connection, as a hostile peer would, and `sweep` runs the transport's periodic sweep.
 */
import { asPeerId, type PeerId } from '../protocol/ids.ts';
import type { Presence } from '../protocol/presence.ts';
import { ByteBudget, ChunkQueue, chunkCountOfParts } from './chunker.ts';
import { DEFAULT_DATA_PLANE, type DataPlaneOptions } from './dataPlane.ts';
import { encodeFrame } from './frameCodec.ts';
import { InboundLink } from './inboundLink.ts';
import { TransportError, type Endpoint, type EndpointFactory, type EndpointHandlers } from './transport.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

interface Pending {
  readonly run: () => void;
}

export interface WireOptions {
  readonly dataPlane?: Partial<DataPlaneOptions>;
  /** The receivers' clock, for the budgets. */
  readonly now: () => number;
}

interface Member {
  /** [K-3] Stands for the endpoint's DTLS certificate: unique on the network, in the SDP's notation. */
  readonly certificate: string;
  readonly handlers: EndpointHandlers;
  readonly links: Set<PeerId>;
  /** Wire mode: the incoming side of each connection, by remote. */
  readonly inbound: Map<PeerId, InboundLink>;
  /** Wire mode: the chunks of each connection waiting to leave, by remote. */
  readonly outgoing: Map<PeerId, ChunkQueue>;
  readonly budget: ByteBudget | null;
}

/** A distinct certificate fingerprint per endpoint, shaped as WebRTC writes one (`sha-256` and 32 hex pairs). */
function certificateFingerprint(n: number): string {
  const pairs: string[] = [];
  for (let i = 0; i < 32; i++) pairs.push((((n >>> ((i % 4) * 8)) ^ (i * 37)) & 0xff).toString(16).toUpperCase().padStart(2, '0'));
  return `sha-256 ${pairs.join(':')}`;
}

export class MemoryNetwork {
  private readonly endpoints = new Map<PeerId, Member>();
  private queue: Pending[] = [];
  /** The next frame to deliver: an index rather than `shift()`, which costs O(n) a frame in a flood. */
  private head = 0;
  private nextAnon = 0;
  private certificates = 0;
  private readonly dataPlane: DataPlaneOptions | null;

  /**
   * As every transport (transport.contract.ts): a failure to join rejects the promise, never
   * throws, so a caller handles it in one place whichever transport it runs on.
   */
  readonly factory: EndpointFactory = (id, handlers) => {
    try {
      return Promise.resolve(this.create(id, handlers));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  };

  /** Dials made (`connect` calls), for tests that count what a client spends. */
  dials = 0;

  /**
   * [E-4] The same endpoints, from a factory that also says whether a peer is registered, as a
   * browser page's does (its dials are scarce).
   */
  readonly presenceFactory: EndpointFactory = Object.assign((id: string | null, handlers: EndpointHandlers) => this.factory(id, handlers), {
    presence: (peer: PeerId): Promise<Presence> => Promise.resolve(this.endpoints.has(peer) ? { kind: 'present' } : { kind: 'absent' }),
  });

  constructor(private readonly wire: WireOptions | null = null) {
    this.dataPlane = wire ? { ...DEFAULT_DATA_PLANE, ...wire.dataPlane } : null;
  }

  create(id: string | null, handlers: EndpointHandlers): Endpoint {
    const selfId = asPeerId(id ?? `anon-${++this.nextAnon}`);
    if (this.endpoints.has(selfId)) throw new TransportError('id-taken', `peer id ${selfId} is already in use`);
    const me: Member = {
      certificate: certificateFingerprint(++this.certificates),
      handlers,
      links: new Set<PeerId>(),
      inbound: new Map(),
      outgoing: new Map(),
      budget: this.dataPlane ? new ByteBudget(this.dataPlane.maxBufferedBytesAllPeers) : null,
    };
    this.endpoints.set(selfId, me);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the endpoint's methods need the network, not themselves
    const net = this;
    return {
      selfId,
      connect(remote) {
        net.dials++;
        net.enqueue(() => {
          const other = net.endpoints.get(remote);
          if (!other || !net.endpoints.has(selfId)) {
            handlers.error(new TransportError('peer-unreachable', `could not connect to peer ${remote}`));
            return;
          }
          me.links.add(remote);
          other.links.add(selfId);
          // [B-3] The side that was called holds its caller to the pre-hello allowance.
          net.addInbound(other, selfId, false);
          net.addInbound(me, remote, true);
          other.handlers.open(selfId);
          handlers.open(remote);
        });
      },
      send(remote, frame) {
        if (!me.links.has(remote)) return false;
        // As the real transport: a frame the wire cannot carry is reported, not thrown.
        let encoded: Uint8Array[] | null = null;
        let copy: unknown;
        try {
          if (net.dataPlane) encoded = encodeFrame(frame, net.dataPlane.limits.maxMessageBytes);
          else copy = structuredClone(frame);
        } catch (e) {
          handlers.error(new TransportError('bad-frame', `could not send a frame to ${remote}: ${errorMessage(e)}`));
          return false;
        }
        if (net.dataPlane && encoded) {
          net.sendChunks(me, selfId, remote, encoded, net.dataPlane);
          return true;
        }
        net.enqueue(() => {
          if (me.links.has(remote)) net.endpoints.get(remote)?.handlers.data(selfId, copy);
        });
        return true;
      },
      greeted(remote, role) {
        me.inbound.get(remote)?.greet(role);
      },
      dtlsFingerprints(remote) {
        const other = net.endpoints.get(remote);
        return other && me.links.has(remote) ? { local: me.certificate, remote: other.certificate } : null;
      },
      close(remote) {
        net.unlink(selfId, remote);
      },
      destroy() {
        for (const remote of [...me.links]) net.unlink(selfId, remote);
        net.endpoints.delete(selfId);
      },
    };
  }

  /** Wire mode: queues `bytes` as one chunk from `from` to `to`, whatever they hold. */
  sendRaw(from: PeerId, to: PeerId, bytes: Uint8Array): void {
    if (!this.wire) throw new Error('sendRaw needs a MemoryNetwork in wire mode');
    const copy = bytes.slice();
    this.enqueue(() => this.receive(from, to, copy));
  }

  /** Wire mode: [B-4] [B-8] the transport's periodic sweep, at the network's clock. */
  sweep(): void {
    if (!this.wire) return;
    const now = this.wire.now();
    for (const member of this.endpoints.values()) {
      for (const [remote, link] of [...member.inbound]) {
        const v = link.sweep(now);
        if (v.drop !== null) this.dropFrom(member, remote, v.drop);
        else if (v.log !== null) member.handlers.error(new TransportError('bad-frame', `${remote}: ${v.log}`));
      }
    }
  }

  /** Wire mode: bytes held in reassembly by `at` for messages from `from`. */
  bufferedBytes(at: PeerId, from: PeerId): number {
    return this.endpoints.get(at)?.inbound.get(from)?.bufferedBytes ?? 0;
  }

  /** Delivers queued frames (and frames they cause) until nothing is left or `limit` is hit. */
  flush(limit = 1_000_000): number {
    let n = 0;
    while (n < limit && this.deliverNext()) n++;
    return n;
  }

  deliverNext(): boolean {
    const next = this.queue[this.head];
    if (!next) return false;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    next.run();
    return true;
  }

  pending(): number {
    return this.queue.length - this.head;
  }

  private addInbound(member: Member, remote: PeerId, opened: boolean): void {
    if (!this.wire || !this.dataPlane) return;
    member.inbound.set(remote, new InboundLink(this.dataPlane.budgets, this.dataPlane.limits, member.budget, opened, this.wire.now()));
  }

  /**
   * Queues the frame on the connection's ChunkQueue and one delivery per chunk: each delivery
   * takes whichever chunk the queue gives next, as the real transport's pump does.
   */
  private sendChunks(sender: Member, from: PeerId, to: PeerId, parts: Uint8Array[], dataPlane: DataPlaneOptions): void {
    let queue = sender.outgoing.get(to);
    if (!queue) {
      queue = new ChunkQueue(dataPlane.chunkBytes);
      sender.outgoing.set(to, queue);
    }
    const q = queue;
    q.enqueue(parts);
    const chunks = chunkCountOfParts(parts, dataPlane.chunkBytes);
    for (let i = 0; i < chunks; i++) {
      this.enqueue(() => {
        // A connection closed since has a queue of its own, or none: its chunks are gone.
        if (sender.outgoing.get(to) !== q) return;
        const c = q.next();
        if (c) this.receive(from, to, c);
      });
    }
  }

  private receive(from: PeerId, to: PeerId, chunk: Uint8Array): void {
    const member = this.endpoints.get(to);
    const link = member?.inbound.get(from);
    if (!member || !link || !member.links.has(from)) return;
    const r = link.receive(chunk, this.wire?.now() ?? 0);
    if (r.kind === 'frame') member.handlers.data(from, r.frame);
    else if (r.kind === 'progress') member.handlers.progress?.(from);
    else if (r.kind === 'drop') this.dropFrom(member, from, r.reason);
    else if (r.log !== null) member.handlers.error(new TransportError('bad-frame', `${from}: ${r.log}`));
  }

  /** As the real transport: the reason reported once, the connection closed. */
  private dropFrom(member: Member, remote: PeerId, reason: string): void {
    member.handlers.error(new TransportError('bad-frame', `dropped peer ${remote}: ${reason}`));
    for (const [id, m] of this.endpoints) if (m === member) this.unlink(id, remote);
  }

  private enqueue(run: () => void): void {
    this.queue.push({ run });
  }

  private unlink(a: PeerId, b: PeerId): void {
    const ea = this.endpoints.get(a);
    const eb = this.endpoints.get(b);
    ea?.inbound.get(b)?.clear();
    eb?.inbound.get(a)?.clear();
    ea?.inbound.delete(b);
    eb?.inbound.delete(a);
    ea?.outgoing.delete(b);
    eb?.outgoing.delete(a);
    if (ea?.links.delete(b)) ea.handlers.close(b);
    if (eb?.links.delete(a)) eb.handlers.close(a);
  }
}
