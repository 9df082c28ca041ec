/**
 * [I-2] [I-3] Volunteer key proofs and result signatures with real WebCrypto keys: what checks,
 * and what a replay, a relay, an impostor or a tampered result fails.
 */
import { describe, expect, it } from 'vitest';
import { asLeaseId, asPeerId, shardIdOf, type JobId } from '../protocol/ids.ts';
import type { ResultSubject, VolunteerProofContext } from '../protocol/volunteerProof.ts';
import type { WireTensor } from '../protocol/tensor.ts';
import { f32 } from '../core/testing/fixtures.ts';
import { generateCoordinatorKeyPair, identityOf } from './coordinatorKey.ts';
import { checkResultSignature, checkVolunteerProof, proveVolunteerKey, resultDigest, signResult } from './volunteerKey.ts';
import { VolunteerGate } from './volunteerGate.ts';
import { PROTOCOL_VERSION, type ToCoordinator } from '../protocol/messages.ts';
import type { SignatureCheck } from '../core/coordinator/state.ts';

const A = `sha-256 ${Array.from({ length: 32 }, () => 'AA').join(':')}`;
const B = `sha-256 ${Array.from({ length: 32 }, () => 'BB').join(':')}`;
const C = `sha-256 ${Array.from({ length: 32 }, () => 'CC').join(':')}`;
const ctx: VolunteerProofContext = { networkId: 'net1', nonce: 'QUJDREVGR0hJSktMTU5PUA', peerId: 'v-alice', dtls: { coordinator: A, client: B } };
const newKey = async () => identityOf(await generateCoordinatorKeyPair());

/** A gate over the test connection (fingerprints A and B, the context's nonce), leasing `subject`. */
function testGate(subject: ConstructorParameters<typeof VolunteerGate>[0]['subject']): VolunteerGate {
  return new VolunteerGate({
    networkId: 'net1',
    enabled: true,
    endpoint: () => ({ dtlsFingerprints: () => ({ local: A, remote: B }) }) as never,
    subject,
    newNonce: () => ctx.nonce,
    log: () => undefined,
  });
}

/** A volunteer's hello proving `key` over the test connection ([I-2]). */
async function signedHello(key: Awaited<ReturnType<typeof newKey>>): Promise<ToCoordinator> {
  return {
    v: PROTOCOL_VERSION,
    t: 'hello',
    role: 'volunteer',
    caps: { backend: 'wasm', adapter: null, backendReason: '', ortVersion: '1', threads: 1 },
    label: 'v',
    key: key.publicKey,
    keySig: await proveVolunteerKey(key, ctx),
  };
}

describe('volunteer key proof [I-2]', () => {
  it('[I-2] checks for the key on this connection, with its fingerprint; fails for another nonce, peer id, network, relay or key', async () => {
    const alice = await newKey();
    const sig = await proveVolunteerKey(alice, ctx);
    const ok = await checkVolunteerProof(alice.publicKey, sig, ctx);
    expect(ok).toEqual({ ok: true, publicKey: alice.publicKey, fingerprint: alice.fingerprint, sig });
    for (const other of [
      { ...ctx, nonce: 'WllZWVlZWVlZWVlZWVlZWQ' }, // a replay on another connection
      { ...ctx, peerId: 'v-mallory' },
      { ...ctx, networkId: 'net2' },
      { ...ctx, dtls: { coordinator: A, client: C } }, // a relay terminates DTLS itself
    ]) {
      expect((await checkVolunteerProof(alice.publicKey, sig, other)).ok).toBe(false);
    }
    const mallory = await newKey();
    expect((await checkVolunteerProof(mallory.publicKey, sig, ctx)).ok).toBe(false); // alice's signature under mallory's key
    expect(await checkVolunteerProof(undefined, undefined, ctx)).toEqual({ ok: false, reason: 'the hello carries no key and signature' });
    expect((await checkVolunteerProof('not-a-key'.repeat(10), sig, ctx)).ok).toBe(false); // garbage is a "no", not a throw
  });
});

describe('result signatures [I-3]', () => {
  const outputs: WireTensor[] = [f32('y', [2, 2], [1, 2, 3, 4])];
  const subjectOf = async (o: readonly WireTensor[]): Promise<ResultSubject> => ({
    networkId: 'net1',
    jobId: 'job1',
    shardId: shardIdOf('job1' as JobId, 0),
    leaseId: 'l1',
    outputDigest: await resultDigest(o, undefined),
    backend: 'wasm',
    adapter: null,
  });

  it('[I-3] a signed result checks; changing one number, the lease, the backend or the key fails', async () => {
    const alice = await newKey();
    const subject = await subjectOf(outputs);
    const sig = await signResult(alice, subject);
    expect((await checkResultSignature(alice.publicKey, sig, subject)).ok).toBe(true);
    const tampered = await subjectOf([f32('y', [2, 2], [1, 2, 3, 5])]);
    expect(tampered.outputDigest).not.toBe(subject.outputDigest);
    expect((await checkResultSignature(alice.publicKey, sig, tampered)).ok).toBe(false);
    expect((await checkResultSignature(alice.publicKey, sig, { ...subject, leaseId: 'l2' })).ok).toBe(false);
    expect((await checkResultSignature(alice.publicKey, sig, { ...subject, backend: 'webgpu' })).ok).toBe(false);
    expect((await checkResultSignature((await newKey()).publicKey, sig, subject)).ok).toBe(false);
    expect(await checkResultSignature(alice.publicKey, undefined, subject)).toEqual({ ok: false, reason: 'the result is not signed' });
  });

  it('[I-3] the gate checks a result with the key its volunteer proved, and keeps the peer’s frames in order behind the check', async () => {
    const alice = await newKey();
    const peer = asPeerId('v-alice');
    const gate = testGate(() => ({ jobId: 'job1', shardId: shardIdOf('job1' as JobId, 0), adapter: null }));
    expect(gate.nonceFor(peer)).toBe(ctx.nonce);
    const seen: [string, SignatureCheck | undefined][] = [];
    const admit = (msg: ToCoordinator): void => gate.admit(peer, { ok: true, msg }, (checked) => seen.push([msg.t, checked]));
    const hello = await signedHello(alice);
    const result = (sig: string | undefined, o = outputs): ToCoordinator => ({
      v: PROTOCOL_VERSION,
      t: 'result',
      leaseId: asLeaseId('l1'),
      outputs: o,
      backend: 'wasm',
      inferMs: 1,
      ...(sig !== undefined ? { sig } : {}),
    });
    const sig = await signResult(alice, await subjectOf(outputs));
    admit(hello);
    admit(result(sig));
    admit(result(sig, [f32('y', [2, 2], [9, 9, 9, 9])]));
    admit({ v: PROTOCOL_VERSION, t: 'lease-request' });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map(([t, c]) => [t, c?.ok])).toEqual([
      ['hello', true],
      ['result', true],
      ['result', false],
      ['lease-request', undefined],
    ]);
  });
});

describe('the volunteer gate across connections [I-2]', () => {
  it('[I-2] frames still waiting behind a check when their connection closes are dropped; the next connection’s hello is checked afresh', async () => {
    const alice = await newKey();
    const peer = asPeerId('v-alice');
    const gate = testGate(() => null);
    const seen: [string, boolean | undefined][] = [];
    const admit = (msg: ToCoordinator): void => gate.admit(peer, { ok: true, msg }, (checked) => seen.push([msg.t, checked?.ok]));
    const hello = await signedHello(alice);
    gate.nonceFor(peer);
    admit(hello);
    admit({ v: PROTOCOL_VERSION, t: 'lease-request' });
    // The connection closes while the hello's check is under way: the core has dropped the peer,
    // and a frame of the old connection must not reach it as if from the new one.
    gate.forget(peer);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]);
    gate.nonceFor(peer);
    admit(hello);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([['hello', true]]);
  });
});
