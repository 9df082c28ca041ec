/**
 * The Transport in the browser: peerjs over the page's own WebRTC. The protocol and data plane
 * live in peerjsEndpoint.ts, shared with Node (nodeTransport.node.ts); this file holds what only
 * a page has — peerjs loaded as the bundler sees it, the WebRTC check, and the page closing.
 */
import { Peer } from 'peerjs';
import { DEFAULT_DATA_PLANE, type DataPlaneOptions } from './dataPlane.ts';
import { createPeerjsEndpoint, type PeerjsPlatform } from './peerjsEndpoint.ts';
import { TransportError, type EndpointFactory, type SignalingConfig } from './transport.ts';

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

export function peerjsEndpointFactory(signaling: SignalingConfig, dataPlane: Partial<DataPlaneOptions> = {}): EndpointFactory {
  const options = { ...DEFAULT_DATA_PLANE, ...dataPlane };
  return (id, handlers) => {
    if (typeof RTCPeerConnection === 'undefined') {
      return Promise.reject(new TransportError('webrtc-unsupported', 'This browser has no WebRTC (RTCPeerConnection); use a current Chrome, Edge or Firefox.'));
    }
    return createPeerjsEndpoint(BROWSER, signaling, options, id, handlers);
  };
}
