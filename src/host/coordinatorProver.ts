/**
 * [K-3] The coordinator's answer to a client's `challenge`: its public key and a signature over
 * this connection's proof payload (the nonce, the network, both ends' DTLS fingerprints as this
 * end sees them).
 */
import type { PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import type { Endpoint } from '../transport/transport.ts';
import { signProof, type CoordinatorIdentity } from './coordinatorKey.ts';

/** Signs and sends the proof for `peer`'s challenge; returns why not when it cannot (the connection closed). */
export async function answerChallenge(
  endpoint: Endpoint,
  identity: CoordinatorIdentity,
  networkId: string,
  peer: PeerId,
  nonce: string,
  /** [I-2] The nonce a volunteer signs with its own key on this connection. */
  volunteerNonce?: string,
): Promise<string | null> {
  const fps = endpoint.dtlsFingerprints(peer);
  if (fps === null) return `no DTLS fingerprints for ${peer}: its connection is not open`;
  const sig = await signProof(identity, { networkId, nonce, dtls: { coordinator: fps.local, client: fps.remote } });
  const mine = volunteerNonce !== undefined ? { nonce: volunteerNonce } : {};
  return endpoint.send(peer, { v: PROTOCOL_VERSION, t: 'proof', key: identity.publicKey, sig, ...mine }) ? null : `${peer} left before its proof was sent`;
}
