/**
 * Silero VAD v5 run over a whole recording: one model call per 32 ms window, its recurrent state
 * carried from each call to the next. This loop is why a pipeline item may call its model many
 * times; the model itself is reached through `ModelRun`, so the same code runs in a volunteer's
 * inference Worker and in the Node reference.
 *
 * The model (`@ricky0123/vad-web` dist/silero_vad_v5.onnx) takes
 *   input  float32 [1, 576]: the last 64 samples of the previous window, then 512 new ones (16 kHz);
 *   state  float32 [2, 1, 128]: zeros at the start of a recording, then the previous `stateN`;
 *   sr     int64 scalar: 16000;
 * and returns `output` float32 [1, 1], the probability that the window is speech, and `stateN`.
 * The 64-sample context is what silero-vad's own `OnnxWrapper` and vad-web's `Silero.process` pass
 * (the first window's context is zeros). A last partial window is padded with zeros, as silero-vad's
 * `get_speech_timestamps` pads its last chunk. The model also runs at 8 kHz with 256-sample
 * windows and a 32-sample context (silero-vad's other supported rate); nothing else.
 */
import { elementCount, type WireTensor } from '../../protocol/tensor.ts';

/** The rates Silero VAD v5 was trained for, each with its window and context, in samples. */
export const SILERO_V5_RATES: Readonly<Record<number, { readonly windowSamples: number; readonly contextSamples: number }>> = {
  16000: { windowSamples: 512, contextSamples: 64 },
  8000: { windowSamples: 256, contextSamples: 32 },
};
const STATE_DIMS = [2, 1, 128] as const;

/** Runs the model once; the volunteer binds it to its engine and the model's hash. */
export type ModelRun = (inputs: readonly WireTensor[]) => Promise<readonly WireTensor[]>;

/** The model answered with something that is not Silero v5's output: wrong model or a broken engine. */
export class VadModelError extends Error {
  override readonly name = 'VadModelError';
}

/** The pipeline asked for a rate or window Silero VAD v5 does not take. */
export class VadConfigError extends Error {
  override readonly name = 'VadConfigError';
}

const STATE_ELEMENTS = elementCount(STATE_DIMS);

/**
 * One speech probability per window of `samples` (ceil(length / frameSamples) windows), running
 * the model once per window in order. `sampleRate` and `frameSamples` must be 16000/512 or 8000/256.
 */
export async function speechProbabilities(samples: Float32Array, sampleRate: number, frameSamples: number, run: ModelRun): Promise<Float32Array> {
  const config = SILERO_V5_RATES[sampleRate];
  if (!config || config.windowSamples !== frameSamples) {
    throw new VadConfigError(
      `Silero VAD v5 takes 512-sample frames at 16000 Hz or 256-sample frames at 8000 Hz, not ${frameSamples}-sample frames at ${sampleRate} Hz: fix the pipeline's decode-wav and vad stages.`,
    );
  }
  const { windowSamples, contextSamples } = config;
  const windows = Math.ceil(samples.length / windowSamples);
  const probs = new Float32Array(windows);
  const sr: WireTensor = { name: 'sr', dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(sampleRate)).buffer };
  let state: WireTensor = { name: 'state', dtype: 'float32', dims: STATE_DIMS, data: new ArrayBuffer(STATE_ELEMENTS * 4) };
  let context = new Float32Array(contextSamples);
  for (let w = 0; w < windows; w++) {
    const frame = new Float32Array(contextSamples + windowSamples);
    frame.set(context, 0);
    frame.set(samples.subarray(w * windowSamples, (w + 1) * windowSamples), contextSamples);
    context = frame.slice(windowSamples);
    const input: WireTensor = { name: 'input', dtype: 'float32', dims: [1, frame.length], data: frame.buffer };
    const outputs = await run([input, state, sr]);
    probs[w] = probabilityOf(outputs, w);
    state = nextState(outputs, w);
  }
  return probs;
}

function find(outputs: readonly WireTensor[], name: string, w: number): WireTensor {
  const t = outputs.find((o) => o.name === name);
  if (!t) {
    throw new VadModelError(
      `the voice-activity model returned no "${name}" at window ${w} (it returned: ${outputs.map((o) => o.name).join(', ') || 'nothing'}): it is not Silero VAD v5.`,
    );
  }
  if (t.dtype !== 'float32' || t.data.byteLength !== elementCount(t.dims) * 4) {
    throw new VadModelError(
      `the voice-activity model's "${name}" is ${t.dtype} [${t.dims.join(', ')}] with ${t.data.byteLength} bytes, not float32: it is not Silero VAD v5.`,
    );
  }
  return t;
}

function probabilityOf(outputs: readonly WireTensor[], w: number): number {
  const t = find(outputs, 'output', w);
  const values = new Float32Array(t.data);
  const p = values[0];
  if (values.length !== 1 || p === undefined || !(p >= 0 && p <= 1)) {
    throw new VadModelError(
      `the voice-activity model's "output" at window ${w} is not one probability in [0, 1] (got ${values.length} value(s), first ${String(p)}).`,
    );
  }
  return p;
}

function nextState(outputs: readonly WireTensor[], w: number): WireTensor {
  const t = find(outputs, 'stateN', w);
  const values = new Float32Array(t.data);
  if (values.length !== STATE_ELEMENTS || !values.every(Number.isFinite)) {
    throw new VadModelError(`the voice-activity model's "stateN" at window ${w} is not ${STATE_ELEMENTS} finite numbers.`);
  }
  // Copied, so that nothing the engine reuses can change the state after this point.
  return { name: 'state', dtype: 'float32', dims: STATE_DIMS, data: values.slice().buffer };
}
