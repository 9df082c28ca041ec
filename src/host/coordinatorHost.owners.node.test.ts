/**
 * [B-12] [J-11] [J-12] The coordinator host gives a submission's reassembly allowance only to a
 * requester that proved the network's requester key, over the memory transport in wire mode (frames
 * chunked as on a real channel, the receiving side under its budgets). A requester without the key
 * once could hold the submission share of the shared budget with one declared message for as long
 * as it kept sending 256 KiB/s into it, keeping an honest submission out.
 */
import { describe, expect, it } from 'vitest';
import { hello } from '../core/testing/fixtures.ts';
import type { ToCoordinator } from '../protocol/messages.ts';
import type { MemoryNetwork } from '../transport/memoryTransport.ts';
import { rawChunk } from '../transport/testing/rawChunk.ts';
import type { CoordinatorHost } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { wireHostEachTest } from './testing/hostRig.ts';
import { coordinatorClient, type CoordinatorClient } from './testing/coordinatorClient.ts';

const NET = 'owners';
const COORD = coordinatorPeerId(NET);
const KEY = 'f'.repeat(32);
const MiB = 1024 * 1024;
const LARGEST = 769 * MiB;

const requesterHello = (key?: string): ToCoordinator => ({ ...hello('requester'), ...(key === undefined ? {} : { requesterKey: key }) });
const logTexts = (): string[] => host.view.get().log.map((l) => l.text);

let net: MemoryNetwork;
let host: CoordinatorHost;

wireHostEachTest(NET, { requesterKey: KEY }, (wire) => ({ net, host } = wire));

/** `client` declares a message of the largest submission's size (one chunk of it sent). */
function declareLargest(client: CoordinatorClient, id = 0): void {
  net.sendRaw(client.ep.selfId, COORD, rawChunk({ id, index: 0, count: 4_000, total: LARGEST, partBytes: LARGEST / 4_000 }, new Uint8Array(8)));
  net.flush();
}

describe('[B-12] a submission share only for requesters that proved the key', () => {
  it('[B-12] a requester without the key cannot take the submission share; one with it then can', () => {
    const stranger = coordinatorClient(net, 'stranger', COORD);
    net.flush();
    stranger.send(requesterHello());
    net.flush();
    declareLargest(stranger);
    expect(net.bufferedBytes(COORD, stranger.ep.selfId)).toBe(0);
    expect(logTexts().some((t) => /stranger: dropped a malformed frame: message 0 of 806354944 bytes exceeds the limit of 67108864/.test(t))).toBe(true);

    const owner = coordinatorClient(net, 'owner', COORD);
    net.flush();
    owner.send(requesterHello(KEY));
    net.flush();
    declareLargest(owner);
    expect(net.bufferedBytes(COORD, owner.ep.selfId)).toBe(LARGEST);
  });

  it('[J-12] [B-12] a rotated key takes the share and the results away from a tab that proved the old key', () => {
    const owner = coordinatorClient(net, 'owner', COORD);
    net.flush();
    owner.send(requesterHello(KEY));
    net.flush();
    expect(host.core.watchers()).toEqual([owner.ep.selfId]);
    host.rotateRequesterKey('9'.repeat(32));
    expect(host.core.watchers()).toEqual([]);
    declareLargest(owner);
    expect(net.bufferedBytes(COORD, owner.ep.selfId)).toBe(0);
    // A new hello with the new key proves it again.
    owner.send(requesterHello('9'.repeat(32)));
    net.flush();
    declareLargest(owner, 1);
    expect(net.bufferedBytes(COORD, owner.ep.selfId)).toBe(LARGEST);
  });
});
