/**
 * An in-process Transport for tests: endpoints on one `MemoryNetwork` reach each other by id.
 * Frames are queued and delivered only when the test calls `flush()` (or `deliverNext()`), so a
 * test decides the interleaving. Frames are structured-cloned, as a real channel would copy them.
 */
import { asPeerId, type PeerId } from '../protocol/ids.ts';
import { TransportError, type Endpoint, type EndpointFactory, type EndpointHandlers } from './transport.ts';

interface Pending {
  readonly run: () => void;
}

export class MemoryNetwork {
  private readonly endpoints = new Map<PeerId, { handlers: EndpointHandlers; links: Set<PeerId> }>();
  private readonly queue: Pending[] = [];
  private nextAnon = 0;

  readonly factory: EndpointFactory = (id, handlers) => Promise.resolve(this.create(id, handlers));

  create(id: string | null, handlers: EndpointHandlers): Endpoint {
    const selfId = asPeerId(id ?? `anon-${++this.nextAnon}`);
    if (this.endpoints.has(selfId)) throw new TransportError('id-taken', `peer id ${selfId} is already in use`);
    const me = { handlers, links: new Set<PeerId>() };
    this.endpoints.set(selfId, me);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the endpoint's methods need the network, not themselves
    const net = this;
    return {
      selfId,
      connect(remote) {
        net.enqueue(() => {
          const other = net.endpoints.get(remote);
          if (!other || !net.endpoints.has(selfId)) {
            handlers.error(new TransportError('peer-unreachable', `could not connect to peer ${remote}`));
            return;
          }
          me.links.add(remote);
          other.links.add(selfId);
          other.handlers.open(selfId);
          handlers.open(remote);
        });
      },
      send(remote, frame) {
        if (!me.links.has(remote)) return false;
        const copy = structuredClone(frame);
        net.enqueue(() => {
          if (me.links.has(remote)) net.endpoints.get(remote)?.handlers.data(selfId, copy);
        });
        return true;
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

  /** Delivers queued frames (and frames they cause) until nothing is left or `limit` is hit. */
  flush(limit = 1_000_000): number {
    let n = 0;
    while (n < limit && this.deliverNext()) n++;
    return n;
  }

  deliverNext(): boolean {
    const next = this.queue.shift();
    if (!next) return false;
    next.run();
    return true;
  }

  pending(): number {
    return this.queue.length;
  }

  private enqueue(run: () => void): void {
    this.queue.push({ run });
  }

  private unlink(a: PeerId, b: PeerId): void {
    const ea = this.endpoints.get(a);
    const eb = this.endpoints.get(b);
    if (ea?.links.delete(b)) ea.handlers.close(b);
    if (eb?.links.delete(a)) eb.handlers.close(a);
  }
}
