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
import { describe, expect, it, vi } from 'vitest';

/**
 * The real network steps here are timed by node-datachannel, not by the tests: a connection
 * opens after ICE and a DTLS handshake (a failed handshake is dialed again), and a peer whose
 * DataChannel close was cut off by a slow machine learns of it only from ICE silence, tens of
 * seconds later. On a loaded 2-core machine (load average 20-45) either can pass 30 s, so a
 * state gets WAIT_MS to come about and a test, which waits for a few states in turn, four times
 * that. A state that is reached passes at once: these limits only make a broken transport slow to fail.
 */
const WAIT_MS = 90_000;
vi.setConfig({ testTimeout: 4 * WAIT_MS, hookTimeout: 2 * WAIT_MS });

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
    waitMs: WAIT_MS,
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
