/**
 * [W-22] A shard of files through the inference Worker's protocol, as a volunteer runs it: the
 * worker server decodes each PNG (pngjs here; the browser's exact decode in the app), resizes,
 * normalises and stacks them, and runs the model — over a MessageChannel with the real
 * onnxruntime-web WASM engine. The result must be the model run on the tensor the requester's
 * own preprocessing builds from the same files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../scripts/make-probe-model.ts';
import type { ModelHash } from '../protocol/ids.ts';
import type { JobFile } from '../protocol/jobFiles.ts';
import type { Pipeline } from '../protocol/pipeline.ts';
import { pixelsToTensor, stackImages, type ImagePreprocessing } from '../workloads/inputs/imageTensor.ts';
import { resizeRgba } from '../workloads/inputs/resizeImage.ts';
import type { ImageDecoder } from './imagePipeline.ts';
import { createOrtEngine } from './ortEngine.ts';
import { sha256Hex } from './sha256.ts';
import { createWorkerEngine, type WorkerLike } from './workerEngine.ts';
import { serveEngine, type MessageEndpoint } from './workerServer.ts';

const LINES = new URL('../../e2e/fixtures/ocr-lines/', import.meta.url);
const lineFiles = (): JobFile[] =>
  readdirSync(LINES)
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((name) => ({ name, bytes: new Uint8Array(readFileSync(new URL(name, LINES))).buffer }));

/** pngjs: the stored samples, no colour management, as the browser's exact decode gives them. */
const decodePng: ImageDecoder = async (bytes) => {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
};

/** An identity model over [n, 3, h, w]: its output is exactly the tensor the pipeline built. */
function identity(h: number, w: number): Uint8Array {
  return buildModel({
    inputs: [{ name: 'x', type: 'float32', dims: ['n', 3, h, w] }],
    outputs: [{ name: 'y', type: 'float32', dims: ['n', 3, h, w] }],
    nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
  });
}

function channelEngine() {
  const { port1, port2 } = new MessageChannel();
  serveEngine(port2 as unknown as MessageEndpoint, createOrtEngine(), decodePng);
  const worker: WorkerLike = {
    postMessage: (msg, transfer) => port1.postMessage(msg, transfer as Transferable[]),
    addEventListener: (type: string, listener: (event: never) => void) =>
      port1.addEventListener(type as 'message', listener as unknown as (e: MessageEvent) => void),
    terminate: () => {
      port1.close();
      port2.close();
    },
  };
  port1.start();
  port2.start();
  return createWorkerEngine({ spawn: () => worker });
}

const pipelineFor = (model: ModelHash, p: ImagePreprocessing): Pipeline => ({
  v: 1,
  stages: [
    { op: 'decode-image', maxPixels: 1_000_000 },
    { op: 'image-tensor', input: 'x', ...p },
    { op: 'run-model', model },
  ],
});

describe('pipelines of files in the inference Worker [W-22]', () => {
  it("[W-22] decodes, resizes and normalises the shard's PNGs in the Worker: the model sees the requester's own tensor, bit for bit", async () => {
    const p: ImagePreprocessing = { width: 96, height: 24, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' };
    const model = identity(p.height, p.width);
    const hash = await sha256Hex(model);
    const files = lineFiles();
    expect(files).toHaveLength(6);
    const engine = channelEngine();
    try {
      await engine.init({ backend: 'wasm', threads: 1 });
      await engine.loadModel(hash, model.slice().buffer);
      const result = await engine.runPipeline(hash, pipelineFor(hash, p), files);
      // The reference: the same files decoded and preprocessed on this side.
      const expected = stackImages(
        files.map((f) => {
          const png = PNG.sync.read(Buffer.from(f.bytes));
          return pixelsToTensor(resizeRgba(png.data, png.width, png.height, p.width, p.height), p.width, p.height, p);
        }),
        p,
      );
      const y = result.outputs[0]!;
      expect(y.dims).toEqual([6, 3, 24, 96]);
      expect(Buffer.from(y.data).equals(Buffer.from(expected.data))).toBe(true);
    } finally {
      await engine.dispose();
    }
  });

  it('[W-22] a file that is not an image fails the run with a reason naming the file, never an empty result', async () => {
    const p: ImagePreprocessing = { width: 192, height: 48, layout: 'CHW', channels: 'BGR', normalisation: 'symmetric' };
    const model = identity(p.height, p.width);
    const hash = await sha256Hex(model);
    const files = [...lineFiles().slice(0, 1), { name: 'notes.txt', bytes: new TextEncoder().encode('not a picture').buffer }];
    const engine = channelEngine();
    try {
      await engine.init({ backend: 'wasm', threads: 1 });
      await engine.loadModel(hash, model.slice().buffer);
      await expect(engine.runPipeline(hash, pipelineFor(hash, p), files)).rejects.toThrow(/file "notes\.txt" \(item 2 of the shard\) could not be decoded/);
      // Over the pipeline's own pixel limit: named too.
      const tight: Pipeline = { ...pipelineFor(hash, p), stages: [{ op: 'decode-image', maxPixels: 100 }, ...pipelineFor(hash, p).stages.slice(1)] };
      await expect(engine.runPipeline(hash, tight, lineFiles().slice(0, 1))).rejects.toThrow(
        /file "01-total-12-80\.png" \(item 1 of the shard\) could not be decoded: it is 192×48, over the pipeline's limit of 100 pixels/,
      );
    } finally {
      await engine.dispose();
    }
  });

  it('[W-22] a worker without a decoder refuses a pipeline run with what it lacks', async () => {
    const { port1, port2 } = new MessageChannel();
    serveEngine(port2 as unknown as MessageEndpoint, createOrtEngine());
    const answer = new Promise<unknown>((resolve) => port1.addEventListener('message', (e) => resolve(e.data)));
    port1.start();
    port2.start();
    const hash = 'a'.repeat(64) as ModelHash;
    port1.postMessage({
      id: 1,
      kind: 'run-pipeline',
      hash,
      pipeline: pipelineFor(hash, { width: 4, height: 4, layout: 'CHW', channels: 'RGB', normalisation: 'unit' }),
      files: lineFiles().slice(0, 1),
    });
    expect(await answer).toMatchObject({ id: 1, ok: false, error: 'this inference worker cannot decode files' });
    port1.close();
  });
});
