/**
 * `npm run train:mnist`: trains the MNIST MLP deterministically and writes the committed
 * artifacts the MNIST workload serves:
 *   public/models/mnist-mlp.onnx    the model (input `pixels` [batch, 784], output `logits` [batch, 10])
 *   public/data/mnist-holdout.bin   the 2,000 held-out digits and labels ("QMN1" format)
 * Same inputs give byte-identical files on every run and machine; scripts/train-mnist.test.ts
 * checks the committed files against a fresh run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MNIST_HOLDOUT_URL, MNIST_MODEL_URL } from '../src/workloads/mnist/holdout.ts';
import { trainMnist } from './mnist/pipeline.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The URLs are served from public/, so the files live at public + URL. */
const MODEL_PATH = join(root, 'public', MNIST_MODEL_URL);
const HOLDOUT_PATH = join(root, 'public', MNIST_HOLDOUT_URL);

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function write(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  console.log(`  ${relative(root, path)}  ${bytes.length} bytes  sha256 ${sha256(bytes)}`);
}

const started = performance.now();
const result = trainMnist();
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`MNIST MLP: trained on ${result.trainCount} digits, held out ${result.holdoutCount} (${seconds} s)`);
console.log(`held-out accuracy: ${(result.accuracy * 100).toFixed(2)}%`);
write(MODEL_PATH, result.modelBytes);
write(HOLDOUT_PATH, result.holdoutBytes);
