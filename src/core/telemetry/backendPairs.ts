/**
 * Agreement between backends, counted per pair of replicas in decided shards ([T-5]): in a shard
 * accepted with replicas A, B agreeing and C outvoted, the pair (A, B) agreed and the pairs
 * (A, C) and (B, C) disagreed, each under its unordered pair of backends (e.g. wasm–webgpu).
 * Pure; bounded by the number of backend pairs.
 */
import { BACKENDS, type Backend } from '../../protocol/capabilities.ts';
import type { BackendPairCount } from '../../protocol/telemetry.ts';

const order = (b: Backend): number => BACKENDS.indexOf(b);

export class BackendPairCounter {
  private readonly counts = new Map<string, BackendPairCount>();
  private readonly byPair = new Map<Backend, Map<Backend, { a: Backend; b: Backend; agree: number; disagree: number }>>();

  /** Counts one decided shard: the backends of its agreeing replicas and of the outvoted ones. */
  recordDecision(agreeing: readonly Backend[], outvoted: readonly Backend[]): void {
    for (let i = 0; i < agreeing.length; i++) {
      for (let j = i + 1; j < agreeing.length; j++) this.bump(agreeing[i]!, agreeing[j]!, 'agree');
      for (const o of outvoted) this.bump(agreeing[i]!, o, 'disagree');
    }
  }

  /** Every pair seen so far, in a fixed order (by BACKENDS order of a, then b). */
  list(): BackendPairCount[] {
    return [...this.counts.values()].map((c) => ({ ...c })).sort((x, y) => order(x.a) - order(y.a) || order(x.b) - order(y.b));
  }

  private bump(x: Backend, y: Backend, what: 'agree' | 'disagree'): void {
    // Runs for every pair in every decision: found through a two-level map, with no key string
    // or array built per call.
    const swap = order(x) > order(y);
    const a = swap ? y : x;
    const b = swap ? x : y;
    let row = this.byPair.get(a);
    if (!row) this.byPair.set(a, (row = new Map()));
    let c = row.get(b);
    if (!c) {
      c = { a, b, agree: 0, disagree: 0 };
      row.set(b, c);
      this.counts.set(`${a}|${b}`, c);
    }
    c[what]++;
  }
}
