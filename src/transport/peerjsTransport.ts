/**
 * The Transport in the browser: peerjs over the page's own WebRTC. The protocol and data plane
 * live in peerjsEndpoint.ts, shared with Node (nodeTransport.node.ts); this file holds what only
 * a page has — peerjs loaded as the bundler sees it, the WebRTC check, and the page closing.
 */
// [E-2] First: the page's RTCPeerConnection is counted from before peerjs loads (and constructs one).
import { pageConnections } from './pageConnections.ts';
import { Peer } from 'peerjs';
import type { PeerId } from '../protocol/ids.ts';
import { PRESENCE_PATH, readPresence, type Presence } from '../protocol/presence.ts';
import { DEFAULT_DATA_PLANE, type DataPlaneOptions } from './dataPlane.ts';
import { createPeerjsEndpoint, type PeerjsPlatform } from './peerjsEndpoint.ts';
import { TransportError, type Endpoint, type EndpointFactory, type SignalingConfig } from './transport.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/**
 * A closing tab may not get to close its channels itself, and its peers would then notice only
 * by silence (12-15 s, coordinatorLink.ts). Closing them on the way out tells them at once, so a
 * volunteer holds its results back from the first moment and reconnects without delay.
 */
function watchPageHide(closeAll: () => void): () => void {
  const onPageHide = (event: PageTransitionEvent): void => {
    if (!event.persisted) closeAll();
  };
  globalThis.addEventListener?.('pagehide', onPageHide);
  return () => globalThis.removeEventListener?.('pagehide', onPageHide);
}

const BROWSER: PeerjsPlatform = { Peer, watchLeaving: watchPageHide };

/** [E-4] Asks the app server beside signaling whether `peer` is registered now; never throws. */
async function askPresence(signaling: SignalingConfig, peer: PeerId): Promise<Presence> {
  const url = `${signaling.secure ? 'https' : 'http'}://${signaling.host}:${signaling.port}${PRESENCE_PATH}?id=${encodeURIComponent(peer)}`;
  try {
    const res = await fetch(url, { cache: 'no-store' });
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    return readPresence(peer, res.status, body, res.headers.get('Retry-After'));
  } catch (e) {
    return { kind: 'unknown', reason: `the presence check failed: ${errorMessage(e)}` };
  }
}

/**
 * [E-2] A page with no RTCPeerConnection left does not dial: the construction would only throw
 * inside peerjs. The caller hears why, and what to do.
 */
function budgeted(endpoint: Endpoint, onSpent: (error: TransportError) => void): Endpoint {
  return {
    ...endpoint,
    selfId: endpoint.selfId,
    connect(remote) {
      if (pageConnections.canConstruct()) return endpoint.connect(remote);
      const { used, limit } = pageConnections.status();
      // After connect() returns, as a refused dial is reported by a real one: the caller's
      // bookkeeping for the dial (its timers) is in place by then.
      queueMicrotask(() =>
        onSpent(
          new TransportError(
            'connection-budget',
            `this page has made ${used} of the ${limit} WebRTC connections a browser page may make in its life; open Quorum in a new tab to connect again`,
          ),
        ),
      );
    },
  };
}

export function peerjsEndpointFactory(signaling: SignalingConfig, dataPlane: Partial<DataPlaneOptions> = {}): EndpointFactory {
  const options = { ...DEFAULT_DATA_PLANE, ...dataPlane };
  const create = async (id: string | null, handlers: Parameters<EndpointFactory>[1]): Promise<Endpoint> => {
    if (typeof RTCPeerConnection === 'undefined') {
      throw new TransportError('webrtc-unsupported', 'This browser has no WebRTC (RTCPeerConnection); use a current Chrome, Edge or Firefox.');
    }
    return budgeted(await createPeerjsEndpoint(BROWSER, signaling, options, id, handlers), (error) => handlers.error(error));
  };
  return Object.assign(create, { presence: (peer: PeerId) => askPresence(signaling, peer) });
}
