/**
 * [I-2] [I-3] The coordinator host's side of volunteer keys: the nonce each connection's
 * volunteer signs, the key it proved, and the checks of its hello and results, done before the
 * core sees them. Checks are asynchronous (WebCrypto), so while one is under way every later frame
 * of that peer waits behind it: the core sees a peer's frames in the order they came (a
 * `lease-request` never overtakes the result that frees a lease for it).
 */
import type { SignatureCheck } from '../core/coordinator/state.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import type { PeerId } from '../protocol/ids.ts';
import type { ToCoordinator } from '../protocol/messages.ts';
import type { Parsed } from '../protocol/parse.ts';
import type { ResultSubject } from '../protocol/volunteerProof.ts';
import type { Endpoint } from '../transport/transport.ts';
import { checkResultSignature, checkVolunteerProof, resultDigest } from './volunteerKey.ts';

type Result = Extract<ToCoordinator, { t: 'result' }>;

export interface VolunteerGateDeps {
  readonly networkId: string;
  /** [I-2] Whether volunteers must prove keys (the core's `volunteerKeys`): without, nothing is checked or held back. */
  readonly enabled: boolean;
  readonly endpoint: () => Endpoint | null;
  /** [I-3] The lease's job and shard and the adapter the core will record, or null (not this peer's lease). */
  readonly subject: (peer: PeerId, result: Result) => Omit<ResultSubject, 'networkId' | 'outputDigest' | 'leaseId' | 'backend'> | null;
  /** A fresh nonce of ≥ 128 bits from the platform's CSPRNG, as base64url or hex. */
  readonly newNonce: () => string;
  readonly log: (level: 'warn' | 'error', text: string) => void;
}

export class VolunteerGate {
  /** [I-2] The nonce sent in each connection's proof. */
  private readonly nonces = new Map<PeerId, string>();
  /** [I-2] The public key each connected volunteer proved. */
  private readonly keys = new Map<PeerId, string>();
  /** Frames of a peer waiting behind a check, in order. */
  private readonly queues = new Map<PeerId, Promise<void>>();
  /** Bumped when a peer's connection is forgotten: frames checked for an older one are dropped. */
  private readonly epochs = new Map<PeerId, number>();

  constructor(private readonly deps: VolunteerGateDeps) {}

  /** [I-2] The nonce this connection's volunteer signs (made on the first ask, one per connection). */
  nonceFor(peer: PeerId): string {
    let nonce = this.nonces.get(peer);
    if (nonce === undefined) {
      nonce = this.deps.newNonce();
      this.nonces.set(peer, nonce);
    }
    return nonce;
  }

  /** The connection opened afresh or closed: its nonce, key and waiting frames are void. */
  forget(peer: PeerId): void {
    this.nonces.delete(peer);
    this.keys.delete(peer);
    this.queues.delete(peer);
    this.epochs.set(peer, (this.epochs.get(peer) ?? 0) + 1);
  }

  /**
   * Hands `parsed` to `deliver` with the check a volunteer's hello or result needs, in the order
   * frames came. A peer forgotten meanwhile (its connection closed) gets nothing delivered.
   */
  admit(peer: PeerId, parsed: Parsed<ToCoordinator>, deliver: (checked: SignatureCheck | undefined) => void): void {
    const waiting = this.queues.get(peer);
    const msg = parsed.ok ? parsed.msg : null;
    const needsCheck = this.deps.enabled && msg !== null && ((msg.t === 'hello' && msg.role === 'volunteer') || msg.t === 'result');
    if (waiting === undefined && !needsCheck) {
      deliver(undefined);
      return;
    }
    const epoch = this.epochs.get(peer) ?? 0;
    const run: Promise<void> = (waiting ?? Promise.resolve())
      .then(async () => {
        const checked = needsCheck && msg ? await this.check(peer, msg) : undefined;
        if ((this.epochs.get(peer) ?? 0) !== epoch) return; // forgotten: that connection is gone
        deliver(checked);
      })
      .catch((e: unknown) => this.deps.log('error', `checking a frame from ${peer} failed: ${errorMessage(e)}`))
      .finally(() => {
        if (this.queues.get(peer) === run) this.queues.delete(peer);
      });
    this.queues.set(peer, run);
  }

  private async check(peer: PeerId, msg: ToCoordinator): Promise<SignatureCheck | undefined> {
    if (msg.t === 'hello') {
      const fps = this.deps.endpoint()?.dtlsFingerprints(peer) ?? null;
      const nonce = this.nonces.get(peer);
      const ctx =
        fps && nonce !== undefined ? { networkId: this.deps.networkId, nonce, peerId: peer, dtls: { coordinator: fps.local, client: fps.remote } } : null;
      const checked = await checkVolunteerProof(msg.key, msg.keySig, ctx);
      if (checked.ok) this.keys.set(peer, checked.publicKey);
      return checked;
    }
    if (msg.t !== 'result') return undefined;
    const about = this.deps.subject(peer, msg);
    const subject = about
      ? {
          ...about,
          networkId: this.deps.networkId,
          leaseId: msg.leaseId,
          backend: msg.backend,
          outputDigest: await resultDigest(msg.outputs, msg.answers),
        }
      : null;
    return checkResultSignature(this.keys.get(peer), msg.sig, subject);
  }
}
