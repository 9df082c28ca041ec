/**
 * Loads the committed ONNX model with onnxruntime-web in Node (the WASM execution provider, the
 * same one browsers without WebGPU use) and checks it against the training code.
 *
 * How this works in Node: onnxruntime-web's package.json maps the "node" export condition to
 * dist/ort.node.min.mjs, which finds ort-wasm-simd-threaded.{mjs,wasm} next to itself on disk;
 * vitest leaves node_modules to Node's own loader, so that is the build that runs here.
 * numThreads = 1 keeps it from spawning worker threads (not needed for a 200 KB model).
 */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MNIST_CLASSES,
  MNIST_HOLDOUT_URL,
  MNIST_INPUT_NAME,
  MNIST_MODEL_URL,
  MNIST_OUTPUT_NAME,
  MNIST_PIXELS,
  accuracy,
  argmaxRows,
  decodeMnistHoldout,
  type MnistHoldout,
} from '../../src/workloads/mnist/holdout.ts';
import { forwardMlp } from './mlp.ts';
import { ONNX_IR_VERSION, ONNX_OPSET, PRODUCER_NAME, readMlpOnnx } from './onnxExport.ts';
import { onnx } from './onnxProto.ts';

const publicFile = (url: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../public${url}`, import.meta.url)));

describe('committed MNIST model under onnxruntime-web (Node, WASM)', () => {
  const modelBytes = publicFile(MNIST_MODEL_URL);
  const holdout: MnistHoldout = decodeMnistHoldout(publicFile(MNIST_HOLDOUT_URL).slice().buffer);
  let session: ort.InferenceSession;
  let ortLogits: Float32Array;

  beforeAll(async () => {
    ort.env.wasm.numThreads = 1;
    session = await ort.InferenceSession.create(modelBytes);
    const input = new ort.Tensor('float32', holdout.images, [holdout.count, MNIST_PIXELS]);
    const out = await session.run({ [MNIST_INPUT_NAME]: input });
    const logits = out[MNIST_OUTPUT_NAME];
    if (logits === undefined) throw new Error(`no output ${MNIST_OUTPUT_NAME}`);
    expect(logits.type).toBe('float32');
    expect(logits.dims).toEqual([holdout.count, MNIST_CLASSES]);
    ortLogits = logits.data as Float32Array;
  });

  afterAll(async () => {
    await session.release();
  });

  it('has the agreed port names, types and shapes (batch is symbolic)', () => {
    expect(session.inputNames).toEqual([MNIST_INPUT_NAME]);
    expect(session.outputNames).toEqual([MNIST_OUTPUT_NAME]);
    expect(session.inputMetadata).toEqual([{ name: MNIST_INPUT_NAME, isTensor: true, type: 'float32', shape: ['batch', MNIST_PIXELS] }]);
    expect(session.outputMetadata).toEqual([{ name: MNIST_OUTPUT_NAME, isTensor: true, type: 'float32', shape: ['batch', MNIST_CLASSES] }]);
  });

  it('carries the expected model metadata', () => {
    const m = onnx.ModelProto.decode(modelBytes);
    expect(Number(m.irVersion)).toBe(ONNX_IR_VERSION);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    expect(m.producerName).toBe(PRODUCER_NAME);
    expect(m.graph?.node?.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm']);
  });

  it('scores >= 94% on the held-out digits', () => {
    expect(accuracy(argmaxRows(ortLogits, MNIST_CLASSES), holdout.labels)).toBeGreaterThanOrEqual(0.94);
  });

  it('matches the training code’s forward pass to 1e-4', () => {
    const ref = forwardMlp(readMlpOnnx(modelBytes), holdout.images, holdout.count);
    let maxDiff = 0;
    for (let i = 0; i < ref.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs((ref[i] as number) - (ortLogits[i] as number)));
    }
    expect(maxDiff).toBeLessThan(1e-4);
    // Same predictions, hence the same accuracy the training script reports.
    expect(Array.from(argmaxRows(ortLogits, MNIST_CLASSES))).toEqual(Array.from(argmaxRows(ref, MNIST_CLASSES)));
  });

  it('accepts other batch sizes (batch really is dynamic)', async () => {
    const one = holdout.images.slice(0, MNIST_PIXELS);
    const out = await session.run({ [MNIST_INPUT_NAME]: new ort.Tensor('float32', one, [1, MNIST_PIXELS]) });
    const logits = out[MNIST_OUTPUT_NAME];
    expect(logits?.dims).toEqual([1, MNIST_CLASSES]);
    const data = logits?.data as Float32Array;
    for (let c = 0; c < MNIST_CLASSES; c++) expect(data[c]).toBeCloseTo(ortLogits[c] as number, 4);
  });
});
