/**
 * [I-2] [I-3] With volunteer keys on, a peer id belongs to the key that first proved itself under
 * it, and a result counts only with a signature by that key. The host checks signatures (real
 * WebCrypto, host/volunteerKey.test.ts); the core is told what it found, so these tests hand it
 * checks as the host would.
 */
import { describe, expect, it } from 'vitest';
import { asPeerId, type JobId, type PeerId } from '../../protocol/ids.ts';
import { REFUSED_ID_TAKEN, type ToCoordinator } from '../../protocol/messages.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { seededRng } from '../rng.ts';
import { only, sent, submitAndAdmit, type Out } from '../testing/coordinatorFrames.ts';
import { HASH_A, V, f32, hello, jobSpec, policy } from '../testing/fixtures.ts';
import { CoordinatorCore, KEY_CREDENTIAL } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import { DEFAULT_COORDINATOR_CONFIG, type PeerRecord, type SignatureCheck } from './state.ts';

/** A key as the host reports it once its proof checked (SPKI and fingerprint stand-ins). */
const key = (name: string): { publicKey: string; fingerprint: string } => ({
  publicKey: `spki-${name}`.padEnd(91, 'k'),
  fingerprint: `fp-${name}`.padEnd(43, 'f'),
});
const proved = (name: string, sig = 's'.repeat(86), outputDigest?: string): SignatureCheck => ({
  ok: true,
  ...key(name),
  sig,
  ...(outputDigest !== undefined ? { outputDigest } : {}),
});
const failed = (reason: string): SignatureCheck => ({ ok: false, reason });

class KeyRig {
  core = this.fresh();
  readonly peers = new Map<PeerId, PeerRecord>();

  fresh(): CoordinatorCore {
    return new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, peerTimeoutMs: 600_000, volunteerKeys: true }, seededRng(5));
  }

  run(fx: CoordinatorEffect[]): CoordinatorEffect[] {
    for (const e of fx) if (e.kind === 'persist') for (const p of e.peers) this.peers.set(p.peerId, JSON.parse(JSON.stringify(p)) as PeerRecord);
    return fx;
  }

  /** Connects `name` and says hello with `check` as the host's verdict on its key proof. */
  join(name: string, check: SignatureCheck | undefined, extra: Partial<Extract<ToCoordinator, { t: 'hello' }>> = {}): CoordinatorEffect[] {
    const id = asPeerId(name);
    this.run(this.core.connect(id, 0));
    return this.run(this.core.handle(id, { ...hello('volunteer'), ...extra } as ToCoordinator, 0, check));
  }

  submit(items: number): JobId {
    const req = asPeerId('req');
    this.core.connect(req, 0);
    this.core.handle(req, hello('requester'), 0);
    return submitAndAdmit(this.core, req, jobSpec(items, 1, policy(2, 2, 4)), 0, HASH_A, (fx) => this.run(fx));
  }

  lease(name: string): Out<'lease'> {
    return only(sent(this.run(this.core.handle(asPeerId(name), { v: V, t: 'lease-request' }, 0)), asPeerId(name)), 'lease');
  }

  deliver(name: string, l: Out<'lease'>, check: SignatureCheck | undefined): { outcome: string; reason: string } {
    const outputs: WireTensor[] = [f32('y', [1, 2], [1, 1])];
    const fx = this.core.handle(asPeerId(name), { v: V, t: 'result', leaseId: l.leaseId, outputs, backend: 'wasm', inferMs: 1 }, 0, check);
    const ack = only(sent(this.run(fx), asPeerId(name)), 'result-ack');
    return { outcome: ack.outcome, reason: ack.reason };
  }

  /** A reload: a fresh core with the stored volunteer ids put back. */
  reload(): void {
    this.core = this.fresh();
    for (const p of this.peers.values()) this.core.restorePeer(p);
  }
}

const refusal = (fx: CoordinatorEffect[]): Out<'refused'> | undefined => sent(fx).find((m): m is Out<'refused'> => m.t === 'refused');

describe('volunteer keys [I-2]', () => {
  it('[I-2] an id becomes the key’s that proved itself first; an impostor under it without that key is refused peer-id-taken', () => {
    const rig = new KeyRig();
    const welcome = only(sent(rig.join('a', proved('alice'))), 'welcome');
    expect(welcome.token).toBeUndefined(); // no bearer secret: the key is the credential
    rig.run(rig.core.disconnect(asPeerId('a'), 0));

    // Another key, a proof that did not check, no proof at all: all refused, the id stays alice's.
    expect(refusal(rig.join('a', proved('mallory')))?.code).toBe(REFUSED_ID_TAKEN);
    expect(refusal(rig.join('a', failed('the signature does not check')))?.reason).toMatch(/prove its key: the signature does not check/);
    expect(refusal(rig.join('a', undefined))?.reason).toMatch(/no key proof/);
    // A resume token is no way in either.
    expect(refusal(rig.join('a', proved('mallory'), { resume: 'f'.repeat(32) }))?.code).toBe(REFUSED_ID_TAKEN);
    rig.run(rig.core.tick(0)); // volunteer ids are stored with the tick's batch
    expect(rig.peers.get(asPeerId('a'))?.token).toBe(`${KEY_CREDENTIAL}${key('alice').fingerprint}`);

    // Alice, with her key, is served.
    expect(refusal(rig.join('a', proved('alice')))).toBeUndefined();
    expect(rig.core.peerSummaries().some((p) => p.peerId === 'a' && p.role === 'volunteer')).toBe(true);
  });

  it('[I-2] a restart keeps standing: after a reload the key holder keeps its counters and reputation; an impostor is still refused', () => {
    const rig = new KeyRig();
    rig.submit(2);
    rig.join('a', proved('alice'));
    rig.join('b', proved('bob'));
    expect(rig.deliver('a', rig.lease('a'), proved('alice')).outcome).toBe('received');
    expect(rig.deliver('b', rig.lease('b'), proved('bob')).outcome).toBe('received');
    rig.run(rig.core.disconnect(asPeerId('a'), 0));
    rig.run(rig.core.tick(1)); // the batch with a's standing
    rig.run(rig.core.persist(1));
    const validated = rig.core.reputation.get(asPeerId('a'))!.validated;
    expect(validated).toBe(1);

    rig.reload();
    expect(refusal(rig.join('a', proved('mallory')))?.code).toBe(REFUSED_ID_TAKEN);
    expect(refusal(rig.join('a', proved('alice')))).toBeUndefined();
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'a')!.shardsDone).toBe(1);
    expect(rig.core.reputation.get(asPeerId('a'))!.validated).toBe(validated);
  });

  it('[I-2] an id kept with an [I-1] token before keys becomes the key’s with that token, once; then the token is no way in', () => {
    const rig = new KeyRig();
    const token = 'ab'.repeat(16);
    rig.core.restorePeer({ peerId: asPeerId('a'), token, reputation: null, standing: { shardsAccepted: 3, resultsReturned: 4, resultsRejected: 0 } });
    expect(refusal(rig.join('a', proved('mallory')))?.code).toBe(REFUSED_ID_TAKEN);
    expect(refusal(rig.join('a', proved('alice'), { resume: token }))).toBeUndefined();
    expect(rig.core.peerSummaries().find((p) => p.peerId === 'a')!.shardsDone).toBe(3);
    rig.run(rig.core.disconnect(asPeerId('a'), 0));
    expect(refusal(rig.join('a', proved('mallory'), { resume: token }))?.code).toBe(REFUSED_ID_TAKEN);
  });
});

describe('signed results [I-3]', () => {
  it('[I-3] a result with a bad signature, another key’s, or none is rejected and counts nothing; a signed one counts', () => {
    const rig = new KeyRig();
    const jobId = rig.submit(1);
    rig.join('a', proved('alice'));
    const l = rig.lease('a');
    expect(rig.deliver('a', l, failed('the signature does not check'))).toEqual({
      outcome: 'rejected',
      reason: expect.stringMatching(/signature does not check/) as unknown as string,
    });
    expect(rig.deliver('a', l, proved('mallory')).outcome).toBe('rejected');
    expect(rig.deliver('a', l, undefined).outcome).toBe('rejected');
    expect(rig.core.shardsOf(jobId)[0]!.replicas).toEqual([]);
    expect(rig.core.reputation.get(asPeerId('a'))?.invalid ?? 0).toBe(0);
    expect(rig.deliver('a', l, proved('alice', 'A'.repeat(86))).outcome).toBe('received');
    expect(rig.core.shardsOf(jobId)[0]!.replicas.map((r) => r.signature)).toEqual(['A'.repeat(86)]);
  });

  it('[I-3] an accepted shard names its agreeing volunteers’ keys and result signatures, in the order of `volunteers`', () => {
    const rig = new KeyRig();
    const jobId = rig.submit(1);
    rig.join('a', proved('alice'));
    rig.join('b', proved('bob'));
    rig.deliver('a', rig.lease('a'), proved('alice', 'A'.repeat(86)));
    rig.deliver('b', rig.lease('b'), proved('bob', 'B'.repeat(86)));
    const [shard] = rig.core.verifiedShards(jobId);
    expect(shard!.volunteers).toEqual(['a', 'b']);
    expect(shard!.volunteerKeys).toEqual([key('alice').publicKey, key('bob').publicKey]);
    expect(shard!.resultSigs).toEqual(['A'.repeat(86), 'B'.repeat(86)]);
    expect(shard!.resultLeases).toEqual(rig.core.shardsOf(jobId)[0]!.replicas.map((r) => r.signedLeaseId));
    expect(new Set(shard!.resultLeases).size).toBe(2);
  });

  it('[I-3] an accepted shard keeps the output digest each agreeing volunteer signed, in the order of `volunteers`', () => {
    const rig = new KeyRig();
    const jobId = rig.submit(1);
    rig.join('a', proved('alice'));
    rig.join('b', proved('bob'));
    // Under tolerance the two outputs may differ in their last bits: each signed its own digest.
    rig.deliver('a', rig.lease('a'), proved('alice', 'A'.repeat(86), 'a'.repeat(64)));
    rig.deliver('b', rig.lease('b'), proved('bob', 'B'.repeat(86), 'b'.repeat(64)));
    expect(rig.core.shardsOf(jobId)[0]!.replicas.map((r) => r.signedDigest)).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
    const [shard] = rig.core.verifiedShards(jobId);
    expect(shard!.volunteers).toEqual(['a', 'b']);
    expect(shard!.resultDigests).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
  });
});
