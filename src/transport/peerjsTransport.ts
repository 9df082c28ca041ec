/**
 * The Transport over WebRTC DataChannels, signaled by our own PeerServer. The only file that
 * imports peerjs.
 */
import { Peer, type DataConnection, type PeerError } from 'peerjs';
import { asPeerId, type PeerId } from '../protocol/ids.ts';
import { TransportError, type Endpoint, type EndpointFactory, type EndpointHandlers, type SignalingConfig } from './transport.ts';

/** Signaling reconnect attempts back off from 0.5 s to 10 s. */
const SIGNALING_RETRY_MS = [500, 1_000, 2_000, 5_000, 10_000];

export function peerjsEndpointFactory(signaling: SignalingConfig): EndpointFactory {
  return (id, handlers) => createEndpoint(signaling, id, handlers);
}

function createEndpoint(signaling: SignalingConfig, id: string | null, handlers: EndpointHandlers): Promise<Endpoint> {
  if (typeof RTCPeerConnection === 'undefined') {
    return Promise.reject(new TransportError('webrtc-unsupported', 'This browser has no WebRTC (RTCPeerConnection); use a current Chrome, Edge or Firefox.'));
  }
  const options = {
    host: signaling.host,
    port: signaling.port,
    path: signaling.path,
    secure: signaling.secure,
    // Never the public STUN/TURN defaults: only what this deployment configured.
    config: { iceServers: [...signaling.iceServers] },
    debug: 1,
  };
  const peer = id === null ? new Peer(options) : new Peer(id, options);
  const conns = new Map<PeerId, DataConnection>();
  let destroyed = false;
  let retries = 0;

  const adopt = (conn: DataConnection): void => {
    const remote = asPeerId(conn.peer);
    conn.on('open', () => {
      const previous = conns.get(remote);
      conns.set(remote, conn);
      if (previous && previous !== conn) previous.close();
      handlers.open(remote);
    });
    conn.on('data', (raw) => {
      if (conns.get(remote) === conn) handlers.data(remote, raw);
    });
    conn.on('close', () => {
      if (conns.get(remote) === conn) {
        conns.delete(remote);
        handlers.close(remote);
      }
    });
    conn.on('error', (err) => {
      handlers.error(new TransportError('other', `connection to ${remote} failed: ${err.message}`));
    });
  };

  peer.on('connection', adopt);

  peer.on('disconnected', () => {
    if (destroyed) return;
    handlers.signaling('lost');
    const delay = SIGNALING_RETRY_MS[Math.min(retries++, SIGNALING_RETRY_MS.length - 1)] ?? 10_000;
    setTimeout(() => {
      if (!destroyed && peer.disconnected && !peer.destroyed) peer.reconnect();
    }, delay);
  });

  const endpoint = (selfId: PeerId): Endpoint => ({
    selfId,
    connect(remote) {
      adopt(peer.connect(remote, { reliable: true, serialization: 'binary' }));
    },
    send(remote, frame) {
      const conn = conns.get(remote);
      if (!conn || !conn.open) return false;
      void conn.send(frame);
      return true;
    },
    close(remote) {
      conns.get(remote)?.close();
    },
    destroy() {
      destroyed = true;
      peer.destroy();
    },
  });

  return new Promise((resolve, reject) => {
    let opened = false;
    peer.on('open', (assigned) => {
      retries = 0;
      if (!opened) {
        opened = true;
        resolve(endpoint(asPeerId(assigned)));
      }
      handlers.signaling('connected');
    });
    peer.on('error', (err: PeerError<string>) => {
      const error = toTransportError(err, id);
      if (!opened) {
        // Before the signaling server has registered us there is nothing to keep: give up and
        // let the caller decide when to try again.
        destroyed = true;
        peer.destroy();
        reject(error);
        return;
      }
      handlers.error(error);
    });
  });
}

function toTransportError(err: PeerError<string>, id: string | null): TransportError {
  switch (err.type) {
    case 'unavailable-id':
      return new TransportError('id-taken', `The peer id "${id ?? ''}" is already in use: another tab is coordinating this network. Close it, or pick another network name.`);
    case 'peer-unavailable':
      return new TransportError('peer-unreachable', `${err.message}. Is the coordinator tab open?`);
    case 'network':
    case 'server-error':
    case 'socket-error':
    case 'socket-closed':
      return new TransportError('signaling-unreachable', `Signaling server unreachable (${err.message}); retrying.`);
    case 'browser-incompatible':
      return new TransportError('webrtc-unsupported', 'This browser does not support the WebRTC features Quorum needs.');
    default:
      return new TransportError('other', `${err.type}: ${err.message}`);
  }
}
