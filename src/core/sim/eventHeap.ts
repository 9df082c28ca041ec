/**
 * The simulation's virtual clock: a binary min-heap of (time, sequence) events, so the same
 * seed always replays in the same order. Events are small records, not closures, to keep a
 * run of a million events cheap.
 */

export interface SimEvent {
  readonly at: number;
  /** Tie-break: events due at the same time run in the order they were scheduled. */
  readonly seq: number;
  readonly kind: number;
  /** Volunteer index (or -1). */
  readonly who: number;
}

export class EventHeap {
  private readonly heap: SimEvent[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, kind: number, who: number): void {
    const e: SimEvent = { at, seq: this.seq++, kind, who };
    const h = this.heap;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as SimEvent;
      if (before(p, e)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = e;
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    const top = h[0];
    if (top === undefined) return undefined;
    const last = h.pop() as SimEvent;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r] as SimEvent, h[l] as SimEvent) ? r : l;
        if (!before(h[c] as SimEvent, last)) break;
        h[i] = h[c] as SimEvent;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
