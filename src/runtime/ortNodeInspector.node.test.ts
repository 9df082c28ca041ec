/**
 * [N-1] [J-4] The onnxruntime-node engine reports signatures as the browser's engine does, so a
 * Node coordinator's ModelInspector refuses and admits what the coordinator page would.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../scripts/make-probe-model.ts';
import { ModelInspector } from '../host/modelInspector.ts';
import { checkInputsAgainstSignature } from '../core/jobChecks.ts';
import { createOrtNodeEngine } from './ortNodeEngine.node.ts';

const MNIST = fs.readFileSync(new URL('../../public/models/mnist-mlp.onnx', import.meta.url));

describe('[N-1] onnxruntime-node engine', () => {
  const inspector = new ModelInspector(() => createOrtNodeEngine());

  it("reports the model's inputs and outputs with dtypes and dims", async () => {
    const inspection = await inspector.inspect(MNIST.buffer.slice(MNIST.byteOffset, MNIST.byteOffset + MNIST.byteLength));
    if (!inspection.ok) throw new Error(inspection.reason);
    expect(inspection.signature.inputs).toEqual([{ name: 'pixels', dtype: 'float32', dims: [expect.anything(), 784] }]);
    expect(inspection.signature.outputs).toEqual([{ name: 'logits', dtype: 'float32', dims: [expect.anything(), 10] }]);
    // [J-4] so wrong inputs are refused with the page's words.
    expect(checkInputsAgainstSignature(inspection.signature, [{ name: 'pixels', dtype: 'int32', dims: [2, 784] }], 1)).toEqual([
      expect.stringMatching(/"pixels" is int32, but the model expects float32/),
    ]);
  });

  it('refuses a model the runtime cannot load, naming why', async () => {
    const model = buildModel({
      inputs: [{ name: 'x', type: 'float32', dims: ['batch', 4] }],
      outputs: [{ name: 'y', type: 'float32', dims: ['batch', 4] }],
      nodes: [{ op: 'NoSuchOperator', inputs: ['x'], outputs: ['y'] }],
    });
    const inspection = await inspector.inspect(model.slice().buffer);
    expect(inspection).toMatchObject({ ok: false, kind: 'cannot-load', reason: expect.stringMatching(/NoSuchOperator/) });
  });

  it('runs a model and checks the inputs first', async () => {
    const engine = createOrtNodeEngine();
    await engine.init({ backend: 'auto', threads: 1 });
    const hash = 'a'.repeat(64) as Parameters<typeof engine.run>[0];
    await engine.loadModel(hash, MNIST.buffer.slice(MNIST.byteOffset, MNIST.byteOffset + MNIST.byteLength));
    const out = await engine.run(hash, [{ name: 'pixels', dtype: 'float32', dims: [3, 784], data: new ArrayBuffer(3 * 784 * 4) }]);
    expect(out.outputs.map((t) => [t.name, t.dtype, t.dims])).toEqual([['logits', 'float32', [3, 10]]]);
    await expect(engine.run(hash, [{ name: 'x', dtype: 'float32', dims: [1, 784], data: new ArrayBuffer(784 * 4) }])).rejects.toThrow(
      /needs an input named "pixels"/,
    );
    await engine.dispose();
  });
});
