/**
 * [I-2] [I-3] A volunteer's outgoing hello and results, signed with its key as they leave: the
 * hello over the open connection's context (the coordinator's nonce, both ids, both DTLS
 * fingerprints), a result over (job, shard, lease, output digest, backend, adapter). Shared by
 * every volunteer shell (the driver of tabs and headless volunteers, the tests' Node volunteer).
 */
import type { Capabilities } from '../protocol/capabilities.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import type { LeaseId, ShardId } from '../protocol/ids.ts';
import type { ToCoordinator } from '../protocol/messages.ts';
import { jobOfShard, resultAdapter, type VolunteerProofContext } from '../protocol/volunteerProof.ts';
import { proveVolunteerKey, resultDigest, signResult, type VolunteerKeyIdentity } from './volunteerKey.ts';

/** What the signer needs of the link to the coordinator. */
export interface SigningLink {
  volunteerProofContext(): VolunteerProofContext | null;
  send(msg: ToCoordinator): boolean;
}

export type SignedFrame = Extract<ToCoordinator, { t: 'hello' | 'result' }>;

/** Whether `msg` leaves signed (a hello or a result). */
export function needsSignature(msg: ToCoordinator): msg is SignedFrame {
  return msg.t === 'hello' || msg.t === 'result';
}

export class VolunteerSigner {
  /** The key pair, once asked for. */
  private key: Promise<VolunteerKeyIdentity> | null = null;
  /** [I-3] The shard of each result this volunteer may still send, for its signature. */
  private readonly shardOfLease = new Map<LeaseId, ShardId>();

  constructor(
    private readonly networkId: string,
    private readonly loadKey: () => Promise<VolunteerKeyIdentity>,
  ) {}

  /** A result for `leaseId` (of `shardId`) is kept to be sent: its signature will name the shard. */
  noteResult(leaseId: LeaseId, shardId: ShardId): void {
    this.shardOfLease.set(leaseId, shardId);
  }

  /** The result for `leaseId` was acknowledged: it is not sent again. */
  forget(leaseId: LeaseId): void {
    this.shardOfLease.delete(leaseId);
  }

  /**
   * Signs `msg` and sends it on `link`. A hello signed for a connection that closed meanwhile is
   * not sent: the next connection's open sends a fresh one. A coordinator that sent no nonce
   * predates volunteer keys and gets the hello unsigned; a result of a lease the signer never
   * heard of goes unsigned (the coordinator decides).
   */
  async send(link: SigningLink, msg: SignedFrame, caps: Capabilities): Promise<void> {
    this.key ??= this.loadKey();
    const key = await this.key.catch((e: unknown) => {
      this.key = null; // asked again for the next frame
      throw new Error(`this volunteer's key could not be loaded, so nothing is signed: ${errorMessage(e)}`);
    });
    if (msg.t === 'hello') {
      const ctx = link.volunteerProofContext();
      if (ctx === null) {
        link.send(msg);
        return;
      }
      const keySig = await proveVolunteerKey(key, ctx);
      if (link.volunteerProofContext() === ctx) link.send({ ...msg, key: key.publicKey, keySig });
      return;
    }
    const shardId = this.shardOfLease.get(msg.leaseId);
    if (shardId === undefined) {
      link.send(msg);
      return;
    }
    const subject = {
      networkId: this.networkId,
      jobId: jobOfShard(shardId),
      shardId,
      leaseId: msg.leaseId,
      outputDigest: await resultDigest(msg.outputs, msg.answers),
      backend: msg.backend,
      adapter: resultAdapter(caps, msg.backend),
    };
    link.send({ ...msg, sig: await signResult(key, subject) });
  }
}
