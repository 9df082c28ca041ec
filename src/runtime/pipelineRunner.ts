/**
 * [W-23] One executor for every file pipeline (`FILE_PIPELINE_SHAPES`): the volunteer's inference
 * Worker and the Node reference (`npm run workload`) both call `runFilePipeline`, each with its own
 * engine and image decoder, so what the network verifies is what the reference prints. Pure apart
 * from what it is given: the model runs, the image decoder and the pipeline's text assets.
 */
import type { ModelHash } from '../protocol/ids.ts';
import type { JobFile } from '../protocol/jobFiles.ts';
import { answerSchema, PIPELINE_LIMITS, type Answer, type OcrLine, type Pipeline, type Stage } from '../protocol/pipeline.ts';
import { elementCount, type WireTensor } from '../protocol/tensor.ts';
import { parseCharset } from '../workloads/ocr/ctcDecode.ts';
import { ocrParamsOf, type OcrStage } from '../workloads/ocr/ocrWorkload.ts';
import { runOcr, type OcrModelId, type OcrResult } from '../workloads/ocr/pipeline.ts';
import { decodeWav, detectSpeech, type DecodeWavStage, type VadStage } from '../workloads/vad/vadPipeline.ts';
import { decodeItem, filesToTensor, itemError, type ImageDecoder } from './imagePipeline.ts';
import { typedView } from './tensors.ts';

/** What the executor needs from its host. */
export interface PipelineHost {
  /** Runs the model with this hash once. */
  run(model: ModelHash, inputs: readonly WireTensor[]): Promise<readonly WireTensor[]>;
  /** Decodes an image file; null where the host has no decoder (image pipelines are then refused). */
  readonly decodeImage: ImageDecoder | null;
  /** The characters of the CTC dictionary with this hash (blank first, space last); throws when absent. */
  charset(dictionary: ModelHash): readonly string[];
}

/** A shard's result: tensors for a pipeline that ends at the model, or one answer per file. */
export interface PipelineOutput {
  readonly outputs: readonly WireTensor[];
  readonly answers?: readonly Answer[];
}

/** The pipeline's answer could not be made within the protocol's bounds: a broken model or engine. */
export class PipelineAnswerError extends Error {
  override readonly name = 'PipelineAnswerError';
}

/** The dictionary's text as the recogniser's classes; hosts call it once per dictionary. */
export function charsetOf(bytes: Uint8Array): string[] {
  return parseCharset(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
}

const NO_DECODER = 'this inference worker cannot decode files';

/**
 * Runs `pipeline` over a shard's files. `model` is the lease's model: the one a `run-model` stage
 * runs (answer pipelines name their own models by hash). A file that cannot be decoded is an
 * ItemDecodeError naming it, never an empty answer.
 */
export async function runFilePipeline(model: ModelHash, pipeline: Pipeline, files: readonly JobFile[], host: PipelineHost): Promise<PipelineOutput> {
  const ops = pipeline.stages.map((s) => s.op).join(' → ');
  const [first, second, , fourth] = pipeline.stages;
  if (ops === 'decode-image → ocr' && first?.op === 'decode-image' && second?.op === 'ocr') {
    return { outputs: [], answers: await ocrItems(files, first.maxPixels, second, host) };
  }
  if (ops === 'decode-wav → vad' && first?.op === 'decode-wav' && second?.op === 'vad') {
    return { outputs: [], answers: await vadItems(files, first, second, host) };
  }
  if (ops === 'decode-image → image-tensor → run-model' || ops === 'decode-image → image-tensor → run-model → top-k') {
    if (!host.decodeImage) throw new Error(NO_DECODER);
    const input = await filesToTensor(pipeline, files, host.decodeImage);
    const outputs = await host.run(model, [input]);
    if (fourth?.op !== 'top-k') return { outputs };
    return { outputs: [], answers: topK(outputs, fourth, files.length) };
  }
  throw new Error(`this volunteer does not run "${ops}" pipelines on files`);
}

async function ocrItems(files: readonly JobFile[], maxPixels: number, stage: OcrStage, host: PipelineHost): Promise<Answer[]> {
  const decode = host.decodeImage;
  if (!decode) throw new Error(NO_DECODER);
  const hashes: Record<OcrModelId, ModelHash> = {
    det: stage.detect.model,
    // Never run without a classifier (runOcr skips it), so any hash stands in.
    cls: stage.classify?.model ?? stage.detect.model,
    rec: stage.recognize.model,
  };
  const models = { run: (id: OcrModelId, inputs: readonly WireTensor[]) => host.run(hashes[id], inputs) };
  const charset = host.charset(stage.recognize.dictionary);
  const params = ocrParamsOf(stage);
  const answers: Answer[] = [];
  for (const [i, file] of files.entries()) {
    const image = await decodeItem(file, i, decode, maxPixels);
    answers.push(checked(ocrAnswer(await runOcr(image, models, charset, params, stage.classify !== null)), file.name));
  }
  return answers;
}

async function vadItems(files: readonly JobFile[], decode: DecodeWavStage, vad: VadStage, host: PipelineHost): Promise<Answer[]> {
  const run = (inputs: readonly WireTensor[]) => host.run(vad.model, inputs);
  const answers: Answer[] = [];
  for (const [i, file] of files.entries()) {
    let audio;
    try {
      audio = decodeWav(new Uint8Array(file.bytes), file.name, decode);
    } catch (err) {
      throw itemError(file.name, i, err);
    }
    answers.push(checked(await detectSpeech(audio, vad, run), file.name));
  }
  return answers;
}

/**
 * An OCR result within the answer's bounds. The detector keeps at most `maxCandidates` (≤ the
 * line limit) boxes, and a recogniser's widest input gives fewer characters than a line may
 * hold, so cutting only ever applies to a hostile model; each cut is deterministic, so honest
 * volunteers still agree.
 */
export function ocrAnswer(result: OcrResult): Answer {
  const clampCoordinate = (v: number): number => Math.min(PIPELINE_LIMITS.maxCoordinate, Math.max(-PIPELINE_LIMITS.maxCoordinate, v));
  const lines: OcrLine[] = result.lines.slice(0, PIPELINE_LIMITS.maxOcrLines).map((l) => ({
    box: l.box.map(([x, y]) => [clampCoordinate(x), clampCoordinate(y)] as [number, number]) as OcrLine['box'],
    text: cutToLength(l.text, PIPELINE_LIMITS.maxLineChars),
    confidence: Math.min(1, Math.max(0, l.confidence)),
  }));
  return { kind: 'ocr', lines };
}

/** At most `max` UTF-16 units, never splitting a character. */
function cutToLength(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max) break;
    out += ch;
  }
  return out;
}

/** The k largest scores of each item's row of the `output` tensor [N, classes], largest first, lower index first among equals. */
export function topK(outputs: readonly WireTensor[], stage: Extract<Stage, { op: 'top-k' }>, items: number): Answer[] {
  const out = outputs.find((t) => t.name === stage.output);
  if (!out)
    throw new PipelineAnswerError(`the model has no output "${stage.output}" for the top-k stage (it has ${outputs.map((t) => `"${t.name}"`).join(', ')})`);
  if (out.dtype === 'int64' || out.dtype === 'bool') throw new PipelineAnswerError(`the top-k stage reads numbers, not ${out.dtype} ("${stage.output}")`);
  const classes = out.dims[out.dims.length - 1] ?? 0;
  if (out.dims[0] !== items || elementCount(out.dims) !== items * classes) {
    throw new PipelineAnswerError(`the top-k stage reads "${stage.output}" as [${items}, classes], but it is [${out.dims.join(', ')}]`);
  }
  const values = typedView(out) as ArrayLike<number>;
  const answers: Answer[] = [];
  for (let i = 0; i < items; i++) {
    const row = Array.from({ length: classes }, (_, c) => ({ index: c, score: values[i * classes + c] as number }));
    if (row.some((l) => !Number.isFinite(l.score))) throw new PipelineAnswerError(`item ${i + 1}'s "${stage.output}" has a score that is not a finite number`);
    row.sort((a, b) => b.score - a.score || a.index - b.index);
    answers.push(checked({ kind: 'labels', labels: row.slice(0, stage.k) }, `item ${i + 1}`));
  }
  return answers;
}

/** Every answer leaves the executor parsed, so none the coordinator would refuse is ever sent. */
function checked(answer: Answer, item: string): Answer {
  const parsed = answerSchema.safeParse(answer);
  if (!parsed.success) {
    throw new PipelineAnswerError(`the answer for "${item.slice(0, 80)}" is out of bounds (${parsed.error.issues[0]?.message ?? 'it does not parse'})`);
  }
  return parsed.data;
}
