/**
 * The built-in pipeline workloads as the two values a job needs: one asset bundle (the job's
 * `model`, [J-9]) and the pipeline that names each of its entries by sha256. The dashboard, the
 * Node reference and the tests build them here from the same bytes, so a hash can never be
 * computed one way in one place and another way elsewhere.
 */
import { buildAssetBundle } from '../protocol/assetBundle.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { Pipeline } from '../protocol/pipeline.ts';
import { sha256Hex } from '../runtime/sha256.ts';
import { OCR_ASSETS, ocrPipeline, type OcrAssetId } from './ocr/ocrWorkload.ts';
import { vadPipeline } from './vad/vadPipeline.ts';

/** A workload ready to submit: the bundle travels as the job's model, the pipeline with the job. */
export interface BuiltWorkload {
  readonly bundle: Uint8Array;
  readonly pipeline: Pipeline;
}

/** The file name the VAD model keeps inside its bundle (a label for errors; entries are found by hash). */
export const VAD_ASSET = 'silero_vad_v5.onnx';

/** PP-OCR's detector, classifier, recogniser and CTC dictionary as one bundle and its pipeline. */
export async function buildOcrWorkload(assets: Readonly<Record<OcrAssetId, Uint8Array>>): Promise<BuiltWorkload> {
  const ids = Object.keys(OCR_ASSETS) as OcrAssetId[];
  const hashes = {} as Record<OcrAssetId, ModelHash>;
  for (const id of ids) hashes[id] = await sha256Hex(assets[id]);
  const bundle = buildAssetBundle(ids.map((id) => ({ name: OCR_ASSETS[id], bytes: assets[id] })));
  return { bundle, pipeline: ocrPipeline(hashes) };
}

/** Silero VAD v5 as a one-entry bundle and the voice-activity pipeline that names it. */
export async function buildVadWorkload(model: Uint8Array): Promise<BuiltWorkload> {
  const bundle = buildAssetBundle([{ name: VAD_ASSET, bytes: model }]);
  return { bundle, pipeline: vadPipeline(await sha256Hex(model)) };
}
