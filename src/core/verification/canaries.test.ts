import { describe, it, expect } from 'vitest';
import { asJobId, asPeerId, shardIdOf, type PeerId } from '../../protocol/ids.ts';
import type { ShardState } from '../coordinator/state.ts';
import { DEFAULT_TRUST, ReputationBook } from '../reputation/reputation.ts';
import { seededRng } from '../rng.ts';
import { CanaryPool } from './canaries.ts';

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

  it('[C-1] one volunteer\'s word is never a canary', () => {
    const book = new ReputationBook();
    const pool = new CanaryPool(book);
    const shard = verifiedShard(1);
    pool.add(shard, [C], seededRng(1));
    for (const p of [A, B, D, E, A, B]) book.valid(C, 'wasm', [p]);
    expect(pool.isEstablished(shard)).toBe(false);
  });
});
