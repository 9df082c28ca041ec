/**
 * [K-7] A coordinator claims its network's id with its key and registers it with the ticket, over
 * a real signaling server (server/signaling.ts as the app mounts it) and real peerjs registrations
 * (the Node transport): a page with another key is refused, saying why, and registers nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachSignaling, type Signaling } from '../../server/signaling.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from '../transport/nodeTransport.node.ts';
import type { Endpoint, EndpointHandlers, SignalingConfig } from '../transport/transport.ts';
import { generateCoordinatorKeyPair, identityOf, type CoordinatorIdentity } from './coordinatorKey.ts';
import { claimCoordinatorId, claimingFactory, CoordinatorIdReservedError } from './coordinatorIdClaim.ts';

const handlers: EndpointHandlers = { open: () => {}, data: () => {}, close: () => {}, signaling: () => {}, error: () => {} };

let server: http.Server;
let signaling: Signaling;
let config: SignalingConfig;
let real: CoordinatorIdentity;
let rogue: CoordinatorIdentity;
beforeAll(async () => {
  const app = express();
  server = http.createServer(app);
  signaling = attachSignaling(server, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  config = signalingForServer(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  [real, rogue] = await Promise.all([generateCoordinatorKeyPair().then(identityOf), generateCoordinatorKeyPair().then(identityOf)]);
});
afterAll(async () => {
  await signaling.detach();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  closeNodeTransport();
}, 60_000);

describe('[K-7] claiming the coordinator id', () => {
  it('[K-7] the key holder registers its claimed id through peerjs; another key is refused before it registers, and cannot register without a ticket', async () => {
    const endpoint: Endpoint = await claimingFactory(config, real, nodeEndpointFactory)('quorum-claimed', handlers);
    expect(endpoint.selfId).toBe('quorum-claimed');
    expect(signaling.coordinatorIds.reservedFor('quorum-claimed')).toBe(real.fingerprint);
    endpoint.destroy();
    await expect.poll(() => signaling.clientCount(), { timeout: 10_000 }).toBe(0);

    // The holder is away: a page with another key tries to take the id.
    await expect(claimingFactory(config, rogue, nodeEndpointFactory)('quorum-claimed', handlers)).rejects.toBeInstanceOf(CoordinatorIdReservedError);
    await expect(claimCoordinatorId(config, 'quorum-claimed', rogue)).rejects.toThrow(/keeps "quorum-claimed" for another key.*QUORUM_COORDINATOR_KEYS/s);
    await expect(nodeEndpointFactory(config)('quorum-claimed', handlers)).rejects.toThrow(/reserved for the holder of its network's key/);
    await expect.poll(() => signaling.clientCount(), { timeout: 10_000 }).toBe(0);

    // The holder comes back and registers again.
    const back = await claimingFactory(config, real, nodeEndpointFactory)('quorum-claimed', handlers);
    expect(back.selfId).toBe('quorum-claimed');
    back.destroy();
  }, 60_000);

  it('[K-7] a server that reserves no ids (404) gets a registration without a ticket', async () => {
    const old = http.createServer((_req, res) => res.writeHead(404).end());
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve));
    try {
      const at = signalingForServer(`http://127.0.0.1:${(old.address() as AddressInfo).port}`);
      expect(await claimCoordinatorId(at, 'quorum-x', real)).toBeNull();
    } finally {
      await new Promise<void>((resolve) => old.close(() => resolve()));
    }
  });
});
