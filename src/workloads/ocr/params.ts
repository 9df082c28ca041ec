/**
 * The OCR pipeline's numbers, gathered in one value so that a pipeline spec can carry them and
 * every volunteer and the Node reference run with the same ones. They are PaddleOCR's inference
 * defaults (tools/infer/utility.py, the PP-OCRv4 configs) except where `OCR_PARAMS` says why not.
 */

export interface OcrParams {
  /** Detection: the longest side is scaled down to at most this ('max' limit type). */
  readonly detLimitSideLen: number;
  /** Detection: a probability-map pixel above this is text. */
  readonly detThresh: number;
  /** Detection: a box whose mean probability is below this is dropped. */
  readonly detBoxThresh: number;
  /** Detection: how far a box grows, as area × ratio / perimeter (DB shrinks text when training). */
  readonly detUnclipRatio: number;
  /** Detection: at most this many candidate regions per image are looked at. */
  readonly detMaxCandidates: number;
  /** Direction classifier input size (it is trained on 48 × 192 crops). */
  readonly clsHeight: number;
  readonly clsWidth: number;
  /** A crop is turned 180° when the classifier says '180' with more than this probability. */
  readonly clsThresh: number;
  /** Recognizer input height; the width follows the crop's aspect ratio, at least `recMinWidth`. */
  readonly recHeight: number;
  readonly recMinWidth: number;
  /** Longer crops are squeezed to this width, so one line cannot make an unbounded tensor. */
  readonly recMaxWidth: number;
  /** Lines recognized with a lower confidence are left out of the answer (PaddleOCR's drop_score). */
  readonly dropScore: number;
}

export const OCR_PARAMS: OcrParams = {
  detLimitSideLen: 960,
  detThresh: 0.3,
  detBoxThresh: 0.6,
  // PaddleOCR's default is 1.5. Its boxes then hug the letters, and on such tight crops the
  // PP-OCRv4 (Chinese) recognizer drops the spaces between Latin words. Lines read exactly on
  // e2e/fixtures/ocr (61 lines in 36 images, onnxruntime-node): 1.5 → 25, 2.0 → 52, 2.5 → 59,
  // 3.0 → 60. 2.5, not 3.0: the grown box must stay clear of the lines above and below in
  // ordinary print (the fixtures' "notice" has a pitch of 1.5 × the font size), and a wider box
  // takes in more of the margins that the recognizer may read as spaces (trimmed, see pipeline.ts).
  detUnclipRatio: 2.5,
  detMaxCandidates: 1000,
  clsHeight: 48,
  clsWidth: 192,
  clsThresh: 0.9,
  recHeight: 48,
  recMinWidth: 320,
  // 48 × 40: a 40:1 line is longer than any printed line at a readable size; the recognizer's
  // cost grows with the width, so a bound keeps one hostile image from costing minutes.
  recMaxWidth: 1920,
  dropScore: 0.5,
};

/** Decoded pixels as ImageData holds them: straight RGBA, row-major, 4 bytes a pixel. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: ArrayLike<number>;
}

/** A point in image pixel coordinates. */
export type Point = readonly [number, number];
/** Four corners: top-left, top-right, bottom-right, bottom-left (clockwise on screen). */
export type Quad = readonly [Point, Point, Point, Point];

export class OcrError extends Error {
  override readonly name = 'OcrError';
}
