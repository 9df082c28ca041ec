/**
 * [I-1] The browser's secrets: 128 bits from `crypto.getRandomValues` for every resume token and
 * requester key, also through a real coordinator host on the in-memory transport.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { caps } from '../core/testing/fixtures.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { generateRequesterKey } from './requesterKey.ts';
import { cryptoSecret } from './secrets.ts';
import { coordinatorClient } from './testing/coordinatorClient.ts';

const HEX_128 = /^[0-9a-f]{32}$/;

/** How many 16-byte (128-bit) arrays `crypto.getRandomValues` filled during `f`. */
async function fills128(f: () => unknown): Promise<number> {
  const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
  try {
    await f();
    return spy.mock.calls.filter(([a]) => a instanceof Uint8Array && a.length === 16).length;
  } finally {
    spy.mockRestore();
  }
}

describe('secrets from crypto.getRandomValues [I-1]', () => {
  afterEach(() => vi.restoreAllMocks());

  it('[I-1] cryptoSecret and requester keys are 128 bits from crypto.getRandomValues, different every call', async () => {
    const drawn: string[] = [];
    expect(await fills128(() => drawn.push(cryptoSecret(), generateRequesterKey()))).toBe(2);
    for (let i = 0; i < 500; i++) drawn.push(cryptoSecret());
    for (const s of drawn) expect(s).toMatch(HEX_128);
    expect(new Set(drawn).size).toBe(drawn.length);
  });

  it('[I-1] the coordinator host welcomes two volunteers with independent 128-bit tokens from crypto.getRandomValues', async () => {
    const net = new MemoryNetwork();
    const NET = 'secrets-test';
    // [I-1] Tokens are minted only without volunteer keys ([I-2] replaces them where the host checks keys).
    const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: new MemoryCoordinatorStore(NET), config: { volunteerKeys: false } });
    await host.start();
    const volunteers = ['v1', 'v2'].map((id) => coordinatorClient(net, id, coordinatorPeerId(NET)));
    net.flush();
    const filled = await fills128(() => {
      for (const v of volunteers) v.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'volunteer', caps: caps('wasm'), label: 'v' });
      net.flush();
    });
    const tokens = volunteers.map((v) => v.received.find((m) => m.t === 'welcome')?.token);
    for (const t of tokens) expect(t).toMatch(HEX_128);
    expect(tokens[0]).not.toBe(tokens[1]);
    // One full 128-bit draw per token: nothing derived from a 32-bit seed.
    expect(filled).toBe(2);
    host.stop();
  });
});
