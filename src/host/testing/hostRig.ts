/**
 * For coordinator host tests: the hosts a test starts are stopped after it (a running host keeps
 * timers and endpoints that would leak into the next test; each host keeps its own view), and `until` polls in real time for what the host does off the fake clock (WebCrypto).
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { MemoryCoordinatorStore } from '../../persistence/memoryCoordinatorStore.ts';
import { MemoryNetwork } from '../../transport/memoryTransport.ts';
import { CoordinatorHost } from '../coordinatorHost.ts';

type HostConfig = NonNullable<ConstructorParameters<typeof CoordinatorHost>[0]['config']>;

/**
 * Registers the hooks at a test file's top level; returns the list to push each started host
 * onto. The list is emptied after each test.
 */
export function stoppedAfterEachTest(): CoordinatorHost[] {
  const hosts: CoordinatorHost[] = [];
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

/** A started host and the memory network it listens on. */
export interface WireHost {
  readonly net: MemoryNetwork;
  readonly host: CoordinatorHost;
}

/**
 * Registers hooks that start, before each test, a host on a fresh memory network in wire mode
 * under a fake clock from 1,000,000 ms, and stop it after. setImmediate stays real: the model's
 * hash comes from WebCrypto, outside the fake clock. `started` receives each test's pair.
 */
export function wireHostEachTest(networkId: string, config: HostConfig, started: (wire: WireHost) => void): void {
  let host: CoordinatorHost | undefined;
  beforeEach(async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const net = new MemoryNetwork({ now: () => Date.now() });
    host = new CoordinatorHost({ networkId, factory: net.factory, store: new MemoryCoordinatorStore(networkId), config });
    started({ net, host });
    await host.start();
  });
  afterEach(() => {
    host?.stop();
    vi.useRealTimers();
  });
}
