/**
 * The Transport over WebRTC DataChannels, signaled by our own PeerServer: the part the browser
 * (peerjsTransport.ts) and Node (nodeTransport.node.ts) share. It takes peerjs' `Peer` from the
 * platform file, because each platform loads peerjs its own way (Node must first put WebRTC and
 * a WebSocket into its globals).
 *
 * The data plane: peerjs carries raw bytes only (`serialization: 'raw'`); we encode each frame
 * ourselves (frameCodec.ts: a MessagePack skeleton, big binaries as parts of their own, never
 * copied into it), cut it into chunks with a small header (chunker.ts: one copy, into the chunk)
 * and feed the chunks to the RTCDataChannel with real backpressure: we send while
 * `bufferedAmount` is under a high-water mark, then wait for the channel's `bufferedamountlow`
 * event (no polling). The receiver reassembles within limits (message size, messages in progress,
 * bytes held) and drops malformed chunks and frames with a reason.
 *
 * Budgets ([B-1]…[B-5], PEER_BUDGETS): every connection's incoming side runs an InboundLink
 * (rates, the pre-hello allowance for connections another peer opened, expiry of stalled
 * messages, bad frames counted and logged in aggregate), and a peer whose send queue overflows
 * is dropped. A peer over a budget is closed, and the reason reported as a 'bad-frame' error.
 */
import type { DataConnection, Peer, PeerError } from 'peerjs';
import { asPeerId, type PeerId } from '../protocol/ids.ts';
import { ByteBudget, ChunkQueue, DEFAULT_INTERLEAVE } from './chunker.ts';
import { SWEEP_MS, type DataPlaneOptions } from './dataPlane.ts';
import { encodeFrame } from './frameCodec.ts';
import { InboundLink } from './inboundLink.ts';
import { sendQueueOverflow } from './peerGuard.ts';
import { dtlsFingerprintsOf } from './sdpFingerprint.ts';
import { TransportError, type Endpoint, type EndpointHandlers, type SignalingConfig } from './transport.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** Signaling reconnect attempts back off from 0.5 s to 10 s. */
const SIGNALING_RETRY_MS = [500, 1_000, 2_000, 5_000, 10_000];

/** One open connection's data plane: the chunks waiting to go out and the messages coming in. */
interface Link {
  readonly conn: DataConnection;
  readonly channel: RTCDataChannel;
  readonly outgoing: ChunkQueue;
  readonly incoming: InboundLink;
}

/**
 * What differs between the platforms: where `Peer` comes from, and what the platform does when
 * it goes away (a browser page closing).
 */
export interface PeerjsPlatform {
  /** peerjs' Peer class, loaded once the platform has WebRTC and a WebSocket in its globals. */
  readonly Peer: typeof Peer;
  /**
   * Called once per endpoint with a function that closes every open connection; returns how to
   * stop watching. A platform without such a moment leaves it out.
   */
  readonly watchLeaving?: (closeAll: () => void) => () => void;
  /**
   * How often a connection this endpoint opened is dialed again when its WebRTC connection fails
   * before it opens (0 when left out). A browser page spends one of its few RTCPeerConnections
   * on every dial, so only Node, where they are free, retries.
   */
  readonly dialRetries?: number;
}

/** How long closing waits for DataChannels to close before closing their peer connections. */
const CLOSE_GRACE_MS = 1_000;

/** The pause before dialing a failed connection again. */
const DIAL_RETRY_MS = 200;

export function createPeerjsEndpoint(
  platform: PeerjsPlatform,
  signaling: SignalingConfig,
  dataPlane: DataPlaneOptions,
  id: string | null,
  handlers: EndpointHandlers,
): Promise<Endpoint> {
  const { Peer: PeerClass } = platform;
  const options = {
    host: signaling.host,
    port: signaling.port,
    path: signaling.path,
    secure: signaling.secure,
    // Never the public STUN/TURN defaults: only what this deployment configured.
    config: { iceServers: [...signaling.iceServers] },
    debug: 1,
    ...(signaling.token !== undefined ? { token: signaling.token } : {}),
  };
  const peer = id === null ? new PeerClass(options) : new PeerClass(id, options);
  const links = new Map<PeerId, Link>();
  const budget = new ByteBudget(dataPlane.maxBufferedBytesAllPeers);
  let destroyed = false;
  let retries = 0;

  /** [B-8] A line about a peer's bad frames (already aggregated by its InboundLink). */
  const badFrames = (remote: PeerId, line: string): void => {
    handlers.error(new TransportError('bad-frame', `${remote}: ${line}`));
  };

  /** [B-1]…[B-5] A peer over a budget: its connection closed, with the reason logged once. */
  const dropPeer = (remote: PeerId, link: Link, reason: string): void => {
    handlers.error(new TransportError('bad-frame', `dropped peer ${remote}: ${reason}`));
    link.outgoing.clear();
    link.incoming.clear();
    link.conn.close();
  };

  // RTCDataChannel.send() copies what it is given, so every chunk is built in this one buffer.
  const scratch = new Uint8Array(dataPlane.chunkBytes);

  /** Feeds queued chunks to the channel until it holds `highWaterBytes`; `bufferedamountlow` resumes. */
  const pump = (link: Link): void => {
    const { channel, outgoing } = link;
    while (channel.readyState === 'open' && channel.bufferedAmount <= dataPlane.highWaterBytes) {
      const chunk = outgoing.next(scratch);
      if (!chunk) return;
      try {
        channel.send(chunk);
      } catch (e) {
        // The channel broke under us: a closed connection, reported by its close event.
        outgoing.clear();
        handlers.error(new TransportError('other', `sending to ${asPeerId(link.conn.peer)} failed: ${errorMessage(e)}`));
        link.conn.close();
        return;
      }
    }
  };

  const receive = (remote: PeerId, link: Link, raw: unknown): void => {
    const r = link.incoming.receive(raw, Date.now());
    if (r.kind === 'frame') handlers.data(remote, r.frame);
    else if (r.kind === 'progress') handlers.progress?.(remote);
    else if (r.kind === 'drop') dropPeer(remote, link, r.reason);
    else if (r.log !== null) badFrames(remote, r.log);
  };

  // [B-4] [B-8] Stalled messages expire and aggregated bad-frame lines go out even when a peer
  // has gone quiet.
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [remote, link] of [...links]) {
      const v = link.incoming.sweep(now);
      if (v.drop !== null) dropPeer(remote, link, v.drop);
      else if (v.log !== null) badFrames(remote, v.log);
    }
  }, SWEEP_MS);

  /** `opened`: this tab opened the connection ([B-3]: its remote needs no hello to be trusted with big frames). */
  const adopt = (conn: DataConnection, opened: boolean): void => {
    const remote = asPeerId(conn.peer);
    if (conn.serialization !== 'raw') {
      // A tab from an older build (peerjs' own packing): it could not read our frames, nor we its.
      handlers.error(new TransportError('other', `peer ${remote} runs an older Quorum; reload its page`));
      conn.on('open', () => conn.close());
      return;
    }
    conn.on('open', () => {
      const previous = links.get(remote);
      const channel = conn.dataChannel;
      channel.binaryType = 'arraybuffer';
      channel.bufferedAmountLowThreshold = dataPlane.lowWaterBytes;
      const link: Link = {
        conn,
        channel,
        outgoing: new ChunkQueue(dataPlane.chunkBytes, DEFAULT_INTERLEAVE),
        incoming: new InboundLink(dataPlane.budgets, dataPlane.limits, budget, opened, Date.now()),
      };
      channel.addEventListener('bufferedamountlow', () => pump(link));
      links.set(remote, link);
      if (previous && previous.conn !== conn) {
        previous.incoming.clear();
        previous.conn.close();
      }
      handlers.open(remote);
    });
    conn.on('data', (raw) => {
      const link = links.get(remote);
      if (link?.conn === conn) receive(remote, link, raw);
    });
    conn.on('close', () => {
      const link = links.get(remote);
      if (link?.conn === conn) {
        links.delete(remote);
        link.outgoing.clear();
        link.incoming.clear();
        handlers.close(remote);
      }
    });
    conn.on('error', (err) => {
      handlers.error(new TransportError('other', `connection to ${remote} failed: ${err.message}`));
    });
  };

  peer.on('connection', (conn) => adopt(conn, false));

  /**
   * Opens a connection to `remote`. node-datachannel, with several connections set up at once
   * in one process, now and then fails a DTLS handshake ("unknown CA") before the channel opens;
   * the connection then never opens, and all peerjs says is an anonymous 'webrtc' error. Where
   * the platform retries dials, such a dial is closed and made again, `retriesLeft` more times,
   * and only a dial that fails for good is reported.
   */
  const dial = (remote: PeerId, retriesLeft: number): void => {
    const conn = peer.connect(remote, { reliable: true, serialization: 'raw' });
    adopt(conn, true);
    if (platform.dialRetries === undefined) return;
    const pc = (conn as { peerConnection?: RTCPeerConnection }).peerConnection;
    const onState = (): void => {
      if (conn.open || destroyed || (pc?.connectionState !== 'failed' && pc?.connectionState !== 'closed')) return;
      pc.removeEventListener('connectionstatechange', onState);
      conn.close();
      if (retriesLeft <= 0) {
        handlers.error(
          new TransportError('other', `could not open a WebRTC connection to ${remote}: its handshake failed ${(platform.dialRetries ?? 0) + 1} times`),
        );
        return;
      }
      setTimeout(() => {
        if (!destroyed && !links.has(remote)) dial(remote, retriesLeft - 1);
      }, DIAL_RETRY_MS);
    };
    pc?.addEventListener('connectionstatechange', onState);
    conn.on('open', () => pc?.removeEventListener('connectionstatechange', onState));
  };

  const unwatch = platform.watchLeaving?.(() => {
    if (destroyed) return;
    for (const link of links.values()) link.conn.close();
  });
  /**
   * Closes `links` so that their peers hear of it: each DataChannel first, whose close reaches
   * the peer as a stream reset, and the peer connections only once the channels have closed (or
   * CLOSE_GRACE_MS passed). Closing a peer connection at once may cut the reset off (it does in
   * node-datachannel), and the peer then learns of the close only from silence, tens of seconds
   * later. `then` runs once, when all have closed or the grace is over.
   */
  const closeGently = (closing: readonly Link[], then: () => void): void => {
    const open = closing.filter((l) => l.channel.readyState === 'open');
    let left = open.length;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(grace);
      then();
    };
    const grace = setTimeout(finish, CLOSE_GRACE_MS);
    if (left === 0) finish();
    for (const l of open) {
      l.channel.addEventListener('close', () => {
        if (--left === 0) finish();
      });
      l.channel.close();
    }
  };

  const shutDown = (): void => {
    if (destroyed) return;
    destroyed = true;
    clearInterval(sweeper);
    unwatch?.();
    closeGently([...links.values()], () => peer.destroy());
  };

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
      dial(remote, platform.dialRetries ?? 0);
    },
    send(remote, frame) {
      const link = links.get(remote);
      if (!link || !link.conn.open) return false;
      let parts: Uint8Array[];
      try {
        parts = encodeFrame(frame, dataPlane.limits.maxMessageBytes);
      } catch (e) {
        handlers.error(new TransportError('bad-frame', `could not send a frame to ${remote}: ${errorMessage(e)}`));
        return false;
      }
      // [B-5] A peer that does not read is dropped rather than queued for without end.
      const overflow = sendQueueOverflow(
        link.outgoing.pendingBytes,
        link.outgoing.pendingMessages,
        parts.reduce((n, p) => n + p.byteLength, 0),
        dataPlane.budgets,
      );
      if (overflow !== null) {
        dropPeer(remote, link, overflow);
        return false;
      }
      link.outgoing.enqueue(parts);
      pump(link);
      return true;
    },
    greeted(remote, role) {
      links.get(remote)?.incoming.greet(role);
    },
    dtlsFingerprints(remote) {
      const link = links.get(remote);
      if (!link?.conn.open) return null;
      // peerjs keeps the connection's RTCPeerConnection, whose descriptions are set once it is open.
      return dtlsFingerprintsOf(link.conn.peerConnection ?? undefined);
    },
    close(remote) {
      const link = links.get(remote);
      if (link) closeGently([link], () => link.conn.close());
    },
    destroy: shutDown,
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
      // A failed handshake of a dial is retried, or reported once it fails for good (dial).
      if (err.type === 'webrtc' && platform.dialRetries !== undefined) return;
      const error = toTransportError(err, id);
      if (!opened) {
        // Before the signaling server has registered us there is nothing to keep: give up and
        // let the caller decide when to try again.
        shutDown();
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
      return new TransportError(
        'id-taken',
        `The peer id "${id ?? ''}" is already in use: another tab is coordinating this network. Close it, or pick another network name.`,
      );
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
