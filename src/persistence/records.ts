/** What is stored in IndexedDB, one record shape per object store. */
import type { SignedReceipt } from '../protocol/receipt.ts';
import type { JobId, LeaseId, PeerId, ShardId } from '../protocol/ids.ts';
import type { AcceptedResult, JobRecord, LeaseRecord, Replica, ShardStatus, Standing } from '../core/coordinator/state.ts';
import type { VerifiedShard } from '../protocol/messages.ts';

export interface StoredJob {
  readonly networkId: string;
  /**
   * With `inputPieces`, the inputs' `data` here are empty: their bytes are in `jobPieces`, input i
   * in `inputPieces[i]` pieces (v3). Without it (jobs stored by v1-v2), the bytes are inline.
   */
  readonly job: JobRecord;
  readonly inputPieces?: readonly number[];
  /**
   * [J-7] A job of files: its files' `bytes` above are empty; end to end they are in `jobPieces`
   * under input index `job.inputs.length`, in `filePieces` pieces, and `fileSizes` cuts them apart.
   */
  readonly filePieces?: number;
  readonly fileSizes?: readonly number[];
}

/** v3: one piece of one input's bytes of a stored job. */
export interface StoredJobPiece {
  readonly networkId: string;
  readonly jobId: JobId;
  readonly input: number;
  readonly piece: number;
  readonly bytes: ArrayBuffer;
}

export interface StoredShard {
  readonly jobId: JobId;
  readonly index: number;
  readonly status: ShardStatus;
  readonly disagreements: number;
  /** The accepted result: outputs, or [V-12] a pipeline job's answers (one per item). */
  readonly accepted: AcceptedResult | null;
  /**
   * [S-1] The replicas received so far (an open shard's, so a reload loses no result; a decided
   * shard's, so a later quarantine can still re-verify it). Absent in records of older builds.
   */
  readonly replicas?: readonly Replica[];
  /** The shard's epoch when written ([S-2]: the host reports which acceptance is durable). */
  readonly epoch?: number;
  /**
   * v4: with it, every output tensor's `data` above is empty and its bytes are in `shardPieces`
   * (see `shardPieceLayout.ts`). Without it (small results, and every shard stored by v1-v3), the
   * bytes are inline.
   */
  readonly pieces?: ShardPieceLayout;
}

/** v4: where a shard record's output bytes are: the write's tag, its pieces, and which buffer each tensor reads. */
export interface ShardPieceLayout {
  /** Tells this write's pieces from those of earlier or cut-short writes of the same shard. */
  readonly tag: number;
  readonly count: number;
  /** Byte length of each distinct buffer, in the order they follow one another across the pieces. */
  readonly buffers: readonly number[];
  /** For each tensor (the accepted outputs, then each replica's, in order), the buffer holding its bytes. */
  readonly slots: readonly number[];
}

/** v4: one piece of a stored shard's output bytes. */
export interface StoredShardPiece {
  readonly jobId: JobId;
  readonly index: number;
  readonly tag: number;
  readonly piece: number;
  readonly bytes: ArrayBuffer;
}

/** v2: one coordinator lease, as the core describes it ([S-1]), under its network. */
export interface StoredLease extends LeaseRecord {
  readonly networkId: string;
}

/** v2: a coordinator's record of one volunteer id. `reputation` is the reputation book's own snapshot. */
export interface StoredPeer {
  readonly networkId: string;
  readonly peerId: PeerId;
  /** [I-1] The resume token issued with this id's first welcome. */
  readonly token: string;
  readonly reputation: unknown;
  /** [P-7] Its standing counters, so a volunteer that comes back keeps them. Absent in older records. */
  readonly standing?: Standing;
  readonly updatedAtMs: number;
}

/** v2: a result a volunteer computed and the coordinator has not acknowledged yet. */
export interface StoredOutboxEntry {
  /** The volunteer's own peer id (stable per tab), so tabs sharing the database keep apart. */
  readonly volunteerId: string;
  readonly networkId: string;
  readonly leaseId: LeaseId;
  readonly shardId: ShardId;
  /** The `result` frame exactly as it will be sent. */
  readonly frame: unknown;
  readonly storedAtMs: number;
}

/** v5: a job this requester tab's network submitted and the coordinator accepted. */
export interface StoredRequesterJob {
  readonly networkId: string;
  readonly jobId: JobId;
  readonly name: string;
  readonly acceptedAtMs: number;
  /** The built-in workload's labels, to score its predictions again after a reload. */
  readonly labels?: Uint8Array;
  /** Set once its verified results are stored: how many items and their names ([J-6]). */
  readonly results?: {
    readonly items: number;
    readonly itemNames?: readonly string[];
    readonly shards: number;
    /** [AU-3] The coordinator's signed receipt for them, when it sent one (exports carry it after a reload too). */
    readonly receipt?: SignedReceipt;
  };
}

/** v5: one verified shard of a requester's job, exactly as `job-results` carried it. */
export interface StoredRequesterShard {
  readonly networkId: string;
  readonly jobId: JobId;
  readonly index: number;
  readonly shard: VerifiedShard;
}

/**
 * v6: [K-1] a network's coordinator key pair. The private key is a non-extractable CryptoKey:
 * IndexedDB keeps it as the browser's own handle, and no script (this app's included) can read
 * its bytes out, only sign with it.
 */
export interface StoredCoordinatorKey {
  readonly networkId: string;
  readonly keyPair: CryptoKeyPair;
  readonly createdAtMs: number;
}
