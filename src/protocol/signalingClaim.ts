/**
 * [K-7] The signaling server reserves a network's coordinator id (`quorum-<network>`) for the
 * holder of the network's key. Before it registers the id, a coordinator asks the server for a
 * fresh nonce, signs this payload with its key, and trades the signature for a ticket that it
 * then sends as peerjs' registration `token`. Shared by the page (which signs) and the server
 * (which checks); pure, so both build byte-identical payloads.
 */
import { isSafeId } from './ids.ts';

/** GET `?id=<coordinator id>`: a fresh nonce (text) to sign. */
export const SIGNALING_NONCE_PATH = '/peerjs/quorum/nonce';
/** POST a `SignalingClaim` (JSON): a ticket (text) for the id, or the reason it was refused. */
export const SIGNALING_CLAIM_PATH = '/peerjs/quorum/claim';

/** The id every network's coordinator registers (host/networkId.ts makes it). */
export const COORDINATOR_ID_PREFIX = 'quorum-';

export interface SignalingClaim {
  /** The coordinator id to reserve, `quorum-<network>`. */
  readonly id: string;
  /** The nonce the server handed out for this id. */
  readonly nonce: string;
  /** The key's SPKI, base64url (its fingerprint is what the server reserves the id for). */
  readonly publicKey: string;
  /** ECDSA P-256 / SHA-256 (P1363), base64url, over `signalingClaimPayload(id, nonce)`. */
  readonly signature: string;
}

/**
 * What is signed: ASCII lines, a fixed label first (so the signature means nothing anywhere else,
 * a [K-3] proof included), each ending in a newline. Both fields are ids of the protocol's
 * grammar (letters, digits, - and _); anything else is never signed.
 */
export function signalingClaimPayload(id: string, nonce: string): Uint8Array<ArrayBuffer> {
  if (!isSafeId(id) || !isSafeId(nonce)) throw new Error('a signaling claim names an id and a nonce of letters, digits, - or _');
  const text = `quorum-signaling-claim\nid=${id}\nnonce=${nonce}\n`;
  // ASCII only (checked above): one byte each, without TextEncoder (no DOM here).
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
