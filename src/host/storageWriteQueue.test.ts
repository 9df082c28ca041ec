/**
 * [S-3] The coordinator host's store writes: one after another in the order asked, and while
 * storage fails every failed write and every later one kept, in order, and written again on a
 * retry (or its timer) — nothing dropped, nothing written twice, nothing out of order.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeStorageError, StorageWriteQueue } from './storageWriteQueue.ts';

/** A store whose writes can be made to fail, recording what it stored in order. */
class FlakyStore {
  readonly stored: string[] = [];
  failing: Error | null = null;
  write(what: string): Promise<void> {
    // Asynchronous like every real store: the failure comes after a turn, not at the call.
    return Promise.resolve().then(() => {
      if (this.failing) throw this.failing;
      this.stored.push(what);
    });
  }
}

function rig(retryMs = 10_000) {
  const store = new FlakyStore();
  const events: string[] = [];
  const queue = new StorageWriteQueue(
    {
      failed: (what, reason, first) => events.push(`failed ${what}: ${reason}${first ? ' (first)' : ''}`),
      recovered: () => events.push('recovered'),
      changed: () => undefined,
    },
    retryMs,
  );
  const write = (what: string): void => queue.write(() => store.write(what), what);
  return { store, events, queue, write };
}

const quota = (): Error => Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });

describe('[S-3] StorageWriteQueue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('[S-3] writes run one after another, in the order asked', async () => {
    const { store, queue, write } = rig();
    for (const w of ['a', 'b', 'c']) write(w);
    await queue.flushed();
    expect(store.stored).toEqual(['a', 'b', 'c']);
    expect(queue.problem).toBeNull();
    expect(queue.pendingWrites).toBe(0);
  });

  it('[S-3] a failed write is kept with every later one, in order, and all are written by a retry', async () => {
    const { store, events, queue, write } = rig();
    write('a');
    await queue.flushed();
    store.failing = quota();
    write('b');
    write('c');
    await queue.flushed();
    write('d'); // asked while storage is known to fail: it waits behind the others
    await queue.flushed();
    expect(store.stored).toEqual(['a']);
    expect(queue.pendingWrites).toBe(3);
    expect(queue.problem).toBe(describeStorageError(quota()));
    // One report of the failure, as the first; the later writes only wait.
    expect(events).toEqual([`failed b: ${describeStorageError(quota())} (first)`]);

    expect(await queue.retry()).toBe(false); // still failing: nothing lost, nothing reordered
    expect(queue.pendingWrites).toBe(3);
    store.failing = null;
    expect(await queue.retry()).toBe(true);
    expect(store.stored).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.pendingWrites).toBe(0);
    expect(queue.problem).toBeNull();
    expect(events.at(-1)).toBe('recovered');
    write('e');
    await queue.flushed();
    expect(store.stored).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('[S-3] a write asked while a retry runs goes after every waiting one', async () => {
    const { store, queue, write } = rig();
    store.failing = new Error('disk full');
    write('a');
    await queue.flushed();
    store.failing = null;
    const retried = queue.retry();
    write('b');
    expect(await retried).toBe(true);
    await queue.flushed();
    expect(store.stored).toEqual(['a', 'b']);
  });

  it('[S-3] waiting writes are tried again on a timer until storage works, then the timer stops', async () => {
    const { store, events, queue, write } = rig(1_000);
    store.failing = new Error('disk full');
    write('a');
    await queue.flushed();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(store.stored).toEqual([]);
    store.failing = null;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(store.stored).toEqual(['a']);
    expect(events.filter((e) => e === 'recovered')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('[S-3] a failure outside a write (reading storage at start) holds writes until a check passes', async () => {
    const { store, events, queue, write } = rig();
    let readable = false;
    queue.fail('reading the stored jobs', new Error('cannot open'), () => (readable ? Promise.resolve() : Promise.reject(new Error('cannot open'))));
    write('a');
    await queue.flushed();
    expect(store.stored).toEqual([]);
    expect(events).toEqual(['failed reading the stored jobs: cannot open (first)']);
    expect(await queue.retry()).toBe(false);
    readable = true;
    expect(await queue.retry()).toBe(true);
    expect(store.stored).toEqual(['a']);
  });

  it('[S-3] stop ends the retry timer', async () => {
    const { store, queue, write } = rig(1_000);
    store.failing = new Error('disk full');
    write('a');
    await queue.flushed();
    expect(vi.getTimerCount()).toBe(1);
    queue.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('[N-7] [S-3] writes in flight start at once; those that fail are kept in call order, however their failures arrive', async () => {
    const { store, events, queue } = rig();
    const started: string[] = [];
    // The first tries of a, b and c held open, to be failed in reverse order; every other try succeeds.
    const hold = new Set(['a', 'b', 'c']);
    const first = new Map<string, (err: Error) => void>();
    const op = (what: string) => (): Promise<void> => {
      started.push(what);
      if (!hold.delete(what)) return store.write(what);
      return new Promise<void>((_, reject) => first.set(what, reject));
    };
    for (const w of ['a', 'b', 'c']) queue.write(op(w), w, true);
    // All three asked of the store before any finished.
    expect(started).toEqual(['a', 'b', 'c']);
    expect(store.stored).toEqual([]);
    for (let i = 0; i < 3; i++) await Promise.resolve(); // the queue is listening to all three
    for (const w of ['c', 'b', 'a']) first.get(w)?.(quota());
    await queue.flushed();
    queue.write(op('d'), 'd', true); // storage is known to fail: it waits behind them
    expect(queue.pendingWrites).toBe(4);
    expect(events).toEqual([`failed c: ${describeStorageError(quota())} (first)`]);
    expect(await queue.retry()).toBe(true);
    expect(store.stored).toEqual(['a', 'b', 'c', 'd']);
    queue.write(op('e'), 'e', true);
    await queue.flushed();
    expect(store.stored).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('[S-3] names a full quota as such, and other errors by their message', () => {
    expect(describeStorageError(quota())).toMatch(/quota .* used up \(QuotaExceededError\)/);
    expect(describeStorageError(new Error('disk on fire'))).toBe('disk on fire');
  });
});
