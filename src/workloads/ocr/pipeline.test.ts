import { describe, expect, it } from 'vitest';
import { float32View, type WireTensor } from '../../protocol/tensor.ts';
import { OcrError, type RgbaImage } from './params.ts';
import { runOcr, type OcrModelId, type OcrModels } from './pipeline.ts';

const CHARSET = ['', 'h', 'i', ' '];
const W = 128;
const H = 64;

/** A grey ramp, dark on the left and light on the right: a crop's orientation shows in it. */
function ramp(): RgbaImage {
  const rgba = new Uint8ClampedArray(W * H * 4);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) rgba.set([2 * x, 2 * x, 2 * x, 255], (y * W + x) * 4);
  return { width: W, height: H, rgba };
}

const out = (name: string, dims: number[], values: ArrayLike<number>): WireTensor => ({ name, dtype: 'float32', dims, data: Float32Array.from(values).buffer });

/** Rec probabilities spelling `seq` (indices into CHARSET), each step sure with probability p. */
function recProbs(seq: readonly number[], p: number): WireTensor {
  const v: number[] = [];
  for (const c of seq) for (let k = 0; k < CHARSET.length; k++) v.push(k === c ? p : (1 - p) / 3);
  return out('y', [1, seq.length, CHARSET.length], v);
}

/**
 * Models with known answers: the detector sees two lines (rows 10..20 and 40..50), the classifier
 * calls the first upside down, the recognizer reads " hi " surely and then "ih" unsurely. Every
 * input is kept, so the test can look at what each model was given.
 */
function models(overrides: Partial<Record<OcrModelId, WireTensor[]>> = {}): OcrModels & { seen: Record<OcrModelId, WireTensor[][]> } {
  const seen: Record<OcrModelId, WireTensor[][]> = { det: [], cls: [], rec: [] };
  return {
    seen,
    async run(model, inputs) {
      seen[model].push([...inputs]);
      const given = overrides[model];
      if (given) return given;
      if (model === 'det') {
        const map = new Float32Array(W * H);
        for (const y0 of [10, 40]) for (let y = y0; y <= y0 + 10; y++) for (let x = 10; x <= 100; x++) map[y * W + x] = 0.9;
        return [out('maps', [1, 1, H, W], map)];
      }
      if (model === 'cls') return [out('p', [2, 2], [0.04, 0.96, 0.97, 0.03])];
      return seen.rec.length === 1 ? [recProbs([3, 1, 1, 0, 2, 3], 0.9)] : [recProbs([2, 1], 0.3)];
    },
  };
}

describe('OCR pipeline', () => {
  it('reads lines in order, turns crops the classifier finds upside down, trims and drops unsure lines', async () => {
    const m = models();
    const result = await runOcr(ramp(), m, CHARSET);
    expect(result.lines.map((l) => l.text)).toEqual(['hi']);
    expect(result.lines[0]?.confidence).toBeCloseTo(0.9, 6);
    expect(result.lines[0]?.box[0][1]).toBeLessThan(10);

    // The detector got the whole image as [1, 3, 64, 128]; the classifier both crops in one batch.
    expect(m.seen.det[0]?.[0]?.dims).toEqual([1, 3, 64, 128]);
    expect(m.seen.cls[0]?.[0]?.dims).toEqual([2, 3, 48, 192]);
    // The first crop was turned: its left end is now the ramp's light end. The second was not.
    const [first, second] = m.seen.rec.map((inputs) => float32View(inputs[0] as WireTensor));
    expect(first?.[0]).toBeGreaterThan(first?.[20] as number);
    expect(second?.[0]).toBeLessThan(second?.[20] as number);
    expect(m.seen.rec[0]?.[0]?.dims).toEqual([1, 3, 48, 320]);
  });

  it('gives no lines, and runs no other model, when nothing is detected', async () => {
    const m = models({ det: [out('maps', [1, 1, H, W], new Float32Array(W * H))] });
    expect(await runOcr(ramp(), m, CHARSET)).toEqual({ lines: [] });
    expect(m.seen.cls).toEqual([]);
  });

  it('refuses a model whose output is not the one the pipeline reads, naming the model', async () => {
    await expect(runOcr(ramp(), models({ det: [out('maps', [1, 1, 32, 32], new Float32Array(1024))] }), CHARSET)).rejects.toThrow(
      /det model gave float32 \[1, 1, 32, 32\]/,
    );
    await expect(runOcr(ramp(), models({ cls: [out('p', [2, 3], new Float32Array(6))] }), CHARSET)).rejects.toThrow(OcrError);
    await expect(runOcr(ramp(), models({ rec: [out('y', [1, 2, 7], new Float32Array(14))] }), CHARSET)).rejects.toThrow(/rec model gave/);
  });

  it('refuses pixels that do not match the stated size', async () => {
    await expect(runOcr({ width: 4, height: 4, rgba: new Uint8Array(10) }, models(), CHARSET)).rejects.toThrow(/expected 64 RGBA bytes/);
  });
});
