/**
 * The coordinator's work queue: open shards that want another lease, oldest job first, then lowest
 * index ([L-1]). A min-heap (core/heap/minHeap.ts) on a numeric key, so taking the next shard
 * costs O(log n) whatever the job's size, where a scan of every shard would cost O(n) per lease.
 *
 * Entries are checked lazily: the coordinator pushes a shard whenever it may want a lease and
 * drops whatever it finds at the top that no longer does, so no entry ever has to be found and
 * removed from the middle.
 */
import { MinHeap } from '../heap/minHeap.ts';

export interface Queued {
  /** Heap order: smaller first. The coordinator uses jobOrder · 2^24 + index. */
  readonly queueKey: number;
  /** True while the shard has an entry in the queue (at most one). */
  queued: boolean;
}

export class ShardQueue<T extends Queued> {
  private readonly heap = new MinHeap<T>();

  get size(): number {
    return this.heap.size;
  }

  peek(): T | undefined {
    return this.heap.peek();
  }

  /** Adds `item` unless it already has an entry. */
  push(item: T): void {
    if (item.queued) return;
    item.queued = true;
    this.heap.push(item, item.queueKey);
  }

  /** Removes and returns the smallest entry. */
  pop(): T | undefined {
    const top = this.heap.pop();
    if (top !== undefined) top.queued = false;
    return top;
  }
}
