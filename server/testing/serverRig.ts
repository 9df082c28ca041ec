/**
 * For the server's tests: real app/signaling servers on port 0 over a throwaway dist folder, and
 * raw signaling sockets, all closed after each test so no port or socket outlives the test using it.
 * Call `serverRig()` at a test file's top level: it registers the hooks that do the cleanup.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startServer, type RunningServer } from '../app.ts';
import { connect, type TestSocket } from './signalingClient.ts';

export interface ServerRig {
  /** Starts a server on 127.0.0.1, port 0, closed after the test. */
  start(extra?: Parameters<typeof startServer>[0]): Promise<RunningServer>;
  /** Opens a signaling socket, terminated after the test. */
  open(base: string, id: string, options?: Parameters<typeof connect>[2]): TestSocket;
}

export function serverRig(): ServerRig {
  let distDir = '';
  const running: RunningServer[] = [];
  const sockets: TestSocket[] = [];
  beforeAll(() => {
    // The app serves a built SPA; a one-page stand-in keeps the tests off the real build.
    distDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-dist-'));
    fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>Quorum</title>');
  });
  afterAll(() => fs.rmSync(distDir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.ws.terminate();
    await Promise.all(running.splice(0).map((s) => s.close()));
  });
  const track = (socket: TestSocket): TestSocket => {
    sockets.push(socket);
    return socket;
  };
  return {
    async start(extra = {}) {
      const s = await startServer({ port: 0, host: '127.0.0.1', distDir, iceServers: [], ...extra });
      running.push(s);
      return s;
    },
    open: (base, id, options = {}) => track(connect(base, id, options)),
  };
}
