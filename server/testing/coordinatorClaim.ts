/**
 * For the server's tests: a [K-7] coordinator id claim over real HTTP, made as a coordinator
 * makes it (nonce, signature with the network's key, ticket), or the server's refusal.
 */
import { expect } from 'vitest';
import { signBytes, type CoordinatorIdentity } from '../../src/host/coordinatorKey.ts';
import { SIGNALING_CLAIM_PATH, SIGNALING_NONCE_PATH, signalingClaimPayload } from '../../src/protocol/signalingClaim.ts';

export async function nonceFor(base: string, id: string): Promise<Response> {
  return fetch(`${base}${SIGNALING_NONCE_PATH}?id=${encodeURIComponent(id)}`);
}

/** The whole claim: `text` is the ticket when `status` is 200, else the reason. */
export async function claim(base: string, id: string, who: CoordinatorIdentity): Promise<{ status: number; text: string }> {
  const n = await nonceFor(base, id);
  expect(n.status).toBe(200);
  const nonce = await n.text();
  const signature = await signBytes(who.privateKey, signalingClaimPayload(id, nonce));
  const res = await fetch(`${base}${SIGNALING_CLAIM_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, nonce, publicKey: who.publicKey, signature }),
  });
  return { status: res.status, text: await res.text() };
}
