/**
 * The onnxruntime-node engine of headless volunteers: it reports `node-cpu` only after the probe
 * model ran, and computes what the browser's onnxruntime-web computes on the same model and digits
 * (the coordinator compares their results, so they must agree within the MNIST job's tolerance).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { asModelHash } from '../protocol/ids.ts';
import { float32View, type WireTensor } from '../protocol/tensor.ts';
import { decodeMnistHoldout, MNIST_INPUT_NAME, MNIST_PIXELS } from '../workloads/mnist/holdout.ts';
import { mnistBatch } from '../workloads/mnist/mnistJob.ts';
import type { InferenceEngine } from './engine.ts';
import { createOrtEngine } from './ortEngine.ts';
import { createOrtNodeEngine } from './ortNodeEngine.node.ts';
import { sha256Hex } from './sha256.ts';

const MNIST_MODEL = readFileSync(new URL('../../public/models/mnist-mlp.onnx', import.meta.url));
const HOLDOUT = decodeMnistHoldout(readFileSync(new URL('../../public/data/mnist-holdout.bin', import.meta.url)).buffer as ArrayBuffer);

const engines: InferenceEngine[] = [];
const engine = (make: () => InferenceEngine = createOrtNodeEngine): InferenceEngine => {
  const e = make();
  engines.push(e);
  return e;
};
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.dispose()));
});

const digits = (n: number): WireTensor => ({ name: MNIST_INPUT_NAME, dtype: 'float32', dims: [n, MNIST_PIXELS], data: mnistBatch(HOLDOUT, n).data });

describe('onnxruntime-node engine', () => {
  it('reports node-cpu, the real onnxruntime-node version and its threads, after running the probe', async () => {
    expect(await engine().init({ backend: 'auto', threads: 2 })).toEqual({
      backend: 'node-cpu',
      adapter: null,
      backendReason: "headless volunteer: probe model ran on onnxruntime-node's CPU provider",
      ortVersion: '1.30.0',
      threads: 2,
    });
  });

  it('refuses a browser backend with a message that says where it exists', async () => {
    await expect(engine().init({ backend: 'webgpu', threads: 1 })).rejects.toThrow(/webgpu exists only in a browser tab/);
  });

  it('runs the MNIST model as onnxruntime-web does (within 1e-5), and says node-cpu ran it', async () => {
    const hash = asModelHash(await sha256Hex(MNIST_MODEL));
    const node = engine();
    const web = engine(createOrtEngine);
    await node.init({ backend: 'auto', threads: 1 });
    await web.init({ backend: 'wasm', threads: 1 });
    expect(await node.loadModel(hash, MNIST_MODEL.slice().buffer)).toEqual({
      inputs: [{ name: 'pixels', dtype: 'float32', dims: ['batch', 784] }],
      outputs: [{ name: 'logits', dtype: 'float32', dims: ['batch', 10] }],
    });
    await web.loadModel(hash, MNIST_MODEL.slice().buffer);
    const a = await node.run(hash, [digits(64)]);
    const b = await web.run(hash, [digits(64)]);
    expect(a.backend).toBe('node-cpu');
    expect(a.outputs.map((t) => [t.name, t.dims])).toEqual([['logits', [64, 10]]]);
    const x = float32View(a.outputs[0]!);
    const y = float32View(b.outputs[0]!);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    expect(worst).toBeLessThan(1e-5);
  });

  it('explains bad inputs and unknown models, keeps working afterwards, and refuses work once disposed', async () => {
    const hash = asModelHash(await sha256Hex(MNIST_MODEL));
    const e = engine();
    await expect(e.run(hash, [digits(1)])).rejects.toThrow(/not initialised/);
    await e.init({ backend: 'node-cpu', threads: 1 });
    await expect(e.loadModel(hash, new TextEncoder().encode('not onnx').slice().buffer)).rejects.toThrow(/cannot be loaded by onnxruntime-node/);
    await expect(e.run(hash, [digits(1)])).rejects.toThrow(/is not loaded; call loadModel first/);
    await e.loadModel(hash, MNIST_MODEL.slice().buffer);
    await expect(e.run(hash, [{ ...digits(1), name: 'image' }])).rejects.toThrow(/no input named "image"|needs an input named "pixels"/);
    expect((await e.run(hash, [digits(3)])).outputs[0]!.dims).toEqual([3, 10]);
    await e.dispose();
    await expect(e.run(hash, [digits(1)])).rejects.toThrow(/disposed/);
  });
});
