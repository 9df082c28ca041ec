/**
 * For the CLI's end-to-end tests in one process: a real PeerServer on a loopback port with the
 * Node transport over it, throwaway folders, and a real-time poll. These tests run real WebRTC
 * and ONNX, so they wait on real time, not a fake clock.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { attachSignaling } from '../../server/signaling.ts';
import { closeNodeTransport, nodeEndpointFactory, signalingForServer } from '../../src/transport/nodeTransport.node.ts';
import type { EndpointFactory } from '../../src/transport/transport.ts';

export interface LoopbackSignaling {
  /** The server's base URL, http://127.0.0.1:<port>. */
  readonly url: string;
  /** Node transport endpoints that signal through it. */
  readonly factory: EndpointFactory;
  /** Detaches signaling, closes the server and the Node transport. */
  close(): Promise<void>;
}

/** A PeerServer mounted as the app mounts it, on 127.0.0.1 and a free port. */
export async function startLoopbackSignaling(): Promise<LoopbackSignaling> {
  const app = express();
  const server = http.createServer(app);
  const signaling = attachSignaling(server, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    factory: nodeEndpointFactory(signalingForServer(url)),
    async close() {
      await signaling.detach();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      closeNodeTransport();
    },
  };
}

/** Fresh folders under the system temp dir, named `prefix`…, all removed by `removeAll`. */
export function tmpDirs(prefix: string): { make(): string; removeAll(): void } {
  const dirs: string[] = [];
  return {
    make() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    removeAll() {
      for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` every 25 ms until it gives something truthy, and returns that; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
