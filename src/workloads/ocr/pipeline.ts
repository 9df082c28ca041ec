/**
 * The OCR pipeline for one image, PaddleOCR's TextSystem: detect text boxes, put them in reading
 * order, crop each, turn crops the direction classifier finds upside down, recognize each crop,
 * and keep the lines recognized with at least `dropScore` confidence.
 *
 * Pure: the three model runs go through `OcrModels`, so the volunteer's Worker (onnxruntime-web)
 * and the Node reference (onnxruntime-node) run this same code and differ only in the engine.
 */
import { checkImagePixels } from '../inputs/resizeImage.ts';
import { elementCount, float32View, type WireTensor } from '../../protocol/tensor.ts';
import { cropBox, rotate180, type Rgba } from './crop.ts';
import { ctcGreedyDecode } from './ctcDecode.ts';
import { boxesFromMap } from './dbPostprocess.ts';
import { detInput } from './detPreprocess.ts';
import { OcrError, OCR_PARAMS, type OcrParams, type Quad, type RgbaImage } from './params.ts';
import { sortReadingOrder } from './readingOrder.ts';
import { recInputWidth, resizeNormPad } from './textTensor.ts';

export const OCR_MODEL_IDS = ['det', 'cls', 'rec'] as const;
export type OcrModelId = (typeof OCR_MODEL_IDS)[number];

/** Runs one of the pipeline's models; the first output is the one the pipeline reads. */
export interface OcrModels {
  run(model: OcrModelId, inputs: readonly WireTensor[]): Promise<readonly WireTensor[]>;
}

/** One recognized line: its box in the image's pixels, its text, and the recognizer's confidence. */
export interface OcrLine {
  readonly box: Quad;
  readonly text: string;
  readonly confidence: number;
}

/** The answer for one image: its lines in reading order. */
export interface OcrResult {
  readonly lines: OcrLine[];
}

/** Every PaddleOCR model takes its image as the input named `x`. */
const INPUT_NAME = 'x';

function tensor(data: Float32Array<ArrayBuffer>, dims: number[]): WireTensor {
  return { name: INPUT_NAME, dtype: 'float32', dims, data: data.buffer };
}

/** The first output, checked to be float32 with `expected` values, as a Float32Array. */
function firstOutput(
  model: OcrModelId,
  outputs: readonly WireTensor[],
  check: (dims: readonly number[]) => boolean,
): { dims: readonly number[]; data: Float32Array } {
  const out = outputs[0];
  if (!out || out.dtype !== 'float32' || !check(out.dims) || out.data.byteLength < elementCount(out.dims) * 4) {
    const got = out ? `${out.dtype} [${out.dims.join(', ')}]` : 'nothing';
    throw new OcrError(`the ${model} model gave ${got}, not the output this pipeline reads: check that it is PaddleOCR's ${model} model.`);
  }
  return { dims: out.dims, data: float32View(out) };
}

/**
 * Reads the text lines of one image. Without `classify` (a pipeline whose `ocr` stage has no
 * classifier) no crop is turned and the `cls` model is never run.
 */
export async function runOcr(image: RgbaImage, models: OcrModels, charset: readonly string[], p: OcrParams = OCR_PARAMS, classify = true): Promise<OcrResult> {
  checkImagePixels(image.width, image.height, 'the image');
  if (image.rgba.length !== image.width * image.height * 4) {
    throw new OcrError(`expected ${image.width * image.height * 4} RGBA bytes for ${image.width}×${image.height}, got ${image.rgba.length}.`);
  }

  const det = detInput(image, p.detLimitSideLen);
  const detOut = firstOutput(
    'det',
    await models.run('det', [tensor(det.data, [1, 3, det.height, det.width])]),
    (d) => d.length === 4 && d[0] === 1 && d[1] === 1 && d[2] === det.height && d[3] === det.width,
  );
  const boxes = sortReadingOrder(boxesFromMap({ width: det.width, height: det.height, data: detOut.data }, image.width, image.height, p));
  if (boxes.length === 0) return { lines: [] };

  let crops: Rgba[] = boxes.map((b) => cropBox(image, b.box));
  if (classify) crops = await turnUpsideDown(crops, models, p);

  const lines: OcrLine[] = [];
  for (let i = 0; i < crops.length; i++) {
    const crop = crops[i] as Rgba;
    const width = recInputWidth(crop, p);
    const rec = firstOutput(
      'rec',
      await models.run('rec', [tensor(resizeNormPad(crop, p.recHeight, width), [1, 3, p.recHeight, width])]),
      (d) => d.length === 3 && d[0] === 1 && d[2] === charset.length,
    );
    const decoded = ctcGreedyDecode(rec.data, rec.dims[1] as number, rec.dims[2] as number, charset);
    // A box reaches past its text on both ends (the unclip), and the recognizer sometimes reads
    // that margin as a space: spaces at a line's ends say nothing, so they are not part of it.
    const text = decoded.text.trim();
    if (decoded.confidence >= p.dropScore && text !== '') lines.push({ box: (boxes[i] as { box: Quad }).box, text, confidence: decoded.confidence });
  }
  return { lines };
}

/** The direction classifier sees every crop at its fixed size, so they go as one batch; crops it finds upside down are turned. */
async function turnUpsideDown(crops: readonly Rgba[], models: OcrModels, p: OcrParams): Promise<Rgba[]> {
  const clsPlane = 3 * p.clsHeight * p.clsWidth;
  const clsBatch = new Float32Array(clsPlane * crops.length);
  crops.forEach((c, i) => clsBatch.set(resizeNormPad(c, p.clsHeight, p.clsWidth), i * clsPlane));
  const cls = firstOutput(
    'cls',
    await models.run('cls', [tensor(clsBatch, [crops.length, 3, p.clsHeight, p.clsWidth])]),
    (d) => d.length === 2 && d[0] === crops.length && d[1] === 2,
  );
  return crops.map((c, i) => {
    const p0 = cls.data[i * 2] as number;
    const p180 = cls.data[i * 2 + 1] as number;
    // Label '180' wins the argmax (the first of equals is '0') and is sure enough.
    return p180 > p0 && p180 > p.clsThresh ? rotate180(c) : c;
  });
}
