/**
 * Re-runs the whole MNIST pipeline in-process and checks the committed artifacts are exactly what
 * it produces, so nobody can commit a model that the script does not reproduce (and any
 * nondeterminism in training shows up as a hash mismatch). ~10-15 s on 2 cores.
 * If this fails after an intended change to training: `npm run train:mnist` and commit both files.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MNIST_CLASSES, MNIST_HOLDOUT_URL, MNIST_MODEL_URL, MNIST_PIXELS, decodeMnistHoldout } from '../src/workloads/mnist/holdout.ts';
import { HOLDOUT_COUNT, trainMnist, type MnistTrainResult } from './mnist/pipeline.ts';

const publicFile = (url: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../public${url}`, import.meta.url)));
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('train-mnist pipeline', () => {
  let result: MnistTrainResult;
  beforeAll(() => {
    result = trainMnist();
  }, 120_000);

  it('holds out exactly 2,000 digits and trains on the rest', () => {
    expect(HOLDOUT_COUNT).toBe(2000);
    expect(result.holdoutCount).toBe(2000);
    expect(result.trainCount).toBe(8000);
  });

  it('reaches >= 94% on the held-out digits', () => {
    expect(result.accuracy).toBeGreaterThanOrEqual(0.94);
  });

  it('reproduces the committed model byte for byte', () => {
    expect(sha256(result.modelBytes)).toBe(sha256(publicFile(MNIST_MODEL_URL)));
  });

  it('reproduces the committed held-out data byte for byte', () => {
    expect(sha256(result.holdoutBytes)).toBe(sha256(publicFile(MNIST_HOLDOUT_URL)));
  });

  it('the held-out file decodes to exactly Math.fround of the source JSON values', () => {
    const committed = publicFile(MNIST_HOLDOUT_URL);
    const d = decodeMnistHoldout(committed.slice().buffer);
    expect(d.count).toBe(2000);
    expect(d.width * d.height).toBe(MNIST_PIXELS);
    expect(Array.from(d.labels)).toEqual(Array.from(result.holdout.labels));
    const raw = result.holdout.raw; // the doubles JSON.parse produced
    let mismatches = 0;
    for (let i = 0; i < raw.length; i++) if (d.images[i] !== Math.fround(raw[i] as number)) mismatches++;
    expect(mismatches).toBe(0);
    // Every class is present in the held-out set.
    const perClass = new Array<number>(MNIST_CLASSES).fill(0);
    for (const l of d.labels) perClass[l] = (perClass[l] ?? 0) + 1;
    expect(Math.min(...perClass)).toBeGreaterThan(100);
  });
});
