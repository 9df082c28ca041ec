/**
 * [W-23] The executor's other shapes on the real onnxruntime-web engine: `… → run-model → top-k`
 * gives labels computed from the very outputs the tensor pipeline returns, and an `ocr` stage
 * without a classifier runs from a bundle that has none.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../scripts/make-probe-model.ts';
import { readOcrAssets } from '../../scripts/workloads/ocrCommand.ts';
import { buildAssetBundle } from '../protocol/assetBundle.ts';
import type { JobFile } from '../protocol/jobFiles.ts';
import { answerSchema, type Pipeline } from '../protocol/pipeline.ts';
import { float32View } from '../protocol/tensor.ts';
import { ocrPipeline } from '../workloads/ocr/ocrWorkload.ts';
import { createBundleEngine } from './bundleEngine.ts';
import type { ImageDecoder } from './imagePipeline.ts';
import { createOrtEngine } from './ortEngine.ts';
import { sha256Hex } from './sha256.ts';

const LINES = path.resolve(import.meta.dirname, '../../e2e/fixtures/ocr-lines');
const lineManifest = JSON.parse(fs.readFileSync(path.join(LINES, 'manifest.json'), 'utf8')) as { file: string; text: string; rotated: boolean }[];
const fileOf = (name: string): JobFile => ({ name, bytes: new Uint8Array(fs.readFileSync(path.join(LINES, name))).buffer });

const decodePng: ImageDecoder = async (bytes) => {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
};

describe('[W-23] pipelines of files on the bundle engine', () => {
  it("[W-23] top-k labels are the k largest of each item's row of the outputs the tensor pipeline gives, largest first", async () => {
    // [n, 3, 2, 4] → Flatten → [n, 24]: every pixel value is a "class score".
    const model = buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: ['n', 3, 2, 4] }],
      outputs: [{ name: 'y', type: 'float32', dims: ['n', 24] }],
      nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['y'] }],
    });
    const hash = await sha256Hex(model);
    const tensorPipeline: Pipeline = {
      v: 1,
      stages: [
        { op: 'decode-image', maxPixels: 1_000_000 },
        { op: 'image-tensor', input: 'x', width: 4, height: 2, layout: 'CHW', channels: 'RGB', normalisation: 'imagenet' },
        { op: 'run-model', model: hash },
      ],
    };
    const topK: Pipeline = { ...tensorPipeline, stages: [...tensorPipeline.stages, { op: 'top-k', output: 'y', k: 5 }] };
    const files = lineManifest.slice(0, 3).map((m) => fileOf(m.file));
    const engine = createBundleEngine(createOrtEngine(), decodePng);
    try {
      await engine.init({ backend: 'wasm', threads: 1 });
      await engine.loadModel(hash, model.slice().buffer);
      const tensors = await engine.runPipeline(hash, tensorPipeline, files);
      expect(tensors.answers).toBeUndefined();
      const y = float32View(tensors.outputs[0]!);
      const labels = await engine.runPipeline(hash, topK, files);
      expect(labels.outputs).toEqual([]);
      expect(labels.answers).toHaveLength(3);
      labels.answers!.forEach((answer, i) => {
        expect(answerSchema.safeParse(answer).success).toBe(true);
        const row = Array.from(y.subarray(i * 24, (i + 1) * 24), (score, index) => ({ index, score }));
        const expected = row.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, 5);
        expect(answer).toEqual({ kind: 'labels', labels: expected });
      });
      await expect(engine.runPipeline(hash, { ...topK, stages: [...tensorPipeline.stages, { op: 'top-k', output: 'logits', k: 1 }] }, files)).rejects.toThrow(
        /the model has no output "logits" for the top-k stage/,
      );
    } finally {
      await engine.dispose();
    }
  }, 60_000);

  it('[W-23] an ocr stage without a classifier reads an upright line from a bundle with no classifier in it', async () => {
    const assets = readOcrAssets();
    const bundle = buildAssetBundle([
      { name: 'det.onnx', bytes: assets.det },
      { name: 'rec.onnx', bytes: assets.rec },
      { name: 'keys.txt', bytes: assets.dictionary },
    ]);
    const [det, rec, dictionary, cls] = await Promise.all([assets.det, assets.rec, assets.dictionary, assets.cls].map((b) => sha256Hex(b)));
    const full = ocrPipeline({ det: det!, cls: cls!, rec: rec!, dictionary: dictionary! });
    const pipeline: Pipeline = { ...full, stages: full.stages.map((s) => (s.op === 'ocr' ? { ...s, classify: null } : s)) };
    const hash = await sha256Hex(bundle);
    const engine = createBundleEngine(createOrtEngine(), decodePng);
    try {
      await engine.init({ backend: 'wasm', threads: 1 });
      await engine.loadModel(hash, bundle.slice().buffer);
      const line = lineManifest.find((m) => !m.rotated)!;
      const result = await engine.runPipeline(hash, pipeline, [fileOf(line.file)]);
      expect(result.answers?.[0]).toMatchObject({ kind: 'ocr', lines: [{ text: line.text }] });
      // With its classifier named, the same bundle is refused: the pipeline needs a model it lacks.
      await expect(engine.runPipeline(hash, full, [fileOf(line.file)])).rejects.toThrow(/names a model [0-9a-f]{12}… that the job's bundle/);
    } finally {
      await engine.dispose();
    }
  }, 60_000);
});
