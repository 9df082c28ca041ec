/**
 * Workloads as data: a pipeline is a short, versioned list of stages from the project's own
 * vocabulary (decode → preprocess → model(s) → postprocess) that every volunteer runs the same
 * way. Requesters never send code: a pipeline names stages and bounded parameters only, and it
 * travels with its job as a parsed value like every frame. The numbers that matter (resizing,
 * normalisation, thresholds) are carried here, so two volunteers can only differ by their
 * inference backend's floating point, never by their defaults.
 *
 * A pipeline's stages are typed: each takes one kind of value and makes another, starting from a
 * file's bytes and ending in an answer a person understands. A spec whose stages do not chain,
 * or that ends anywhere but at an answer, is refused with the stage that breaks the chain.
 *
 * Answers are what volunteers return for pipeline jobs and what the coordinator compares:
 * OCR lines (box, text, confidence), speech segments, labels. Each is bounded here.
 */
import { z } from 'zod';
import { fractionSchema as fraction, modelHashSchema, nameSchema, type AnswerComparator } from './schemas.ts';

export const PIPELINE_VERSION = 1;

/** Bounds of pipelines and their answers, enforced by the parsers below. */
export const PIPELINE_LIMITS = {
  maxStages: 8,
  /** Largest decoded image, in pixels (width × height): 40 megapixels. */
  maxImagePixels: 40_000_000,
  /** Longest audio file, in seconds. */
  maxAudioSeconds: 3_600,
  /** Text lines one image's answer may have. */
  maxOcrLines: 1_000,
  /** Characters of one recognised line. */
  maxLineChars: 1_000,
  /** Speech segments of one audio file's answer. */
  maxSegments: 10_000,
  /** Labels of a top-k answer. */
  maxLabels: 1_000,
  /** Largest coordinate of a box, in pixels of the original image. */
  maxCoordinate: 1_000_000,
} as const;

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** The value a stage takes or makes. */
export type StageValue = 'file' | 'image' | 'audio' | 'tensor' | 'answer';

export const stageSchema = z.discriminatedUnion('op', [
  /** file → image: PNG or JPEG, decoded without colour management. */
  z.object({ op: z.literal('decode-image'), maxPixels: int(1, PIPELINE_LIMITS.maxImagePixels) }),
  /** file → audio: a WAV file, mixed down to mono and resampled to `sampleRate` by the project's own code. */
  z.object({ op: z.literal('decode-wav'), sampleRate: int(8_000, 48_000), maxSeconds: int(1, PIPELINE_LIMITS.maxAudioSeconds) }),
  /** image → tensor: resized (the project's own bilinear), laid out and normalised for a model's input. */
  z.object({
    op: z.literal('image-tensor'),
    input: nameSchema,
    width: int(1, 8192),
    height: int(1, 8192),
    layout: z.enum(['CHW', 'HWC']),
    channels: z.enum(['RGB', 'BGR', 'gray']),
    normalisation: z.enum(['unit', 'imagenet', 'symmetric', 'raw']),
  }),
  /** tensor → tensor: one ONNX model, by content hash. */
  z.object({ op: z.literal('run-model'), model: modelHashSchema }),
  /** tensor → answer: the k most likely classes of the last axis, with their scores. */
  z.object({ op: z.literal('top-k'), output: nameSchema, k: int(1, PIPELINE_LIMITS.maxLabels) }),
  /** image → answer: PP-OCR text detection, optional 0°/180° direction classification, recognition. */
  z.object({
    op: z.literal('ocr'),
    detect: z.object({
      model: modelHashSchema,
      /** The longer side is scaled down to at most this, both sides to multiples of 32. */
      limitSideLen: int(32, 4096),
      /** Probability-map threshold for text pixels. */
      threshold: fraction,
      /** Mean probability inside a box for it to count. */
      boxThreshold: fraction,
      /** How far a box is grown around its text (area·ratio / perimeter). */
      unclipRatio: z.number().min(1).max(4),
      maxCandidates: int(1, PIPELINE_LIMITS.maxOcrLines),
    }),
    classify: z.object({ model: modelHashSchema, threshold: fraction }).nullable(),
    recognize: z.object({
      model: modelHashSchema,
      /** The CTC dictionary (one character per line), by content hash like a model. */
      dictionary: modelHashSchema,
      height: int(8, 256),
      maxWidth: int(8, 4096),
    }),
  }),
  /** audio → answer: Silero-style voice activity detection, frame by frame with its state carried along. */
  z.object({
    op: z.literal('vad'),
    model: modelHashSchema,
    /** Samples per frame at the decoded rate (512 at 16 kHz). */
    frameSamples: int(64, 4096),
    /** A frame is speech at or above this probability... */
    positiveThreshold: fraction,
    /** ...and stays speech until it falls below this one. */
    negativeThreshold: fraction,
    /** Silence shorter than this does not end a segment. */
    redemptionMs: int(0, 10_000),
    /** Segments shorter than this are dropped. */
    minSpeechMs: int(0, 10_000),
    /** Added before each segment. */
    padMs: int(0, 10_000),
  }),
]);
export type Stage = z.infer<typeof stageSchema>;

/** What each stage takes and makes: the chain a pipeline must follow. */
export const STAGE_TYPES: Readonly<Record<Stage['op'], { readonly takes: StageValue; readonly makes: StageValue }>> = {
  'decode-image': { takes: 'file', makes: 'image' },
  'decode-wav': { takes: 'file', makes: 'audio' },
  'image-tensor': { takes: 'image', makes: 'tensor' },
  'run-model': { takes: 'tensor', makes: 'tensor' },
  'top-k': { takes: 'tensor', makes: 'answer' },
  ocr: { takes: 'image', makes: 'answer' },
  vad: { takes: 'audio', makes: 'answer' },
};

/**
 * Why `stages` do not chain from a file to an answer, or null when they do. A pipeline that ends
 * at a tensor is allowed: its answer is the model's raw outputs (an uploaded model's job).
 */
export function chainProblem(stages: readonly Stage[]): string | null {
  let value: StageValue = 'file';
  for (const [i, s] of stages.entries()) {
    const t = STAGE_TYPES[s.op];
    if (value === 'answer') return `stage ${i + 1} ("${s.op}") comes after the answer is made: nothing may follow it`;
    if (t.takes !== value) return `stage ${i + 1} ("${s.op}") takes ${article(t.takes)}, but gets ${article(value)}`;
    value = t.makes;
  }
  if (value !== 'answer' && value !== 'tensor') return `the pipeline ends at ${article(value)}, not at an answer or a model's outputs`;
  return null;
}

const article = (v: StageValue): string => (v === 'image' || v === 'audio' || v === 'answer' ? `an ${v}` : `a ${v}`);

export const pipelineSchema = z
  .object({
    v: z.literal(PIPELINE_VERSION),
    stages: z.array(stageSchema).min(1).max(PIPELINE_LIMITS.maxStages),
  })
  .superRefine((p, ctx) => {
    const problem = chainProblem(p.stages);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export type Pipeline = z.infer<typeof pipelineSchema>;

/** Every model (and dictionary) a pipeline needs, by hash, in stage order, each once. */
export function pipelineModels(p: Pipeline): string[] {
  const out: string[] = [];
  for (const s of p.stages) {
    if (s.op === 'run-model' || s.op === 'vad') out.push(s.model);
    if (s.op === 'ocr') out.push(s.detect.model, ...(s.classify ? [s.classify.model] : []), s.recognize.model, s.recognize.dictionary);
  }
  return [...new Set(out)];
}

/** [J-9] The assets a pipeline reads as text, not as a model (the CTC dictionary), by hash. */
export function pipelineDictionaries(p: Pipeline): string[] {
  return p.stages.flatMap((s) => (s.op === 'ocr' ? [s.recognize.dictionary] : []));
}

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

const coordinate = z.number().min(-PIPELINE_LIMITS.maxCoordinate).max(PIPELINE_LIMITS.maxCoordinate);
const point = z.tuple([coordinate, coordinate]);

export const ocrLineSchema = z.object({
  /** Four corners in the original image's pixels, clockwise from the top-left one. */
  box: z.tuple([point, point, point, point]),
  text: z.string().max(PIPELINE_LIMITS.maxLineChars),
  confidence: fraction,
});
export type OcrLine = z.infer<typeof ocrLineSchema>;

export const segmentSchema = z
  .object({ start: z.number().min(0).max(PIPELINE_LIMITS.maxAudioSeconds), end: z.number().min(0).max(PIPELINE_LIMITS.maxAudioSeconds) })
  .refine((s) => s.end >= s.start, { message: 'a segment ends before it starts' });
export type Segment = z.infer<typeof segmentSchema>;

export const answerSchema = z.discriminatedUnion('kind', [
  /** One image's text lines, in reading order. */
  z.object({ kind: z.literal('ocr'), lines: z.array(ocrLineSchema).max(PIPELINE_LIMITS.maxOcrLines) }),
  /** One audio file's speech, in time order. */
  z.object({ kind: z.literal('segments'), segments: z.array(segmentSchema).max(PIPELINE_LIMITS.maxSegments) }),
  /** The most likely classes, most likely first. */
  z.object({
    kind: z.literal('labels'),
    labels: z.array(z.object({ index: int(0, 2 ** 31 - 1), score: z.number().min(-1e30).max(1e30) })).max(PIPELINE_LIMITS.maxLabels),
  }),
]);
export type Answer = z.infer<typeof answerSchema>;

/** How two volunteers' answers are compared ([V-9]–[V-11] in core/SPEC.md); the schema lives beside the policy's. */
export type { AnswerComparator } from './schemas.ts';

/** The kind of answer a pipeline ends in, or null when it ends at a model's raw outputs (tensors). */
export function answerKindOf(p: Pipeline): Answer['kind'] | null {
  const last = p.stages[p.stages.length - 1];
  switch (last?.op) {
    case 'ocr':
      return 'ocr';
    case 'vad':
      return 'segments';
    case 'top-k':
      return 'labels';
    default:
      return null;
  }
}

/**
 * [V-12] The comparator a job of answers uses when its policy names none: OCR lines pair when
 * their boxes overlap by half and their text is identical; speech segments agree within one
 * 32 ms frame; labels must be the same classes in the same order.
 */
export const DEFAULT_ANSWER_COMPARATORS: { readonly [K in Answer['kind']]: Extract<AnswerComparator, { kind: K }> } = {
  ocr: { kind: 'ocr', minIou: 0.5, maxCer: 0 },
  segments: { kind: 'segments', toleranceSec: 0.032 },
  labels: { kind: 'labels' },
};
