import { describe, expect, it } from 'vitest';
import { CoordinatorTrust, cryptoNonce, localPinStore } from './coordinatorTrust.ts';
import { signProof } from './coordinatorKey.ts';
import { newIdentity } from './testing/provingCoordinator.ts';

/** A Storage over a Map: Node has no localStorage. */
function mapStorage(): Pick<Storage, 'getItem' | 'setItem'> & { readonly map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

const DTLS = { coordinator: `sha-256 ${'AB:'.repeat(31)}AB`, client: `sha-256 ${'CD:'.repeat(31)}CD` };

describe('[K-2] [K-4] [K-5] a client trusts its coordinator key', () => {
  it('[K-2] nonces are 128 bits from crypto.getRandomValues, base64url, different every call', () => {
    const a = cryptoNonce();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(Array.from({ length: 100 }, cryptoNonce)).size).toBe(100);
  });

  it('[K-4] pins the first key on first use in its storage, then refuses another; [K-5] trusting the new key pins it', async () => {
    const [real, other] = await Promise.all([newIdentity(), newIdentity()]);
    const storage = mapStorage();
    const trust = new CoordinatorTrust({ networkId: 'n1', linkFingerprint: null, pins: localPinStore(storage) });
    const nonce = trust.nonce();
    const ctx = { networkId: 'n1', nonce, dtls: DTLS };
    expect(await trust.check({ key: real.publicKey, sig: await signProof(real, ctx) }, nonce, DTLS)).toEqual({
      ok: true,
      fingerprint: real.fingerprint,
      firstUse: true,
    });
    expect([...storage.map.values()]).toEqual([real.fingerprint]);

    const refused = await trust.check({ key: other.publicKey, sig: await signProof(other, ctx) }, nonce, DTLS);
    expect(refused).toEqual({
      ok: false,
      kind: 'untrusted-key',
      alarm: { networkId: 'n1', expected: real.fingerprint, seen: other.fingerprint, source: 'pin' },
    });
    expect([...storage.map.values()]).toEqual([real.fingerprint]);

    trust.accept(other.fingerprint);
    expect(await trust.check({ key: other.publicKey, sig: await signProof(other, ctx) }, nonce, DTLS)).toMatchObject({ ok: true, firstUse: false });
    // Another tab of the origin sees the pin.
    const later = new CoordinatorTrust({ networkId: 'n1', linkFingerprint: null, pins: localPinStore(storage) });
    expect(await later.check({ key: real.publicKey, sig: await signProof(real, ctx) }, nonce, DTLS)).toMatchObject({ ok: false, kind: 'untrusted-key' });
  });

  it('a signature for another nonce is a bad proof, never an alarm', async () => {
    const real = await newIdentity();
    const trust = new CoordinatorTrust({ networkId: 'n1', linkFingerprint: null, pins: localPinStore(null) });
    const sig = await signProof(real, { networkId: 'n1', nonce: trust.nonce(), dtls: DTLS });
    expect(await trust.check({ key: real.publicKey, sig }, trust.nonce(), DTLS)).toMatchObject({ ok: false, kind: 'bad-proof' });
  });
});
