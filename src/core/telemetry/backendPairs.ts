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

  /** Counts one decided shard: the backends of its agreeing replicas and of the outvoted ones. */
  recordDecision(agreeing: readonly Backend[], outvoted: readonly Backend[]): void {
    for (let i = 0; i < agreeing.length; i++) {
      for (let j = i + 1; j < agreeing.length; j++) this.bump(agreeing[i]!, agreeing[j]!, 'agree');
      for (const o of outvoted) this.bump(agreeing[i]!, o, 'disagree');
    }
  }

  /** Every pair seen so far, in a fixed order (by BACKENDS order of a, then b). */
  list(): BackendPairCount[] {
    return [...this.counts.values()]
      .map((c) => ({ ...c }))
      .sort((x, y) => order(x.a) - order(y.a) || order(x.b) - order(y.b));
  }

  private bump(x: Backend, y: Backend, what: 'agree' | 'disagree'): void {
    const [a, b] = order(x) <= order(y) ? [x, y] : [y, x];
    const key = `${a}|${b}`;
    const c = this.counts.get(key) ?? { a, b, agree: 0, disagree: 0 };
    c[what]++;
    this.counts.set(key, c);
  }
}
