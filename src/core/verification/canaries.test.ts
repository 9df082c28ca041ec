import { describe, it, expect } from 'vitest';
import { asJobId, asPeerId, shardIdOf, type PeerId } from '../../protocol/ids.ts';
import type { ShardState } from '../coordinator/state.ts';
import { DEFAULT_TRUST, ReputationBook } from '../reputation/reputation.ts';
import { seededRng } from '../rng.ts';
import { CanaryPool, establishNeed } from './canaries.ts';

const JOB = asJobId('j1');
const [A, B, C, D, E] = ['a', 'b', 'c', 'd', 'e'].map(asPeerId) as [PeerId, PeerId, PeerId, PeerId, PeerId];

function verifiedShard(index: number): ShardState {
  return {
    id: shardIdOf(JOB, index),
    jobId: JOB,
    index,
    start: index,
    count: 1,
    status: 'verified',
    target: 2,
    replicas: [],
    leases: new Set(),
    accepted: { outputs: [], volunteers: [A, B], backends: ['wasm', 'wasm'], acceptedAtMs: 0 },
    disagreements: 0,
    lone: false,
    spotChecked: false,
    epoch: 1,
    queueKey: index,
    queued: false,
    inFlight: false,
  };
}

function setup() {
  const book = new ReputationBook({ ...DEFAULT_TRUST, establishAfter: 2 });
  book.valid(A, 'wasm', [B]);
  book.valid(B, 'wasm', [A]);
  const pool = new CanaryPool(book);
  const shard = verifiedShard(0);
  pool.add(shard, [A, B], seededRng(1));
  return { book, pool, shard, rng: seededRng(2) };
}

const none = (): boolean => false;

describe('canary sources [C-1]', () => {
  it('[C-1] an acceptance is established once each of its volunteers has since agreed with establishAfter distinct partners', () => {
    const { book, pool, shard, rng } = setup();
    expect(pool.isEstablished(shard)).toBe(false);
    expect(pool.pick(JOB, none, rng)).toBeNull();
    book.valid(A, 'wasm', [C]);
    book.valid(A, 'wasm', [D]);
    book.valid(B, 'wasm', [C]);
    book.valid(B, 'wasm', [C]); // the same partner again: still one
    expect(pool.isEstablished(shard)).toBe(false);
    book.valid(B, 'wasm', [A, E]);
    expect(pool.isEstablished(shard)).toBe(true);
    expect(pool.pick(JOB, none, rng)).toBe(shard);
    expect(pool.pick(JOB, (s) => s === shard, rng)).toBeNull(); // the caller's exclusions hold
  });

  /** A and B each agree with C, D and E after the acceptance: enough to establish it. */
  const vouch = (book: ReputationBook): void => {
    for (const p of [C, D, E]) {
      book.valid(A, 'wasm', [p]);
      book.valid(B, 'wasm', [p]);
    }
  };

  it('[C-1] a coalition cannot vouch for itself: agreeing again and again with the same partner establishes nothing', () => {
    const { book, pool, shard } = setup();
    for (let i = 0; i < 20; i++) {
      book.valid(A, 'wasm', [B]);
      book.valid(B, 'wasm', [A]);
    }
    expect(pool.isEstablished(shard)).toBe(false);
  });

  it('[C-1] an invalid result or a quarantine of one of its volunteers kills a source for good', () => {
    const { book, pool, shard } = setup();
    book.invalid(B);
    vouch(book);
    expect(pool.isEstablished(shard)).toBe(false);
    const other = setup();
    vouch(other.book);
    expect(other.pool.isEstablished(other.shard)).toBe(true);
    other.book.quarantine(A, 'lied');
    expect(other.pool.isEstablished(other.shard)).toBe(false);
  });

  it('[C-3] a burnt source is never used again', () => {
    const { book, pool, shard, rng } = setup();
    vouch(book);
    expect(pool.burn(shard)).toEqual([A, B]);
    expect(pool.isEstablished(shard)).toBe(false);
    expect(pool.pick(JOB, none, rng)).toBeNull();
  });

  it('[C-3] [X-3] a re-opened shard is no canary, even once verified again', () => {
    const { book, pool, shard, rng } = setup();
    vouch(book);
    expect(pool.isEstablished(shard)).toBe(true);
    shard.epoch++; // re-opened, and decided again
    expect(pool.isEstablished(shard)).toBe(false);
    expect(pool.pick(JOB, none, rng)).toBeNull();
  });

  it("[C-1] one volunteer's word is never a canary", () => {
    const book = new ReputationBook();
    const pool = new CanaryPool(book);
    const shard = verifiedShard(1);
    pool.add(shard, [C], seededRng(1));
    for (const p of [A, B, D, E, A, B]) book.valid(C, 'wasm', [p]);
    expect(pool.isEstablished(shard)).toBe(false);
  });
});

describe('establishment in small networks [C-4]', () => {
  it('[C-4] the partners needed are ⌊n / 2⌋ of n known volunteers, at least 1 and at most establishAfter', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 1000].map((n) => establishNeed(5, n))).toEqual([1, 1, 1, 2, 2, 3, 3, 4, 5, 5, 5]);
    expect(establishNeed(0, 3)).toBe(0);
  });

  it('[C-4] no coalition of at most half (and at most establishAfter) can vouch for itself; every honest strict majority can', () => {
    // A group of c that only agrees among itself gives each member at most c - 1 partners, and
    // pools at most c: either way it establishes only if c ≥ need + 1. (Larger coalitions in
    // large networks are held off by being outvoted, [C-1].)
    for (let n = 2; n <= 40; n++) {
      const need = establishNeed(5, n);
      for (let c = 1; c < n; c++) {
        if (2 * c <= n && c <= 5) expect(c <= need, `coalition ${c} of ${n}`).toBe(true);
        if (2 * c > n) expect(c >= need + 1, `honest ${c} of ${n}`).toBe(true);
      }
    }
  });

  it('[C-4] in a small network partners are pooled: a volunteer that met everyone vouches for one that met only it', () => {
    const book = new ReputationBook(); // establishAfter 5; four volunteers known: need 2
    const pool = new CanaryPool(book, (cap) => Math.min(cap, 4));
    const shard = verifiedShard(0);
    book.valid(A, 'wasm', [B]);
    book.valid(B, 'wasm', [A]);
    pool.add(shard, [A, B], seededRng(1));
    // A and B only agree with each other again: two volunteers pooled, not three.
    book.valid(A, 'wasm', [B]);
    book.valid(B, 'wasm', [A]);
    expect(pool.isEstablished(shard)).toBe(false);
    // A also meets C: {A, B, C} vouch, although B never met anyone but A.
    book.valid(A, 'wasm', [C]);
    expect(pool.isEstablished(shard)).toBe(true);
  });

  it("[C-4] in a small network an outvote by an answer not established does not kill its volunteer's answers; once that answer is, it does", () => {
    // Five volunteers known (need 2): A computes every shard, a pair of colluders outvotes it on
    // some of them. Were each outvote to kill A's answers at once, no answer of A's could ever be
    // established, no canary served and nobody caught (seed 1814070218 of the small-network sim).
    const book = new ReputationBook(); // establishAfter 5
    const contested = new Map<PeerId, number>();
    const pool = new CanaryPool(
      book,
      (cap) => Math.min(cap, 5),
      (p) => contested.get(p) ?? 0,
    );
    const shard = verifiedShard(0);
    book.valid(A, 'wasm', [B]);
    book.valid(B, 'wasm', [A]);
    pool.add(shard, [A, B], seededRng(1));
    // A is outvoted by the colluders' answer, which is not established: contested.
    book.invalid(A);
    contested.set(A, 1);
    // A then agrees with C and B, and B with A: {A, B, C} vouch.
    book.valid(A, 'wasm', [C]);
    book.valid(A, 'wasm', [B]);
    book.valid(B, 'wasm', [A]);
    expect(pool.isEstablished(shard)).toBe(true);
    // The outvoting answer is established after all: A's outvote is evidence, its answers die.
    contested.set(A, 0);
    expect(pool.stateOf(shard, shard.epoch, pool.need())).toBe('dead');
  });

  it("[C-1] in a large network an outvote kills its volunteer's answers at once, contested or not", () => {
    const book = new ReputationBook({ ...DEFAULT_TRUST, establishAfter: 2 });
    const pool = new CanaryPool(
      book,
      (cap) => cap,
      () => 1,
    );
    const shard = verifiedShard(0);
    pool.add(shard, [A, B], seededRng(1));
    book.invalid(A);
    book.valid(A, 'wasm', [C]);
    book.valid(A, 'wasm', [D]);
    book.valid(B, 'wasm', [C]);
    book.valid(B, 'wasm', [D]);
    expect(pool.stateOf(shard, shard.epoch, pool.need())).toBe('dead');
  });

  it('[C-4] with three volunteers known, one partner since the acceptance establishes it', () => {
    const book = new ReputationBook(); // establishAfter 5
    book.valid(A, 'wasm', [B]);
    book.valid(B, 'wasm', [A]);
    let known = 3;
    const pool = new CanaryPool(book, (cap) => Math.min(cap, known));
    const shard = verifiedShard(0);
    pool.add(shard, [A, B], seededRng(1));
    expect(pool.need()).toBe(1);
    expect(pool.isEstablished(shard)).toBe(false);
    book.valid(A, 'wasm', [B]);
    book.valid(B, 'wasm', [A]);
    expect(pool.isEstablished(shard)).toBe(true);
    expect(pool.stateOf(shard, shard.epoch, pool.need())).toBe('established');
    expect(pool.stateOf(shard, shard.epoch - 1, pool.need())).toBe('dead'); // another acceptance
    // More volunteers arrive: the same two can no longer vouch for each other alone.
    known = 12;
    expect(pool.need()).toBe(5);
    expect(pool.isEstablished(shard)).toBe(false);
    expect(pool.stateOf(shard, shard.epoch, pool.need())).toBe('pending');
  });
});
