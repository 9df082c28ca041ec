import { describe, it, expect } from 'vitest';
import { seededRng } from '../rng.ts';
import { ShardQueue } from '../coordinator/shardQueue.ts';
import { EventHeap } from '../sim/eventHeap.ts';
import { MinHeap } from './minHeap.ts';

describe('MinHeap', () => {
  it('pops by key, equal keys in push order, whatever the pushes and pops in between (seeded)', () => {
    for (const seed of [1, 2, 3]) {
      const rng = seededRng(seed);
      const heap = new MinHeap<{ key: number; n: number }>();
      // The model: a list kept sorted by key, then push number (Array.prototype.sort is stable).
      const model: { key: number; n: number }[] = [];
      for (let n = 0; n < 5_000; n++) {
        if (rng.next() < 0.6 || model.length === 0) {
          const x = { key: Math.floor(rng.next() * 500), n }; // many equal keys
          heap.push(x, x.key);
          model.push(x);
        } else {
          model.sort((a, b) => a.key - b.key);
          expect(heap.peek()).toBe(model[0]);
          expect(heap.pop()).toBe(model.shift());
        }
        expect(heap.size).toBe(model.length);
      }
      model.sort((a, b) => a.key - b.key);
      for (const x of model) expect(heap.pop()).toBe(x);
      expect(heap.pop()).toBeUndefined();
      expect(heap.peek()).toBeUndefined();
    }
  });
});

describe('ShardQueue [L-1]', () => {
  const item = (queueKey: number) => ({ queueKey, queued: false });

  it('[L-1] lowest key first; an item has at most one entry, and may come back once popped', () => {
    const q = new ShardQueue<ReturnType<typeof item>>();
    const [a, b, c] = [item(5), item(1), item(3)];
    q.push(a);
    q.push(b);
    q.push(c);
    q.push(b); // already queued: no second entry
    expect(q.size).toBe(3);
    expect(q.pop()).toBe(b);
    expect(b.queued).toBe(false);
    q.push(b);
    expect([q.pop(), q.pop(), q.pop(), q.pop()]).toEqual([b, c, a, undefined]);
    expect([a, b, c].some((x) => x.queued)).toBe(false);
  });
});

describe('EventHeap [D-1]', () => {
  it('[D-1] events come out by time, and those due at the same time in the order they were scheduled', () => {
    const h = new EventHeap();
    const rng = seededRng(7);
    for (let i = 0; i < 2_000; i++) h.push(Math.floor(rng.next() * 50), 0, i);
    let last = { at: -1, who: -1 };
    for (let e = h.pop(); e !== undefined; e = h.pop()) {
      expect(e.at > last.at || (e.at === last.at && e.who > last.who)).toBe(true);
      last = e;
    }
    expect(h.size).toBe(0);
  });
});
