/**
 * Built-in workloads whose items are the requester's own files: text in images (PP-OCRv4) and
 * speech in WAV files (Silero VAD v5). Each names where its pretrained assets are served on the
 * app's own origin (vite-plugins/modelAssets.ts puts them there), the files it takes, and the kind
 * of answer it gives, so the dashboard can check files and pick the answer comparator. Pure data.
 */
import type { Answer } from '../protocol/pipeline.ts';
import { OCR_ASSETS, type OcrAssetId } from './ocr/ocrWorkload.ts';

export type FileWorkloadId = 'ocr' | 'vad';

export interface FileWorkload {
  readonly id: FileWorkloadId;
  readonly label: string;
  readonly description: string;
  /** What one item is, for the form and messages ("images", "WAV files"). */
  readonly itemNoun: string;
  /** The file input's `accept`. */
  readonly accept: string;
  /** Whether a file name looks like one of this workload's items (hidden files aside). */
  readonly takes: (fileName: string) => boolean;
  /** What to choose instead, for a refused file. */
  readonly hint: string;
  readonly answerKind: Extract<Answer['kind'], 'ocr' | 'segments'>;
  /**
   * Items per shard to start from: one image takes a volunteer about a second of OCR, one minute
   * of audio a fraction of that, so a lease stays well within its deadline.
   */
  readonly defaultShardSize: number;
}

/** Where each OCR asset is served, by its role. */
export const OCR_ASSET_URLS: Readonly<Record<OcrAssetId, string>> = {
  det: `/models/ocr/${OCR_ASSETS.det}`,
  cls: `/models/ocr/${OCR_ASSETS.cls}`,
  rec: `/models/ocr/${OCR_ASSETS.rec}`,
  dictionary: `/models/ocr/${OCR_ASSETS.dictionary}`,
};

/** Where Silero VAD v5 is served. */
export const VAD_MODEL_URL = '/models/vad/silero_vad_v5.onnx';

export const ocrWorkload: FileWorkload = {
  id: 'ocr',
  label: 'Read text in images (OCR, PP-OCRv4)',
  description:
    'PaddleOCR PP-OCRv4 (detection, direction, recognition; Chinese and English) on your PNG or JPEG images: each verified answer is the text lines of one image with their boxes.',
  itemNoun: 'images',
  accept: '.png,.jpg,.jpeg,image/png,image/jpeg',
  takes: (name) => /\.(png|jpe?g)$/i.test(name),
  hint: 'choose PNG or JPEG images',
  answerKind: 'ocr',
  defaultShardSize: 4,
};

export const vadWorkload: FileWorkload = {
  id: 'vad',
  label: 'Find speech in WAV files (VAD, Silero v5)',
  description: 'Silero VAD v5 on your WAV recordings: each verified answer is the stretches of one file where someone speaks, in seconds.',
  itemNoun: 'WAV files',
  accept: '.wav,audio/wav,audio/x-wav,audio/wave',
  takes: (name) => /\.wav$/i.test(name),
  hint: 'choose .wav files (convert others first, e.g. ffmpeg -i in.mp3 out.wav)',
  answerKind: 'segments',
  defaultShardSize: 8,
};

export const FILE_WORKLOADS: readonly FileWorkload[] = [ocrWorkload, vadWorkload];

export function fileWorkloadById(id: string): FileWorkload | undefined {
  return FILE_WORKLOADS.find((w) => w.id === id);
}
