/**
 * The voice-activity pipeline, item by item: a WAV file's bytes → mono samples at the model's rate
 * (`decode-wav`) → Silero VAD v5 frame by frame → speech segments (`vad`). The volunteer's
 * inference Worker and the Node reference (`npm run workload -- vad`) both call `runVadItem`, with
 * their own `ModelRun`, so what the network verifies is what the reference prints.
 */
import type { ModelHash } from '../../protocol/ids.ts';
import type { Answer, Pipeline, Stage } from '../../protocol/pipeline.ts';
import { resample } from './resample.ts';
import { speechSegments } from './segments.ts';
import { speechProbabilities, type ModelRun } from './sileroLoop.ts';
import { parseWav, WAV_LIMITS, type WavAudio } from './wav.ts';

export type DecodeWavStage = Extract<Stage, { op: 'decode-wav' }>;
export type VadStage = Extract<Stage, { op: 'vad' }>;

/**
 * The built-in pipeline's numbers, `model` aside (it is the hash of silero_vad_v5.onnx).
 * Thresholds are silero-vad's own (0.5, and 0.15 below it to stay in speech); a pause of half a
 * second ends a segment (silero-vad's 100 ms splits sentences at every comma, vad-web's 1.4 s
 * waits for a speaker's turn to end); a segment must last 250 ms (silero-vad's default) to count;
 * 64 ms (two frames) of pad, because the probability rises one or two frames after a word's onset
 * (measured on e2e/fixtures/vad: 18–50 ms late).
 */
export const VAD_DEFAULTS = {
  decode: { op: 'decode-wav', sampleRate: 16000, maxSeconds: WAV_LIMITS.defaultMaxSeconds },
  vad: { op: 'vad', frameSamples: 512, positiveThreshold: 0.5, negativeThreshold: 0.35, redemptionMs: 500, minSpeechMs: 250, padMs: 64 },
} as const satisfies { decode: DecodeWavStage; vad: Omit<VadStage, 'model'> };

/** The built-in voice-activity pipeline for the model with this hash. */
export function vadPipeline(modelHash: ModelHash): Pipeline {
  return { v: 1, stages: [VAD_DEFAULTS.decode, { ...VAD_DEFAULTS.vad, model: modelHash }] };
}

/** A decoded file at the rate the `decode-wav` stage asks for, and what the file was. */
export interface DecodedAudio {
  readonly samples: Float32Array;
  readonly sampleRate: number;
  readonly source: Omit<WavAudio, 'mono'>;
}

/** The `decode-wav` stage: parse (bounded by the stage's `maxSeconds`), mix down, resample. Throws WavError. */
export function decodeWav(bytes: Uint8Array, fileName: string, stage: DecodeWavStage): DecodedAudio {
  const { mono, ...source } = parseWav(bytes, fileName, stage.maxSeconds);
  return { samples: resample(mono, source.sampleRateHz, stage.sampleRate), sampleRate: stage.sampleRate, source };
}

/** The `vad` stage: the model over every frame, then the segment rule. */
export async function detectSpeech(audio: DecodedAudio, stage: VadStage, run: ModelRun): Promise<Answer> {
  const probs = await speechProbabilities(audio.samples, audio.sampleRate, stage.frameSamples, run);
  const segments = speechSegments(probs, stage, { sampleRate: audio.sampleRate, frameSamples: stage.frameSamples, totalSamples: audio.samples.length });
  return { kind: 'segments', segments };
}

/** One item of a voice-activity job: a WAV file's bytes in, its speech segments out. */
export async function runVadItem(bytes: Uint8Array, fileName: string, decode: DecodeWavStage, vad: VadStage, run: ModelRun): Promise<Answer> {
  return detectSpeech(decodeWav(bytes, fileName, decode), vad, run);
}
