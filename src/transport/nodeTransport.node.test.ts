/**
 * The Transport contract (transport.contract.ts) against the Node transport: peerjs over
 * node-datachannel, signaled by a real PeerServer mounted as the app mounts it
 * (server/signaling.ts), on a random loopback port; every connection a real WebRTC DataChannel
 * on 127.0.0.1.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { attachSignaling } from '../../server/signaling.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from './nodeTransport.node.ts';
import { describeTransportContract } from './transport.contract.ts';
import { describe, expect, it } from 'vitest';

describeTransportContract('peerjs over node-datachannel (Node)', async () => {
  const app = express();
  const server = http.createServer(app);
  const signaling = attachSignaling(server, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const config = signalingForServer(`http://127.0.0.1:${port}`);
  return {
    factory: (dataPlane = {}) => nodeEndpointFactory(config, dataPlane),
    // Real sockets and threads: give them a moment, then look again.
    settle: () => new Promise<void>((resolve) => setTimeout(resolve, 10)),
    // Generous, for a loaded machine: a state that is reached passes at once.
    waitMs: 30_000,
    close: async () => {
      await signaling.detach();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      closeNodeTransport();
    },
  };
});

describe('signalingForServer', () => {
  it('finds signaling at /peerjs on the server origin, with the default port of its scheme', () => {
    expect(signalingForServer('http://127.0.0.1:5173')).toEqual({ host: '127.0.0.1', port: 5173, path: '/peerjs', secure: false, iceServers: [] });
    expect(signalingForServer('https://quorum.example/')).toMatchObject({ host: 'quorum.example', port: 443, secure: true });
  });

  it('names what was wrong with a URL it cannot use', () => {
    expect(() => signalingForServer('localhost:5173')).toThrow(/not an http\(s\) URL/);
    expect(() => signalingForServer('no url')).toThrow(/is not a URL.*e\.g\. http/);
  });
});
