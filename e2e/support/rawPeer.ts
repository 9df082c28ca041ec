/**
 * A peer of the coordinator that is no page: peerjs over node-datachannel from the test process
 * (the Node transport), through the e2e server's real signaling. It sends whatever frames a test
 * gives it, as a hostile client would, and keeps every frame the coordinator sends back, parsed.
 */
import { asPeerId } from '../../src/protocol/ids.ts';
import type { FromCoordinator } from '../../src/protocol/messages.ts';
import { parseFromCoordinator } from '../../src/protocol/parse.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from '../../src/transport/nodeTransport.node.ts';
import type { Endpoint } from '../../src/transport/transport.ts';

export interface RawPeer {
  /** Frames received on the current connection, in order. */
  readonly received: FromCoordinator[];
  /** Opens a fresh connection to the coordinator (a new peerjs connection, nothing received yet). */
  reconnect(): Promise<void>;
  send(frame: unknown): boolean;
  close(): void;
}

export async function rawPeer(origin: string, networkId: string): Promise<RawPeer> {
  const coordinator = asPeerId(`quorum-${networkId}`);
  const received: FromCoordinator[] = [];
  let opened: (() => void) | null = null;
  const endpoint: Endpoint = await nodeEndpointFactory(signalingForServer(origin))(null, {
    open: () => opened?.(),
    data: (_peer, raw) => {
      const p = parseFromCoordinator(raw);
      if (p.ok) received.push(p.msg);
    },
    close: () => undefined,
    signaling: () => undefined,
    error: () => undefined,
  });
  const reconnect = async (): Promise<void> => {
    endpoint.close(coordinator);
    received.length = 0;
    const open = new Promise<void>((resolve) => (opened = resolve));
    endpoint.connect(coordinator);
    await open;
  };
  await reconnect();
  return {
    received,
    reconnect,
    send: (frame) => endpoint.send(coordinator, frame),
    close: () => {
      endpoint.destroy();
      closeNodeTransport(() => undefined);
    },
  };
}
