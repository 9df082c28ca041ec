/**
 * A binary min-heap on numeric keys, ties broken by push order (first pushed, first out), so the
 * order is total and replays exactly. One module for the two heaps the core runs on: the
 * coordinator's work queue (coordinator/shardQueue.ts, lowest shard key first, [L-1]) and the
 * simulation's virtual clock (sim/eventHeap.ts, by time). Push and pop cost O(log n); nothing is
 * removed from the middle (callers drop stale entries lazily as they surface).
 *
 * Keys live in arrays beside the items and are compared inline, not through a comparator
 * callback: the heap runs millions of comparisons a second, and a callback shared by two heaps
 * is a call V8 does not inline.
 */
export class MinHeap<T> {
  private readonly items: T[] = [];
  private readonly keys: number[] = [];
  private readonly order: number[] = [];
  private pushed = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T, key: number): void {
    const items = this.items;
    const keys = this.keys;
    const order = this.order;
    const seq = this.pushed++;
    let i = items.length;
    items.push(item);
    keys.push(key);
    order.push(seq);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent] as number;
      if (pk < key || (pk === key && (order[parent] as number) < seq)) break;
      items[i] = items[parent] as T;
      keys[i] = pk;
      order[i] = order[parent] as number;
      i = parent;
    }
    items[i] = item;
    keys[i] = key;
    order[i] = seq;
  }

  /** Removes and returns the first entry: smallest key, earliest pushed among equals. */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const keys = this.keys;
    const order = this.order;
    const last = items.pop() as T;
    const lastKey = keys.pop() as number;
    const lastSeq = order.pop() as number;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n) {
          const rk = keys[r] as number;
          const lk = keys[l] as number;
          if (rk < lk || (rk === lk && (order[r] as number) < (order[l] as number))) c = r;
        }
        const ck = keys[c] as number;
        if (ck > lastKey || (ck === lastKey && (order[c] as number) > lastSeq)) break;
        items[i] = items[c] as T;
        keys[i] = ck;
        order[i] = order[c] as number;
        i = c;
      }
      items[i] = last;
      keys[i] = lastKey;
      order[i] = lastSeq;
    }
    return top;
  }
}
