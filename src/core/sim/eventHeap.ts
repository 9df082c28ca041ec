/**
 * The simulation's virtual clock: a min-heap (core/heap/minHeap.ts) of events by time, ties in
 * the order they were scheduled, so the same seed always replays in the same order. Events are
 * small records, not closures, to keep a run of a million events cheap.
 */
import { MinHeap } from '../heap/minHeap.ts';

export interface SimEvent {
  readonly at: number;
  /** Tie-break: events due at the same time run in the order they were scheduled. */
  readonly seq: number;
  readonly kind: number;
  /** Volunteer index (or -1). */
  readonly who: number;
}

export class EventHeap {
  private readonly heap = new MinHeap<SimEvent>();
  private seq = 0;

  get size(): number {
    return this.heap.size;
  }

  push(at: number, kind: number, who: number): void {
    // The heap breaks ties by push order, which is `seq` order.
    this.heap.push({ at, seq: this.seq++, kind, who }, at);
  }

  pop(): SimEvent | undefined {
    return this.heap.pop();
  }
}
