/**
 * For the CLI's end-to-end tests: what the browser's engine (onnxruntime-web, wasm, one thread)
 * computes for `inputs`, the reference that results from Node volunteers are compared with.
 */
import { asModelHash } from '../../src/protocol/ids.ts';
import { float32View, type WireTensor } from '../../src/protocol/tensor.ts';
import { createOrtEngine } from '../../src/runtime/ortEngine.ts';
import { sha256Hex } from '../../src/runtime/sha256.ts';

/** The model's first output for `inputs`, as a float32 array. */
export async function webReference(model: Uint8Array, inputs: WireTensor): Promise<Float32Array> {
  const web = createOrtEngine();
  try {
    await web.init({ backend: 'wasm', threads: 1 });
    const hash = asModelHash(await sha256Hex(model));
    await web.loadModel(hash, model.slice().buffer);
    return float32View((await web.run(hash, [inputs])).outputs[0]!);
  } finally {
    await web.dispose();
  }
}
