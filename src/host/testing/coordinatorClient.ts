/**
 * A test peer of a coordinator host on a MemoryNetwork: it connects to `coordinator`, parses
 * every frame it receives with the parser real peers use, and keeps them in order. An
 * unparseable frame or a transport error fails the test where it happens instead of being
 * dropped: a host that sends what its peers cannot read is broken whatever the test checks.
 */
import type { FromCoordinator } from '../../protocol/messages.ts';
import type { PeerId } from '../../protocol/ids.ts';
import { parseFromCoordinator } from '../../protocol/parse.ts';
import type { MemoryNetwork } from '../../transport/memoryTransport.ts';
import type { Endpoint } from '../../transport/transport.ts';

export interface CoordinatorClient {
  readonly ep: Endpoint;
  /** Every frame received, parsed, in arrival order. */
  readonly received: FromCoordinator[];
  /** Sends `msg` to the coordinator (unchecked: tests send hostile frames too). */
  send(msg: unknown): boolean;
}

/** `id` null: an anonymous endpoint. Connects at once; frames flow when the test flushes `net`. */
export function coordinatorClient(net: MemoryNetwork, id: string | null, coordinator: PeerId): CoordinatorClient {
  const received: FromCoordinator[] = [];
  const ep = net.create(id, {
    open: () => undefined,
    data: (_peer, raw) => {
      const p = parseFromCoordinator(raw);
      if (!p.ok) throw new Error(`the coordinator sent an unparseable frame: ${p.error.reason}`);
      received.push(p.msg);
    },
    close: () => undefined,
    signaling: () => undefined,
    error: (e) => {
      throw e;
    },
  });
  ep.connect(coordinator);
  return { ep, received, send: (msg) => ep.send(coordinator, msg) };
}
