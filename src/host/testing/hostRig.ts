/**
 * For coordinator host tests: the hosts a test starts are stopped after it (a running host keeps
 * timers and endpoints that would leak into the next test), the shared store starts each test
 * fresh, and `until` polls in real time for what the host does off the fake clock (WebCrypto).
 */
import { afterEach, beforeEach } from 'vitest';
import { initialState, useQuorumStore } from '../../stores/store.ts';
import type { CoordinatorHost } from '../coordinatorHost.ts';

/**
 * Registers the hooks at a test file's top level; returns the list to push each started host
 * onto. The list is emptied after each test.
 */
export function stoppedAfterEachTest(): CoordinatorHost[] {
  const hosts: CoordinatorHost[] = [];
  beforeEach(() => useQuorumStore.setState(initialState));
  afterEach(() => {
    for (const h of hosts.splice(0)) h.stop();
  });
  return hosts;
}

/**
 * Polls `probe` every 10 ms until it gives something other than `undefined` or `false`, and
 * returns that; throws naming `what` after `ms`.
 */
export async function until<T>(what: string, probe: () => T | undefined | false, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
