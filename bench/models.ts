/**
 * The models the benchmarks run: the product's MNIST MLP (784->64->10, 50 k multiply-adds per
 * digit: cheap, so the network is bound by moving its 3,136 input bytes per digit) and a
 * compute-heavy MLP on the same input (784->2048->2048->10, 5.8 M multiply-adds per digit, 117x
 * more), where the network is bound by compute, as real inference workloads are. The heavy one is
 * generated deterministically (seeded weights) into the bench page's folder, once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildModel } from '../scripts/make-probe-model.ts';
import { BENCH_DIST, BENCH_TMP, ROOT } from './env.ts';

export interface BenchModel {
  readonly name: string;
  /** Where the bench page fetches it. */
  readonly url: string;
  /** Where Node reads it. */
  readonly file: string;
  readonly macsPerItem: number;
  readonly bytes: number;
}

export const MNIST_MODEL: BenchModel = {
  name: 'mnist-mlp',
  url: '/models/mnist-mlp.onnx',
  file: path.join(ROOT, 'public', 'models', 'mnist-mlp.onnx'),
  macsPerItem: 784 * 64 + 64 * 10,
  bytes: fs.statSync(path.join(ROOT, 'public', 'models', 'mnist-mlp.onnx')).size,
};

const HIDDEN = 2048;

function buildHeavyMlp(): Uint8Array {
  let seed = 0x9e3779b9;
  const rand = (): number => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const weights = (rows: number, cols: number): number[] => Array.from({ length: rows * cols }, () => Math.fround(rand() * (2 / Math.sqrt(rows))));
  const bias = (n: number): number[] => Array.from({ length: n }, () => Math.fround(rand() * 0.01));
  return buildModel({
    inputs: [{ name: 'pixels', type: 'float32', dims: ['batch', 784] }],
    outputs: [{ name: 'logits', type: 'float32', dims: ['batch', 10] }],
    initializers: [
      { name: 'W1', dims: [784, HIDDEN], values: weights(784, HIDDEN) },
      { name: 'b1', dims: [HIDDEN], values: bias(HIDDEN) },
      { name: 'W2', dims: [HIDDEN, HIDDEN], values: weights(HIDDEN, HIDDEN) },
      { name: 'b2', dims: [HIDDEN], values: bias(HIDDEN) },
      { name: 'W3', dims: [HIDDEN, 10], values: weights(HIDDEN, 10) },
      { name: 'b3', dims: [10], values: bias(10) },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['pixels', 'W1'], outputs: ['h1'] },
      { op: 'Add', inputs: ['h1', 'b1'], outputs: ['a1'] },
      { op: 'Relu', inputs: ['a1'], outputs: ['r1'] },
      { op: 'MatMul', inputs: ['r1', 'W2'], outputs: ['h2'] },
      { op: 'Add', inputs: ['h2', 'b2'], outputs: ['a2'] },
      { op: 'Relu', inputs: ['a2'], outputs: ['r2'] },
      { op: 'MatMul', inputs: ['r2', 'W3'], outputs: ['h3'] },
      { op: 'Add', inputs: ['h3', 'b3'], outputs: ['logits'] },
    ],
  });
}

/** Writes the heavy MLP where the bench page serves it (cached in .tmp/bench/). */
export async function writeHeavyModel(): Promise<BenchModel> {
  const cached = path.join(BENCH_TMP, `mlp-${HIDDEN}.onnx`);
  if (!fs.existsSync(cached)) {
    fs.mkdirSync(BENCH_TMP, { recursive: true });
    fs.writeFileSync(cached, buildHeavyMlp());
  }
  const served = path.join(BENCH_DIST, 'bench-models', `mlp-${HIDDEN}.onnx`);
  fs.mkdirSync(path.dirname(served), { recursive: true });
  fs.copyFileSync(cached, served);
  return {
    name: `mlp-${HIDDEN}`,
    url: `/bench-models/mlp-${HIDDEN}.onnx`,
    file: cached,
    macsPerItem: 784 * HIDDEN + HIDDEN * HIDDEN + HIDDEN * 10,
    bytes: fs.statSync(cached).size,
  };
}
