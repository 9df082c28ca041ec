import { describe, it, expect } from 'vitest';
import { asJobId, asPeerId, shardIdOf } from '../../protocol/ids.ts';
import type { ShardState } from '../coordinator/state.ts';
import { DEFAULT_TRUST, ReputationBook } from '../reputation/reputation.ts';
import { seededRng } from '../rng.ts';
import { CanaryPool } from './canaries.ts';

const JOB = asJobId('j1');
const [A, B, C] = [asPeerId('a'), asPeerId('b'), asPeerId('c')];

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
  book.valid(A, 'wasm');
  book.valid(B, 'wasm');
  const pool = new CanaryPool(book);
  const shard = verifiedShard(0);
  pool.add(shard, [A, B], seededRng(1));
  return { book, pool, shard, rng: seededRng(2) };
}

const none = (): boolean => false;

describe('canary sources [C-1]', () => {
  it('[C-1] an acceptance is established once each of its volunteers earned establishAfter more valid results', () => {
    const { book, pool, shard, rng } = setup();
    expect(pool.isEstablished(shard)).toBe(false);
    expect(pool.pick(JOB, none, rng)).toBeNull();
    book.valid(A, 'wasm');
    book.valid(A, 'wasm');
    book.valid(B, 'wasm');
    expect(pool.isEstablished(shard)).toBe(false); // b has only one more
    book.valid(B, 'wasm');
    expect(pool.isEstablished(shard)).toBe(true);
    expect(pool.pick(JOB, none, rng)).toBe(shard);
    expect(pool.pick(JOB, (s) => s === shard, rng)).toBeNull(); // the caller's exclusions hold
  });

  it('[C-1] an invalid result or a quarantine of one of its volunteers kills a source for good', () => {
    const { book, pool, shard } = setup();
    for (let i = 0; i < 3; i++) book.valid(A, 'wasm');
    book.invalid(B);
    for (let i = 0; i < 3; i++) book.valid(B, 'wasm');
    expect(pool.isEstablished(shard)).toBe(false);
    const other = setup();
    for (let i = 0; i < 3; i++) {
      other.book.valid(A, 'wasm');
      other.book.valid(B, 'wasm');
    }
    other.book.quarantine(A, 'lied');
    expect(other.pool.isEstablished(other.shard)).toBe(false);
  });

  it('[C-3] [X-3] a re-opened shard is no canary, even once verified again', () => {
    const { book, pool, shard, rng } = setup();
    for (let i = 0; i < 3; i++) {
      book.valid(A, 'wasm');
      book.valid(B, 'wasm');
    }
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
    for (let i = 0; i < 10; i++) book.valid(C, 'wasm');
    expect(pool.isEstablished(shard)).toBe(false);
  });
});
