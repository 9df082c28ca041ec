/**
 * [K-7] Before a coordinator registers its network's id it claims it from the signaling server:
 * it signs the server's nonce with the network's key and registers with the ticket it gets back
 * as peerjs' `token`. The server then gives the id to no other key — a page that took it while
 * this coordinator was away can no longer hold it (protocol/signalingClaim.ts, server/coordinatorIds.ts).
 */
import { SIGNALING_CLAIM_PATH, SIGNALING_NONCE_PATH, signalingClaimPayload, type SignalingClaim } from '../protocol/signalingClaim.ts';
import type { EndpointFactory, SignalingConfig } from '../transport/transport.ts';
import { signBytes, type CoordinatorIdentity } from './coordinatorKey.ts';

/** The signaling server reserved the id for another key: registering cannot succeed. */
export class CoordinatorIdReservedError extends Error {
  override name = 'CoordinatorIdReservedError';
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

function baseOf(signaling: SignalingConfig): string {
  const host = signaling.host.includes(':') ? `[${signaling.host}]` : signaling.host;
  return `${signaling.secure ? 'https' : 'http'}://${host}:${signaling.port}`;
}

/**
 * A ticket for `id`, or null when the server does not reserve ids (a server from before [K-7]
 * answers 404): the id is then registered as before. A refusal throws, saying what to do.
 */
export async function claimCoordinatorId(
  signaling: SignalingConfig,
  id: string,
  identity: CoordinatorIdentity,
  fetchFn: Fetch = fetch,
): Promise<string | null> {
  const base = baseOf(signaling);
  const n = await fetchFn(`${base}${SIGNALING_NONCE_PATH}?id=${encodeURIComponent(id)}`, { cache: 'no-store' });
  if (n.status === 404) return null;
  if (!n.ok) throw new Error(`the signaling server gave no nonce to claim "${id}" (HTTP ${n.status}: ${(await n.text()).slice(0, 200)}); retrying`);
  const nonce = await n.text();
  const signature = await signBytes(identity.privateKey, signalingClaimPayload(id, nonce));
  const res = await fetchFn(`${base}${SIGNALING_CLAIM_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, nonce, publicKey: identity.publicKey, signature } satisfies SignalingClaim),
  });
  const text = (await res.text()).slice(0, 300);
  if (res.status === 403) {
    throw new CoordinatorIdReservedError(
      `the signaling server keeps "${id}" for another key (${text}). If this is your network, its key changed (storage cleared?): ` +
        'restart the signaling server, or set QUORUM_COORDINATOR_KEYS to this key there.',
    );
  }
  if (!res.ok) throw new Error(`the signaling server refused the claim of "${id}" (HTTP ${res.status}: ${text}); retrying`);
  return text;
}

/**
 * `make`'s endpoints, each registered with a fresh ticket for its id (a new claim per
 * registration: tickets are cheap and a fresh one never expired).
 */
export function claimingFactory(
  signaling: SignalingConfig,
  identity: CoordinatorIdentity,
  make: (signaling: SignalingConfig) => EndpointFactory,
  fetchFn: Fetch = fetch,
): EndpointFactory {
  return async (id, handlers) => {
    const token = id === null ? null : await claimCoordinatorId(signaling, id, identity, fetchFn);
    return make(token === null ? signaling : { ...signaling, token })(id, handlers);
  };
}
