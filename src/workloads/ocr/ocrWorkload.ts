/**
 * The built-in OCR workload as data: the pipeline spec that names PP-OCRv4's three models and its
 * dictionary by hash and carries the numbers of `OCR_PARAMS`, and the way back from a spec's `ocr`
 * stage to the `OcrParams` the arithmetic runs with. The dashboard, the Node reference and every
 * volunteer go through these two functions, so they cannot disagree on a threshold.
 */
import type { ModelHash } from '../../protocol/ids.ts';
import type { Pipeline, Stage } from '../../protocol/pipeline.ts';
import { MAX_IMAGE_PIXELS } from '../inputs/resizeImage.ts';
import { OCR_PARAMS, type OcrParams } from './params.ts';

export type OcrStage = Extract<Stage, { op: 'ocr' }>;

/** The four assets of the built-in OCR workload, as served from the app's own origin (`/models/ocr/`). */
export const OCR_ASSETS = {
  det: 'ch_PP-OCRv4_det_infer.onnx',
  cls: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
  rec: 'ch_PP-OCRv4_rec_infer.onnx',
  dictionary: 'ppocr_keys_v1.txt',
} as const;
export type OcrAssetId = keyof typeof OCR_ASSETS;

/** The pipeline for assets with these hashes: decode-image → ocr, with `params`' numbers. */
export function ocrPipeline(hashes: Readonly<Record<OcrAssetId, ModelHash>>, params: OcrParams = OCR_PARAMS): Pipeline {
  return {
    v: 1,
    stages: [
      { op: 'decode-image', maxPixels: MAX_IMAGE_PIXELS },
      {
        op: 'ocr',
        detect: {
          model: hashes.det,
          limitSideLen: params.detLimitSideLen,
          threshold: params.detThresh,
          boxThreshold: params.detBoxThresh,
          unclipRatio: params.detUnclipRatio,
          maxCandidates: params.detMaxCandidates,
        },
        classify: { model: hashes.cls, threshold: params.clsThresh },
        recognize: { model: hashes.rec, dictionary: hashes.dictionary, height: params.recHeight, maxWidth: params.recMaxWidth },
      },
    ],
  };
}

/**
 * The numbers an `ocr` stage runs with: the stage's own, and `OCR_PARAMS` for those a spec does
 * not carry (the classifier's input size, the narrowest recognizer input, the drop score), which
 * are properties of the PP-OCR models rather than choices of a job.
 */
export function ocrParamsOf(stage: OcrStage): OcrParams {
  return {
    ...OCR_PARAMS,
    detLimitSideLen: stage.detect.limitSideLen,
    detThresh: stage.detect.threshold,
    detBoxThresh: stage.detect.boxThreshold,
    detUnclipRatio: stage.detect.unclipRatio,
    detMaxCandidates: stage.detect.maxCandidates,
    clsThresh: stage.classify?.threshold ?? OCR_PARAMS.clsThresh,
    recHeight: stage.recognize.height,
    recMaxWidth: stage.recognize.maxWidth,
  };
}
