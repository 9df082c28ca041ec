import { describe, expect, it } from 'vitest';
import { pipelineSchema } from '../../protocol/pipeline.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import type { ModelRun } from './sileroLoop.ts';
import { decodeWav, runVadItem, VAD_DEFAULTS, vadPipeline } from './vadPipeline.ts';
import { WavError } from './wav.ts';
import { asModelHash } from '../../protocol/ids.ts';

/** A 16-bit PCM WAV of interleaved samples in [-1, 1]. */
function wav16(rate: number, channels: number, interleaved: Float32Array): Uint8Array {
  const bytes = new Uint8Array(44 + interleaved.length * 2);
  const v = new DataView(bytes.buffer);
  const text = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  v.setUint32(4, bytes.length - 8, true);
  text(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * channels * 2, true);
  v.setUint16(32, channels * 2, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, interleaved.length * 2, true);
  interleaved.forEach((x, i) => v.setInt16(44 + i * 2, Math.round(x * 32767), true));
  return bytes;
}

/**
 * An energy detector with Silero's signature, standing in for the model so that the chain
 * (decode → resample → frame loop → segments) can be checked against numbers worked out by hand:
 * probability = min(1, 4 · mean |new samples|).
 */
const energyModel: ModelRun = async (inputs) => {
  const input = new Float32Array((inputs.find((t) => t.name === 'input') as WireTensor).data).subarray(64);
  const p = Math.min(1, (4 * input.reduce((s, x) => s + Math.abs(x), 0)) / input.length);
  const out = (name: string, dims: number[], data: Float32Array<ArrayBuffer>): WireTensor => ({ name, dtype: 'float32', dims, data: data.buffer });
  return [out('output', [1, 1], Float32Array.of(p)), out('stateN', [2, 1, 128], new Float32Array(256))];
};

describe('[VAD-1]–[VAD-4] the voice-activity pipeline, item by item', () => {
  const decode = VAD_DEFAULTS.decode;
  const vad = { ...VAD_DEFAULTS.vad, model: asModelHash('a'.repeat(64)) };

  it('is a pipeline the protocol accepts', () => {
    expect(pipelineSchema.safeParse(vadPipeline(asModelHash('a'.repeat(64)))).success).toBe(true);
  });

  it('decodes a 44.1 kHz stereo file to 16 kHz mono', () => {
    const stereo = Float32Array.from({ length: 44100 * 2 }, (_, i) => (i % 2 === 0 ? 0.5 : 0.25));
    const audio = decodeWav(wav16(44100, 2, stereo), 'tone.wav', decode);
    expect(audio.sampleRate).toBe(16000);
    expect(audio.samples).toHaveLength(16000);
    expect(audio.source).toMatchObject({ sampleRateHz: 44100, channels: 2, encoding: 'pcm-s16', frames: 44100 });
    expect(Math.abs((audio.samples[8000] as number) - 0.375)).toBeLessThan(1e-4);
  });

  it('finds the sound in silence, tone, silence (44.1 kHz stereo) where the arithmetic says', async () => {
    // 1 s silence, 1 s of 440 Hz at half scale on the left and silence on the right, 1 s silence.
    const rate = 44100;
    const frames = Float32Array.from({ length: rate * 3 * 2 }, (_, i) => {
      const t = Math.floor(i / 2) / rate;
      return i % 2 === 0 && t >= 1 && t < 2 ? 0.5 * Math.sin(2 * Math.PI * 440 * t) : 0;
    });
    const answer = await runVadItem(wav16(rate, 2, frames), 'tone.wav', decode, vad, energyModel);
    // Mono mean |x| over the tone is 0.25 · 2/π ≈ 0.159, so p ≈ 0.64 in full windows.
    // Window 31 (15,872–16,383) holds 384 tone samples: p ≈ 0.48 < 0.5, so speech starts at window
    // 32 (1.024 s), padded by 64 ms to 0.96 s. Window 62 (31,744–32,255) holds 256 tone samples:
    // p ≈ 0.32 < 0.35, so the last speech window is 61 and speech ends at 62 · 0.032 = 1.984 s.
    expect(answer).toEqual({ kind: 'segments', segments: [{ start: 0.96, end: 1.984 }] });
  });

  it('refuses a file that is not a WAV, naming it', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    await expect(runVadItem(png, 'scan.png', decode, vad, energyModel)).rejects.toThrow(WavError);
    await expect(runVadItem(png, 'scan.png', decode, vad, energyModel)).rejects.toThrow(/"scan\.png" is not a WAV file/);
  });

  it("applies the decode stage's duration limit", async () => {
    const threeSeconds = wav16(8000, 1, new Float32Array(24000));
    await expect(runVadItem(threeSeconds, 'long.wav', { ...decode, maxSeconds: 2 }, vad, energyModel)).rejects.toThrow(
      /"long\.wav" is 3\.0 s long, over the limit of 2 s/,
    );
  });
});
