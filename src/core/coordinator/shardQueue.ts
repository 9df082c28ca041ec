/**
 * The coordinator's work queue: open shards that want another lease, oldest job first, then lowest
 * index ([L-1]). A binary min-heap on a numeric key, so taking the next shard costs O(log n)
 * whatever the job's size, where a scan of every shard would cost O(n) per lease.
 *
 * Entries are checked lazily: the coordinator pushes a shard whenever it may want a lease and
 * drops whatever it finds at the top that no longer does, so no entry ever has to be found and
 * removed from the middle.
 */

export interface Queued {
  /** Heap order: smaller first. The coordinator uses jobOrder · 2^24 + index. */
  readonly queueKey: number;
  /** True while the shard has an entry in the queue (at most one). */
  queued: boolean;
}

export class ShardQueue<T extends Queued> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): T | undefined {
    return this.heap[0];
  }

  /** Adds `item` unless it already has an entry. */
  push(item: T): void {
    if (item.queued) return;
    item.queued = true;
    const h = this.heap;
    let i = h.length;
    h.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as T;
      if (p.queueKey <= item.queueKey) break;
      h[i] = p;
      i = parent;
    }
    h[i] = item;
  }

  /** Removes and returns the smallest entry. */
  pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    top.queued = false;
    const last = h.pop() as T;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (h[r] as T).queueKey < (h[l] as T).queueKey ? r : l;
        if ((h[c] as T).queueKey >= last.queueKey) break;
        h[i] = h[c] as T;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
