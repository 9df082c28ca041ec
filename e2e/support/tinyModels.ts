/**
 * Small ONNX models and inputs the requester tests make themselves (not MNIST), with plain-JS
 * reference outputs to check what the network verified against.
 */
import { onnx, type OnnxNamespace } from '../../scripts/mnist/onnxProto.ts';
import { seededRng } from '../../src/core/rng.ts';
import { writeNpy } from '../../src/workloads/inputs/npy.ts';

const FLOAT = 1; // onnx.TensorProto.DataType.FLOAT

/** y = relu(x · W + b), x float32 [batch, 4], W [4, 3], b [3]. */
export const RELU_W = [0.5, -1.25, 2, 1.5, 0.75, -0.5, -2, 0.25, 1, 0.125, 1, -0.75] as const;
export const RELU_B = [0.6, 0.4, 0.5] as const;
export const RELU_IN = 4;
export const RELU_OUT = 3;

function floatInfo(name: string, dims: readonly (number | string)[]): OnnxNamespace.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } } };
}

function encode(graph: OnnxNamespace.IGraphProto): Buffer {
  const model: OnnxNamespace.IModelProto = { irVersion: 8, producerName: 'quorum-e2e', opsetImport: [{ domain: '', version: 17 }], graph };
  return Buffer.from(onnx.ModelProto.encode(model).finish());
}

export function reluModel(): Buffer {
  return encode({
    name: 'relu_mlp',
    node: [
      { name: 'mm', opType: 'MatMul', input: ['x', 'W'], output: ['h'] },
      { name: 'add', opType: 'Add', input: ['h', 'b'], output: ['z'] },
      { name: 'relu', opType: 'Relu', input: ['z'], output: ['y'] },
    ],
    initializer: [
      { name: 'W', dataType: FLOAT, dims: [RELU_IN, RELU_OUT], floatData: [...RELU_W] },
      { name: 'b', dataType: FLOAT, dims: [RELU_OUT], floatData: [...RELU_B] },
    ],
    input: [floatInfo('x', ['batch', RELU_IN])],
    output: [floatInfo('y', ['batch', RELU_OUT])],
  });
}

/** A well-formed ONNX file whose only node is an operator no runtime has: it cannot be loaded. */
export function unloadableModel(): Buffer {
  return encode({
    name: 'unknown_op',
    node: [{ name: 'n', opType: 'NoSuchOperator', input: ['x'], output: ['y'] }],
    input: [floatInfo('x', ['batch', 4])],
    output: [floatInfo('y', ['batch', 4])],
  });
}

/** `items` rows of 4 seeded values in [-1, 1), as float32. */
export function seededInputs(items: number, seed: number): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: items * RELU_IN }, () => rng.next() * 2 - 1);
}

export function npyFile(values: Float32Array | Int32Array, shape: readonly number[]): Buffer {
  const dtype = values instanceof Float32Array ? 'float32' : 'int32';
  return Buffer.from(writeNpy({ dtype, shape, data: values.slice().buffer }));
}

/** The reference: relu(x · W + b) in plain JS (double precision), [items, 3]. */
export function reluReference(x: Float32Array): Float64Array {
  const items = x.length / RELU_IN;
  const y = new Float64Array(items * RELU_OUT);
  for (let i = 0; i < items; i++) {
    for (let j = 0; j < RELU_OUT; j++) {
      let s = RELU_B[j] as number;
      for (let k = 0; k < RELU_IN; k++) s += (x[i * RELU_IN + k] as number) * (RELU_W[k * RELU_OUT + j] as number);
      y[i * RELU_OUT + j] = Math.max(0, s);
    }
  }
  return y;
}
