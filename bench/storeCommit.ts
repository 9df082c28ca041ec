/**
 * SQLite store commits ([N-7]): the headless coordinator's store (better-sqlite3, WAL,
 * synchronous = FULL) written as at scale — 1,000 verified shards the size of an MNIST shard's
 * (10 items, two volunteers' [10, 10] float32 logits), with K writes in flight at once and a
 * persist batch (10 leases, 10 open shards) after every 10 shards — each write alone
 * (`groupCommit: false`, the old path) and with group commit, side by side. Reports writes/s,
 * verified shards/s, transactions per write, the time spent inside commits and the CPU time per
 * write (what a loaded machine's preemption disturbs least), and the longest the event loop was held (a
 * setImmediate ticker's widest gap), median of a few runs over a fresh file each. Each of the K
 * writers issues its next write a turn of the event loop after its last one resolved, as results
 * arrive in frames of their own: the old path then holds the loop for K commits in a turn.
 *
 * The coordinator host issues its writes one after another (src/host/storageWriteQueue.ts,
 * [S-3]): K = 1 is what it does today; K > 1 is what a host that kept several writes in flight
 * would give the store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { openCoordinatorSqlite, SqliteCoordinatorStore } from '../src/persistence/sqliteCoordinatorStore.node.ts';
import { countingTransactions, LOAD_JOB, loadBatch, loadShard } from '../src/persistence/testing/storeLoad.ts';
import { median, round } from './stats.ts';

export interface StoreCommitRow {
  readonly mode: 'each write alone' | 'group commit';
  /** Writes in flight at once. */
  readonly inFlight: number;
  readonly shards: number;
  readonly batches: number;
  /** Medians over runs. */
  readonly writesPerSec: number;
  readonly shardsPerSec: number;
  readonly transactionsPerWrite: number;
  /** Time inside transactions (the event loop held by commits and their syncs) per write, and CPU time per write. */
  readonly commitMsPerWrite: number;
  readonly cpuMsPerWrite: number;
  readonly longestBlockMs: number;
  readonly runs: number;
}

export interface StoreCommitResult {
  readonly rows: readonly StoreCommitRow[];
  /** Group commit's writes/s over the old path's, per K, from this run. */
  readonly speedup: Record<string, number>;
  /** The old path's time in commits per write over group commit's, per K, from this run. */
  readonly commitTimeRatio: Record<string, number>;
}

const SHARDS_PER_BATCH = 10;

interface Sample {
  readonly seconds: number;
  readonly writes: number;
  readonly transactions: number;
  readonly transactionMs: number;
  readonly cpuMs: number;
  readonly longestBlockMs: number;
}

/** One run over a fresh file: `shards` verified shards and their persist batches, `inFlight` at a time. */
async function runOnce(dir: string, groupCommit: boolean, inFlight: number, shards: number): Promise<Sample> {
  const file = path.join(mkdtempSync(path.join(dir, 'run-')), 'coordinator.db');
  const raw = openCoordinatorSqlite(file);
  const counted = countingTransactions(raw);
  const store = new SqliteCoordinatorStore(counted.db, 'bench', undefined, undefined, { groupCommit });
  const writes: (() => Promise<unknown>)[] = [];
  for (let i = 0; i < shards; i++) {
    writes.push(() => store.putShard(LOAD_JOB, loadShard(i, 'verified')));
    if ((i + 1) % SHARDS_PER_BATCH === 0) writes.push(() => store.persist(loadBatch(shards + i, SHARDS_PER_BATCH), i));
  }
  let longest = 0;
  let last = performance.now();
  let ticking = true;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const t0 = performance.now();
  const before = counted.transactions();
  const msBefore = counted.transactionMs();
  const cpu0 = process.cpuUsage();
  let next = 0;
  // K lanes, each issuing its next write a turn after its last one resolved, as the host writes
  // when a frame arrives: K writes issued per turn of the event loop, K in flight at once.
  const lane = async (): Promise<void> => {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      if (next >= writes.length) return;
      const write = writes[next++] as () => Promise<unknown>;
      await write();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const seconds = (performance.now() - t0) / 1000;
  ticking = false;
  longest = Math.max(longest, performance.now() - last);
  const cpu = process.cpuUsage(cpu0);
  const transactions = counted.transactions() - before;
  const transactionMs = counted.transactionMs() - msBefore;
  raw.close();
  return { seconds, writes: writes.length, transactions, transactionMs, cpuMs: (cpu.user + cpu.system) / 1000, longestBlockMs: longest };
}

export async function benchStoreCommit(opts: { quick: boolean; inFlight?: readonly number[] }): Promise<StoreCommitResult> {
  const shards = opts.quick ? 300 : 1000;
  const runs = opts.quick ? 3 : 5;
  const ks = opts.inFlight && opts.inFlight.length > 0 ? opts.inFlight : [1, 8, 32];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'quorum-bench-store-'));
  const rows: StoreCommitRow[] = [];
  try {
    for (const k of ks) {
      for (const groupCommit of [false, true]) {
        const samples: Sample[] = [];
        // Interleaved with nothing else: one warm-up run, then the measured ones.
        await runOnce(dir, groupCommit, k, Math.min(shards, 100));
        for (let r = 0; r < runs; r++) samples.push(await runOnce(dir, groupCommit, k, shards));
        const writes = samples[0]?.writes ?? 0;
        rows.push({
          mode: groupCommit ? 'group commit' : 'each write alone',
          inFlight: k,
          shards,
          batches: writes - shards,
          writesPerSec: round(median(samples.map((s) => s.writes / s.seconds))),
          shardsPerSec: round(median(samples.map((s) => shards / s.seconds))),
          transactionsPerWrite: round(median(samples.map((s) => s.transactions / s.writes)), 3),
          commitMsPerWrite: round(median(samples.map((s) => s.transactionMs / s.writes)), 3),
          cpuMsPerWrite: round(median(samples.map((s) => s.cpuMs / s.writes)), 3),
          longestBlockMs: round(median(samples.map((s) => s.longestBlockMs)), 3),
          runs,
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const speedup: Record<string, number> = {};
  const commitTimeRatio: Record<string, number> = {};
  for (const k of ks) {
    const old = rows.find((r) => r.inFlight === k && r.mode === 'each write alone');
    const now = rows.find((r) => r.inFlight === k && r.mode === 'group commit');
    if (old && now) speedup[`K=${k}`] = round(now.writesPerSec / old.writesPerSec, 3);
    if (old && now) commitTimeRatio[`K=${k}`] = round(old.commitMsPerWrite / now.commitMsPerWrite, 3);
  }
  return { rows, speedup, commitTimeRatio };
}
