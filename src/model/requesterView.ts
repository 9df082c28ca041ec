/** What the requester dashboard shows beyond submissions and jobs: the job being prepared, rates. */
import type { TensorDtype } from '../protocol/tensor.ts';
import type { ModelSignature } from '../runtime/engine.ts';
import type { ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';
import type { JobId } from '../protocol/ids.ts';
import type { ResolvedPolicy } from '../protocol/policy.ts';
import type { JobStatus } from '../protocol/messages.ts';
import type { AssembledResults } from '../workloads/export/assemble.ts';
import type { RoleConnectionView } from './connection.ts';
import type { LogLine } from './log.ts';

/** The uploaded model, as the dashboard inspected it in this tab. */
export interface ModelDraft {
  readonly fileName: string;
  readonly bytes: number;
  readonly state: 'inspecting' | 'ready' | 'error';
  readonly signature: ModelSignature | null;
  /** Why the model cannot be used ("not an ONNX model", "the runtime cannot load it"). */
  readonly error: string | null;
}

/** One input tensor made from the chosen files. */
export interface DraftInput {
  readonly name: string;
  readonly dtype: TensorDtype;
  readonly dims: readonly number[];
  /** The file(s) it came from. */
  readonly source: string;
}

export interface RequesterDraft {
  readonly model: ModelDraft | null;
  readonly inputs: readonly DraftInput[];
  /** A file that could not be read as a tensor (bad .npy, ragged JSON, undecodable image). */
  readonly inputError: string | null;
  /** Everything that stops the job from being submitted now; [] when it can go. */
  readonly problems: readonly string[];
  /** Images waiting to become a tensor, and how. */
  readonly imageCount: number;
  readonly imagePreprocessing: ImagePreprocessing;
  readonly busy: boolean;
  /** [J-5] The shard size to propose for the chosen model (its outputs within the per-shard budget); null without one. */
  readonly proposedShardSize: number | null;
}

export interface JobRate {
  /** Verified items per second over the last few seconds; null until measurable. */
  readonly itemsPerSec: number | null;
  /** Time left at that rate; null when unknown, 0 when done. */
  readonly etaMs: number | null;
}

/** The files chosen for a built-in workload of files (OCR, VAD), as checked in this tab. */
export interface WorkloadFilesView {
  readonly workloadId: string | null;
  readonly state: 'none' | 'checking' | 'ready' | 'error';
  readonly count: number;
  readonly bytes: number;
  /** Hidden files of a chosen folder, left out. */
  readonly skipped: number;
  /** Why the files cannot be sent: names the file and what to do. */
  readonly error: string | null;
}

export const initialWorkloadFiles: WorkloadFilesView = { workloadId: null, state: 'none', count: 0, bytes: 0, skipped: 0, error: null };

/** What a results view shows beside an item: its image (a URL of the requester's own file) and size, or its length. */
export interface ItemPreview {
  readonly url?: string;
  readonly width?: number;
  readonly height?: number;
  readonly durationS?: number;
}

/** A results download being built, or how the last one ended, per job. */
export interface ExportStatus {
  readonly format: 'json' | 'csv' | 'npy' | 'txt';
  readonly state: 'building' | 'done' | 'failed';
  /** Share written so far, 0..1. */
  readonly progress: number;
  /** Size of the finished file, in bytes. */
  readonly bytes: number | null;
  /** Why it failed, in words, with what to try instead. */
  readonly error: string | null;
}

export const initialDraft: RequesterDraft = {
  model: null,
  inputs: [],
  inputError: null,
  problems: [],
  imageCount: 0,
  imagePreprocessing: { width: 224, height: 224, layout: 'CHW', channels: 'RGB', normalisation: 'imagenet' },
  busy: false,
  proposedShardSize: null,
};

export interface Submission {
  readonly ref: string;
  readonly name: string;
  readonly state: 'sending' | 'accepted' | 'rejected';
  readonly jobId: JobId | null;
  readonly reason: string | null;
  /** Size of the submit frame's model and inputs, for "sending… N MB". */
  readonly bytes: number;
  readonly priority: number;
  /** [V-13] The policy as the coordinator resolves it, to hold the job's measured spread against. */
  readonly policy?: Pick<ResolvedPolicy, 'comparator' | 'answerComparator'>;
}

/** A finished job's verified results, as the requester holds them. */
export interface JobResults {
  readonly jobId: JobId;
  readonly items: number;
  readonly verifiedItems: number;
  /** Arg-max of the first output per item (-1 where unverified), for classifiers. */
  readonly predictions: readonly number[];
  /** Against known labels, when the job was a built-in workload with labels. */
  readonly accuracy: number | null;
  /** Distinct volunteer pairs and backends that agreed, for provenance. */
  readonly provenance: readonly {
    readonly start: number;
    readonly count: number;
    readonly volunteers: readonly string[];
    readonly backends: readonly string[];
  }[];
  /** The verified output tensors in item order, exactly as verified, for export. */
  readonly assembled: AssembledResults | null;
  /** Why the verified shards could not be put together, if they could not. */
  readonly assembleError: string | null;
}

/** [AU-4] What checking an export's receipt on the dashboard found. */
export interface ReceiptCheckStatus {
  readonly state: 'checking' | 'valid' | 'invalid';
  /** The file checked. */
  readonly file: string;
  /** One line per finding: what verified, or each problem (naming the shard). */
  readonly lines: readonly string[];
}

export interface RequesterView extends RoleConnectionView {
  readonly jobs: readonly JobStatus[];
  readonly submissions: readonly Submission[];
  readonly results: Readonly<Record<string, JobResults>>;
  /** A single-tab reference run of the built-in workload, to compare verified results with. */
  readonly reference: {
    readonly state: 'running' | 'done' | 'error';
    readonly predictions: readonly number[];
    readonly accuracy: number | null;
    readonly detail: string;
  } | null;
  readonly log: readonly LogLine[];
  /** The job being prepared on the dashboard. */
  readonly draft: RequesterDraft;
  /** Throughput and time left per job id. */
  readonly rates: Readonly<Record<string, JobRate>>;
  /** Why the last press of "Submit" sent nothing. */
  readonly submitProblems: readonly string[];
  /** Results downloads being built, or how the last one ended, per job id. */
  readonly exports: Readonly<Record<string, ExportStatus>>;
  /** [AU-4] The last "Verify receipt" on this page: running, or its verdict in words. */
  readonly receiptCheck: ReceiptCheckStatus | null;
  /** The files chosen for a built-in workload of files. */
  readonly workloadFiles: WorkloadFilesView;
  /** Per submission ref, per item name: what this tab still holds of the requester's files, for the results view. */
  readonly previews: Readonly<Record<string, Readonly<Record<string, ItemPreview>>>>;
}
