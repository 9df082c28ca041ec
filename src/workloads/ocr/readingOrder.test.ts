import { describe, expect, it } from 'vitest';
import type { Quad } from './params.ts';
import { sortReadingOrder } from './readingOrder.ts';

const at = (name: string, x: number, y: number): { name: string; box: Quad } => ({
  name,
  box: [
    [x, y],
    [x + 50, y],
    [x + 50, y + 20],
    [x, y + 20],
  ],
});

describe('reading order', () => {
  it('reads top to bottom, and left to right when tops are within 10 pixels', () => {
    const items = [at('amount', 300, 48), at('title', 10, 5), at('label', 20, 52), at('footer', 10, 100)];
    expect(sortReadingOrder(items).map((i) => i.name)).toEqual(['title', 'label', 'amount', 'footer']);
  });

  it('keeps lines 10 or more pixels apart in vertical order even when the lower starts further left', () => {
    const items = [at('upper', 200, 40), at('lower', 10, 50)];
    expect(sortReadingOrder(items).map((i) => i.name)).toEqual(['upper', 'lower']);
  });
});
