/**
 * The one interface the hosts use to talk to other tabs. `peerjsTransport.ts` implements it over
 * WebRTC DataChannels with PeerServer for signaling; `memoryTransport.ts` in-process for tests.
 * Frames are handed over as `unknown`: parsing them is the protocol layer's job, not this one's.
 */
import type { PeerId } from '../protocol/ids.ts';
import type { Presence } from '../protocol/presence.ts';
import type { Role } from '../protocol/messages.ts';
import type { DtlsFingerprints } from './sdpFingerprint.ts';

export interface EndpointHandlers {
  /** A connection to `peer` is open and ready to carry frames. */
  open(peer: PeerId): void;
  /** A frame arrived; nothing about it is trusted yet. */
  data(peer: PeerId, raw: unknown): void;
  /**
   * [P-8] A chunk of a frame from `peer` that is not whole yet was taken in. A big frame on a slow
   * link may take longer than any silence limit: a host that counts this as a sign of life never
   * drops a peer while its frame is still arriving.
   */
  progress?(peer: PeerId): void;
  /** The connection to `peer` closed (either side, or the network). */
  close(peer: PeerId): void;
  /** The signaling server went away or came back; open connections may live on. */
  signaling(state: 'connected' | 'lost'): void;
  /** A failure a person should see (e.g. "network id already in use"). */
  error(error: TransportError): void;
}

export interface Endpoint {
  readonly selfId: PeerId;
  /** Opens a connection; `handlers.open` fires when it is ready. */
  connect(peer: PeerId): void;
  /**
   * Sends one frame; returns false when there is no open connection to `peer`. Big binaries in the
   * frame are sent from the caller's own buffers, without a copy: they must not be changed or
   * transferred (detached) after this call. The protocol's binaries never are.
   */
  send(peer: PeerId, frame: unknown): boolean;
  /**
   * [B-3] [B-9] `peer` said hello as `role`: its connection gets its role's reassembly allowance
   * instead of the small pre-hello one (a requester the data plane's full limits). A no-op for a
   * connection this tab opened, or none.
   */
  greeted(peer: PeerId, role: Role): void;
  /**
   * [K-3] The DTLS certificate fingerprints of the open connection to `peer` (this end's and
   * the other's, normalised), as the connection's SDP names them; null without an open
   * connection. Both ends of one connection agree: one's `local` is the other's `remote`.
   */
  dtlsFingerprints(peer: PeerId): DtlsFingerprints | null;
  /** Closes one connection. */
  close(peer: PeerId): void;
  /** Leaves the network: closes every connection and the signaling link. */
  destroy(): void;
}

/**
 * Creates an endpoint; `id` null lets the signaling server choose one. [E-4] A factory whose dials
 * are scarce (a browser page's, [E-1]) also says whether a peer is registered with signaling now,
 * so that its clients dial only a peer that is there; the others leave `presence` out.
 */
export type EndpointFactory = ((id: string | null, handlers: EndpointHandlers) => Promise<Endpoint>) & {
  readonly presence?: (peer: PeerId) => Promise<Presence>;
};

/** 'bad-frame': a frame that could not be sent, or one from a peer that was dropped (with the reason). */
/** 'connection-budget': [E-2] the page has constructed all the RTCPeerConnections it may. */
export type TransportErrorKind = 'id-taken' | 'signaling-unreachable' | 'peer-unreachable' | 'webrtc-unsupported' | 'bad-frame' | 'connection-budget' | 'other';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Where PeerServer lives: on the app's own origin at /peerjs, unless configured otherwise. */
export interface SignalingConfig {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly secure: boolean;
  readonly iceServers: readonly RTCIceServer[];
  /** [K-7] The registration token peerjs sends: a coordinator's ticket for its reserved id. */
  readonly token?: string;
}
