/** What the requester dashboard shows beyond submissions and jobs: the job being prepared, rates. */
import type { TensorDtype } from '../protocol/tensor.ts';
import type { ModelSignature } from '../runtime/engine.ts';
import type { ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';

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
