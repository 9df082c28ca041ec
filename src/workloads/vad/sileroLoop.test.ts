import { describe, expect, it } from 'vitest';
import { elementCount, type WireTensor } from '../../protocol/tensor.ts';
import { speechProbabilities, VadConfigError, VadModelError, type ModelRun } from './sileroLoop.ts';

interface Call {
  input: Float32Array;
  inputDims: readonly number[];
  state: Float32Array;
  stateDims: readonly number[];
  sr: bigint[];
  srDims: readonly number[];
}

const f32 = (name: string, dims: number[], values: Float32Array): WireTensor => ({ name, dtype: 'float32', dims, data: values.slice().buffer });

/**
 * A stand-in for the model with Silero's signature that records what it was given: its
 * "probability" is the mean |sample| of the window's new samples, and its next state is the
 * previous one plus 1 everywhere, so the test can see both travel.
 */
function recordingModel(context: number): { run: ModelRun; calls: Call[] } {
  const calls: Call[] = [];
  const run: ModelRun = async (inputs) => {
    const byName = new Map(inputs.map((t) => [t.name, t]));
    const input = byName.get('input') as WireTensor;
    const state = byName.get('state') as WireTensor;
    const sr = byName.get('sr') as WireTensor;
    const call: Call = {
      input: new Float32Array(input.data.slice(0)),
      inputDims: input.dims,
      state: new Float32Array(state.data.slice(0)),
      stateDims: state.dims,
      sr: Array.from(new BigInt64Array(sr.data.slice(0))),
      srDims: sr.dims,
    };
    expect(sr.dtype).toBe('int64');
    calls.push(call);
    const fresh = call.input.subarray(context);
    const p = fresh.reduce((s, x) => s + Math.abs(x), 0) / fresh.length;
    return [
      f32('output', [1, 1], Float32Array.of(p)),
      f32(
        'stateN',
        [2, 1, 128],
        call.state.map((x) => x + 1),
      ),
    ];
  };
  return { run, calls };
}

describe('[VAD-3] speechProbabilities (Silero VAD v5 frame loop)', () => {
  it("feeds 512 new samples after the previous window's last 64, carries the state, passes sr = 16000", async () => {
    const samples = Float32Array.from({ length: 1200 }, (_, i) => (i + 1) / 10000);
    const { run, calls } = recordingModel(64);
    const probs = await speechProbabilities(samples, 16000, 512, run);

    expect(calls).toHaveLength(3); // ceil(1200 / 512)
    expect(probs).toHaveLength(3);
    for (const c of calls) {
      expect(c.inputDims).toEqual([1, 576]);
      expect(c.stateDims).toEqual([2, 1, 128]);
      expect(c.sr).toEqual([16000n]);
      expect(c.srDims).toEqual([]);
    }
    const [a, b, c] = calls as [Call, Call, Call];
    // First window: zero context, then samples 0..511.
    expect(Array.from(a.input.subarray(0, 64))).toEqual(new Array(64).fill(0));
    expect(a.input.subarray(64)).toEqual(samples.subarray(0, 512));
    // Second: samples 448..511 as context, then 512..1023.
    expect(b.input.subarray(0, 64)).toEqual(samples.subarray(448, 512));
    expect(b.input.subarray(64)).toEqual(samples.subarray(512, 1024));
    // Last, partial: 176 samples, then zeros.
    expect(c.input.subarray(0, 64)).toEqual(samples.subarray(960, 1024));
    expect(c.input.subarray(64, 64 + 176)).toEqual(samples.subarray(1024));
    expect(c.input.subarray(64 + 176).every((x) => x === 0)).toBe(true);
    // State: zeros, then each window's stateN.
    expect(a.state.every((x) => x === 0)).toBe(true);
    expect(b.state.every((x) => x === 1)).toBe(true);
    expect(c.state.every((x) => x === 2)).toBe(true);
    expect(a.state).toHaveLength(elementCount([2, 1, 128]));
    // Probabilities in window order.
    expect(probs[0]).toBeCloseTo(samples.subarray(0, 512).reduce((s, x) => s + x, 0) / 512, 6);
    expect(probs[2]).toBeCloseTo(samples.subarray(1024).reduce((s, x) => s + x, 0) / 512, 6);
  });

  it('runs at 8 kHz with 256-sample windows and a 32-sample context', async () => {
    const { run, calls } = recordingModel(32);
    await speechProbabilities(new Float32Array(600), 8000, 256, run);
    expect(calls.map((c) => c.inputDims)).toEqual([
      [1, 288],
      [1, 288],
      [1, 288],
    ]);
    expect(calls[0]?.sr).toEqual([8000n]);
  });

  it('makes no call for no audio', async () => {
    const { run, calls } = recordingModel(64);
    expect(await speechProbabilities(new Float32Array(0), 16000, 512, run)).toHaveLength(0);
    expect(calls).toHaveLength(0);
  });

  it('refuses rates and windows the model does not take', async () => {
    const { run } = recordingModel(64);
    await expect(speechProbabilities(new Float32Array(10), 16000, 256, run)).rejects.toThrow(VadConfigError);
    await expect(speechProbabilities(new Float32Array(10), 22050, 512, run)).rejects.toThrow(
      /512-sample frames at 16000 Hz.*not 512-sample frames at 22050 Hz/,
    );
  });

  it('refuses a model that does not answer like Silero VAD v5', async () => {
    const state = f32('stateN', [2, 1, 128], new Float32Array(256));
    const answer =
      (outputs: WireTensor[]): ModelRun =>
      async () =>
        outputs;
    const x = new Float32Array(512);
    await expect(speechProbabilities(x, 16000, 512, answer([state]))).rejects.toThrow(/no "output" at window 0 \(it returned: stateN\)/);
    await expect(speechProbabilities(x, 16000, 512, answer([f32('output', [1, 1], Float32Array.of(0.5))]))).rejects.toThrow(/no "stateN"/);
    await expect(speechProbabilities(x, 16000, 512, answer([f32('output', [1, 1], Float32Array.of(Number.NaN)), state]))).rejects.toThrow(VadModelError);
    await expect(speechProbabilities(x, 16000, 512, answer([f32('output', [1, 1], Float32Array.of(1.5)), state]))).rejects.toThrow(
      /not one probability in \[0, 1\]/,
    );
    await expect(speechProbabilities(x, 16000, 512, answer([f32('output', [1, 2], Float32Array.of(0.5, 0.5)), state]))).rejects.toThrow(/got 2 value/);
    await expect(
      speechProbabilities(x, 16000, 512, answer([f32('output', [1, 1], Float32Array.of(0.5)), f32('stateN', [1, 128], new Float32Array(128))])),
    ).rejects.toThrow(/not 256 finite numbers/);
    const int64: WireTensor = { name: 'output', dtype: 'int64', dims: [1, 1], data: new ArrayBuffer(8) };
    await expect(speechProbabilities(x, 16000, 512, answer([int64, state]))).rejects.toThrow(/is int64 \[1, 1\].*not float32/);
  });

  it('does not let the engine change the state it handed back after the fact', async () => {
    // An engine that reuses one output buffer for every call (as a pooled WASM engine might),
    // clearing it as a call starts.
    const shared = new Float32Array(256);
    const seen: number[] = [];
    const run: ModelRun = async (inputs) => {
      shared.fill(-1);
      const state = new Float32Array((inputs.find((t) => t.name === 'state') as WireTensor).data);
      seen.push(state[0] as number);
      shared.fill(seen.length);
      return [f32('output', [1, 1], Float32Array.of(0)), { name: 'stateN', dtype: 'float32', dims: [2, 1, 128], data: shared.buffer }];
    };
    await speechProbabilities(new Float32Array(512 * 3), 16000, 512, run);
    expect(seen).toEqual([0, 1, 2]);
  });
});
