/**
 * The Transport in Node (headless volunteers, the requester CLI, tests): the same peerjs glue as
 * the browser (peerjsEndpoint.ts) over node-datachannel's WebRTC. peerjs expects a browser's
 * globals — RTCPeerConnection and friends, WebSocket — and tests for WebRTC once, when it is
 * first imported, so those globals are put in place before peerjs is loaded, and it is loaded
 * only then (a dynamic import, once per process).
 *
 * node-datachannel runs its own threads: a process exits only after `closeNodeTransport()`.
 */
import { cleanup } from 'node-datachannel';
import * as polyfill from 'node-datachannel/polyfill';
import WebSocket from 'ws';
import { DEFAULT_DATA_PLANE, type DataPlaneOptions } from './dataPlane.ts';
import { createPeerjsEndpoint, type PeerjsPlatform } from './peerjsEndpoint.ts';
import type { EndpointFactory, SignalingConfig } from './transport.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

/** The path PeerServer is mounted at on the app's origin (server/signaling.ts, SIGNALING_PATH). */
const SIGNALING_PATH = '/peerjs';

/** The browser globals peerjs reaches for, from node-datachannel's polyfill. */
const WEBRTC_GLOBALS = [
  'RTCPeerConnection',
  'RTCSessionDescription',
  'RTCIceCandidate',
  'RTCDataChannel',
  'RTCDataChannelEvent',
  'RTCPeerConnectionIceEvent',
  'RTCError',
] as const;

/** Dials again after a failed WebRTC handshake (peerjsEndpoint.ts): free in Node, unlike in a page. */
const NODE_DIAL_RETRIES = 2;

let platform: Promise<PeerjsPlatform> | null = null;

function loadPlatform(): Promise<PeerjsPlatform> {
  platform ??= (async () => {
    const g = globalThis as Record<string, unknown>;
    for (const name of WEBRTC_GLOBALS) g[name] ??= polyfill[name];
    // Node 22 has a WebSocket of its own; Node 20 has none without a flag.
    g.WebSocket ??= WebSocket;
    // peerjs' package.json points Node at its CommonJS build, whose exports arrive as `default`.
    const mod = (await import('peerjs')) as unknown as { default?: { Peer?: unknown }; Peer?: unknown };
    const Peer = (mod.Peer ?? mod.default?.Peer) as PeerjsPlatform['Peer'] | undefined;
    if (typeof Peer !== 'function') throw new Error('peerjs did not load: no Peer class in its exports');
    return { Peer, dialRetries: NODE_DIAL_RETRIES };
  })();
  return platform;
}

/** Endpoints in Node, signaled by the PeerServer `signaling` describes. */
export function nodeEndpointFactory(signaling: SignalingConfig, dataPlane: Partial<DataPlaneOptions> = {}): EndpointFactory {
  const options = { ...DEFAULT_DATA_PLANE, ...dataPlane };
  return async (id, handlers) => createPeerjsEndpoint(await loadPlatform(), signaling, options, id, handlers);
}

/**
 * Where signaling lives for a Quorum server at `serverUrl` (e.g. http://127.0.0.1:5173): its
 * /peerjs path, on the same origin. Throws a message naming what was wrong with the URL.
 */
export function signalingForServer(serverUrl: string, iceServers: readonly RTCIceServer[] = []): SignalingConfig {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new Error(`"${serverUrl}" is not a URL: give the Quorum server's address, e.g. http://127.0.0.1:5173`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`"${serverUrl}" is not an http(s) URL: give the Quorum server's address, e.g. http://127.0.0.1:5173`);
  const secure = url.protocol === 'https:';
  return { host: url.hostname, port: url.port === '' ? (secure ? 443 : 80) : Number(url.port), path: SIGNALING_PATH, secure, iceServers };
}

/**
 * Stops node-datachannel's threads so the process can exit. Destroy every endpoint first: their
 * connections die with it. A connection still closing when this runs makes node-datachannel give
 * up waiting ("cleanup timeout") and throw; that must not turn a clean stop (SIGTERM, Ctrl-C, a
 * test's teardown) into a failure after every write is done, so it is reported, not thrown.
 */
export function closeNodeTransport(warn: (text: string) => void = (text) => console.warn(text)): void {
  try {
    cleanup();
  } catch (e) {
    warn(`WebRTC (node-datachannel) did not shut down cleanly: ${errorMessage(e)}`);
  }
}
