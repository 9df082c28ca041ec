import { describe, expect, it } from 'vitest';
import { MNIST_PIXELS, type MnistHoldout } from './holdout.ts';
import { MNIST_MAX_ITEMS, mnistBatch } from './mnistJob.ts';

/** Three digits whose pixels all equal their index, labels 7, 8, 9. */
function tinyHoldout(): MnistHoldout {
  const images = new Float32Array(3 * MNIST_PIXELS);
  for (let d = 0; d < 3; d++) images.fill(d, d * MNIST_PIXELS, (d + 1) * MNIST_PIXELS);
  return { count: 3, width: 28, height: 28, images, labels: Uint8Array.from([7, 8, 9]) };
}

describe('mnistBatch', () => {
  it('takes the first digits in order', () => {
    const b = mnistBatch(tinyHoldout(), 2);
    expect(Array.from(b.labels)).toEqual([7, 8]);
    const px = new Float32Array(b.data);
    expect(px.length).toBe(2 * MNIST_PIXELS);
    expect(px[MNIST_PIXELS]).toBe(1);
  });

  it('wraps around past the held-out set, so item i is digit i mod count', () => {
    const b = mnistBatch(tinyHoldout(), 8);
    expect(Array.from(b.labels)).toEqual([7, 8, 9, 7, 8, 9, 7, 8]);
    const px = new Float32Array(b.data);
    for (let i = 0; i < 8; i++) expect(px[i * MNIST_PIXELS + 5]).toBe(i % 3);
  });

  it('clamps the count to 1..MNIST_MAX_ITEMS', () => {
    expect(mnistBatch(tinyHoldout(), 0).labels.length).toBe(1);
    expect(mnistBatch(tinyHoldout(), MNIST_MAX_ITEMS + 5).labels.length).toBe(MNIST_MAX_ITEMS);
  });
});
