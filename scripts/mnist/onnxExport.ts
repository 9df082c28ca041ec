/**
 * Builds the MNIST MLP as an ONNX model with onnx-proto (no hand-written protobuf):
 *
 *   pixels [batch, 784] --Gemm(fc1.weight [784,H], fc1.bias [H])--> Relu --Gemm(fc2.weight [H,10],
 *   fc2.bias [10])--> logits [batch, 10]
 *
 * Opset 13 / IR version 7: old enough for every onnxruntime-web build, new enough to be current.
 * Weights are float32 raw_data initializers written little-endian explicitly (ONNX's byte order)
 * rather than copied from a Float32Array's buffer, which is host-endian. Nothing time- or
 * host-dependent goes in, so the same weights always give the same bytes.
 */
import type { MlpParams32 } from './mlp.ts';
import { onnx, type OnnxNamespace } from './onnxProto.ts';

export const ONNX_IR_VERSION = 7;
export const ONNX_OPSET = 13;
export const PRODUCER_NAME = 'quorum-train-mnist';
export const PRODUCER_VERSION = '1';

export interface OnnxExportOptions {
  readonly inputName: string;
  readonly outputName: string;
  readonly docString?: string;
}

const FLOAT = 1; // onnx.TensorProto.DataType.FLOAT

function float32LE(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return out;
}

function initializer(name: string, dims: readonly number[], values: Float32Array): OnnxNamespace.ITensorProto {
  let n = 1;
  for (const d of dims) n *= d;
  if (n !== values.length) throw new RangeError(`${name}: dims ${dims.join('x')} need ${n} values, got ${values.length}`);
  return { name, dims: [...dims], dataType: FLOAT, rawData: float32LE(values) };
}

function floatTensorInfo(name: string, dims: readonly (number | string)[]): OnnxNamespace.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/** Serialized ONNX model bytes for these float32 parameters. */
export function exportMlpOnnx(p: MlpParams32, opts: OnnxExportOptions): Uint8Array {
  const { inputs, hidden, classes } = p;
  const model: OnnxNamespace.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    ...(opts.docString === undefined ? {} : { docString: opts.docString }),
    graph: {
      name: 'mnist_mlp',
      node: [
        { name: 'fc1', opType: 'Gemm', input: [opts.inputName, 'fc1.weight', 'fc1.bias'], output: ['fc1.out'] },
        { name: 'relu1', opType: 'Relu', input: ['fc1.out'], output: ['relu1.out'] },
        { name: 'fc2', opType: 'Gemm', input: ['relu1.out', 'fc2.weight', 'fc2.bias'], output: [opts.outputName] },
      ],
      initializer: [
        initializer('fc1.weight', [inputs, hidden], p.w1),
        initializer('fc1.bias', [hidden], p.b1),
        initializer('fc2.weight', [hidden, classes], p.w2),
        initializer('fc2.bias', [classes], p.b2),
      ],
      input: [floatTensorInfo(opts.inputName, ['batch', inputs])],
      output: [floatTensorInfo(opts.outputName, ['batch', classes])],
    },
  };
  // protobufjs returns a Node Buffer here; copy into a plain Uint8Array for callers.
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

function toNumber(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

/**
 * Reads the MLP's parameters back out of model bytes written by exportMlpOnnx (for tests and
 * for checking the committed file; not a general ONNX reader).
 */
export function readMlpOnnx(bytes: Uint8Array): MlpParams32 {
  const model = onnx.ModelProto.decode(bytes);
  const tensors = new Map<string, { dims: number[]; values: Float32Array }>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataType !== FLOAT || !t.name) throw new Error(`unexpected initializer ${t.name}`);
    const raw = t.rawData;
    if (!raw || raw.byteLength % 4 !== 0) throw new Error(`initializer ${t.name} has no float32 raw_data`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const values = new Float32Array(raw.byteLength / 4);
    for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(i * 4, true);
    tensors.set(t.name, { dims: (t.dims ?? []).map(toNumber), values });
  }
  const get = (name: string): { dims: number[]; values: Float32Array } => {
    const t = tensors.get(name);
    if (t === undefined) throw new Error(`model has no initializer ${name}`);
    return t;
  };
  const w1 = get('fc1.weight');
  const w2 = get('fc2.weight');
  const [inputs, hidden] = w1.dims;
  const classes = w2.dims[1];
  if (inputs === undefined || hidden === undefined || classes === undefined) throw new Error('bad weight dims');
  return { inputs, hidden, classes, w1: w1.values, b1: get('fc1.bias').values, w2: w2.values, b2: get('fc2.bias').values };
}
