/**
 * Moving link tests on a MemoryNetwork forward under fake timers without waiting on real time.
 *
 * settleLink runs `ms` of fake time, 100 ms at a time. After each step it delivers every queued
 * frame and waits for every key proof in flight (cryptoInFlight) to finish, again and again until
 * neither frames nor proofs are left: a challenge, its signature and its check complete within
 * the step they start in, however slow the machine, and fake time never runs ahead of crypto
 * that a real client would have finished.
 */
import { vi } from 'vitest';
import type { MemoryNetwork } from '../../transport/memoryTransport.ts';
import { cryptoInFlight } from './cryptoInFlight.ts';

const STEP_MS = 100;

export async function settleLink(net: MemoryNetwork, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += STEP_MS) {
    await vi.advanceTimersByTimeAsync(STEP_MS);
    await quiesce(net);
  }
}

/** Delivers frames and awaits proofs until a round finds nothing to do. */
async function quiesce(net: MemoryNetwork): Promise<void> {
  for (;;) {
    net.flush();
    if (cryptoInFlight.size() === 0) {
      // Promise callbacks queued by the frames just delivered run before the network is judged quiet.
      await vi.advanceTimersByTimeAsync(0);
      if (net.pending() === 0 && cryptoInFlight.size() === 0) return;
      continue;
    }
    await cryptoInFlight.idle();
    await vi.advanceTimersByTimeAsync(0);
  }
}

/** Taken before any test fakes the clock. */
const realSetTimeout = globalThis.setTimeout;
const POLL_MS = 10;

/**
 * Waits in real time, with the fake clock held still, until `holds`: for crypto that
 * cryptoInFlight cannot see (a CoordinatorHost signs its own proofs). Frames are delivered and
 * tracked proofs awaited on every look; no link timer can fire meanwhile, so a slow machine
 * only makes the wait longer. Fails after at least `ms` of real time (counted in real polls:
 * Date is fake here).
 */
export async function untilLinked(net: MemoryNetwork, what: string, holds: () => boolean, ms = 60_000): Promise<void> {
  for (let waited = 0; ; waited += POLL_MS) {
    await quiesce(net);
    if (holds()) return;
    if (waited >= ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => realSetTimeout(resolve, POLL_MS));
  }
}
