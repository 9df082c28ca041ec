/**
 * The reference run of an uploaded image model, outside the network: the test's own Node process
 * decodes the PNGs (pngjs: no colour management, the stored samples as they are), builds the
 * batch with the app's own preprocessing arithmetic (workloads/inputs/imageTensor.ts) and runs
 * the model with onnxruntime-node. What the network verified must match it within tolerance.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { pixelsToTensor, stackImages, type ImagePreprocessing } from '../../src/workloads/inputs/imageTensor.ts';

/** RGBA pixels of a PNG file, exactly as stored (8 bits per sample). */
export function readPng(file: string): { width: number; height: number; rgba: Uint8Array } {
  const png = PNG.sync.read(fs.readFileSync(file));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
}

/** One float32 output of the model for a batch of PNG files: its dims and values. */
export async function runImageModel(
  modelFile: string,
  files: readonly string[],
  p: ImagePreprocessing,
): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
  const images = files.map((f) => {
    const { width, height, rgba } = readPng(f);
    return pixelsToTensor(rgba, width, height, p);
  });
  const batch = stackImages(images, p);
  const session = await ort.InferenceSession.create(fs.readFileSync(modelFile));
  try {
    const input = session.inputNames[0];
    if (!input) throw new Error(`${modelFile} has no input`);
    const out = await session.run({ [input]: new ort.Tensor('float32', new Float32Array(batch.data), batch.shape) });
    const result: Record<string, { dims: number[]; data: Float32Array }> = {};
    for (const [name, t] of Object.entries(out)) {
      if (t.type !== 'float32') throw new Error(`output ${name} is ${t.type}; this reference reads float32 outputs`);
      result[name] = { dims: [...t.dims], data: t.data as Float32Array };
    }
    return result;
  } finally {
    await session.release();
  }
}
