/**
 * [N-1] [N-2] [N-4] A headless coordinator that serves the app and signaling itself (`serve`), in
 * this process: one port for the app's files, /peerjs and /metrics; a requester reaches the
 * coordinator through that signaling; a restart on the same data directory keeps the key.
 */
import { memoryTrust } from '../host/testing/provingCoordinator.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinatorLink } from '../host/coordinatorLink.ts';
import { coordinatorPeerId } from '../host/networkId.ts';
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { nodeEndpointFactory, signalingForServer } from '../transport/nodeTransport.node.ts';
import { HeadlessOptionsError, runHeadlessCoordinator, type HeadlessCoordinator } from './headlessCoordinator.node.ts';
import { parseMetrics } from './metrics.ts';

const NETWORK = 'served';
let dataDir: string;
let distDir: string;
const lines: Record<string, unknown>[] = [];
const log = (line: string): void => void lines.push(JSON.parse(line) as Record<string, unknown>);

const start = (): Promise<HeadlessCoordinator> =>
  runHeadlessCoordinator({ network: NETWORK, dataDir, serve: true, port: 0, host: '127.0.0.1', distDir, log, handleSignals: false });

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-served-'));
  distDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quorum-dist-'));
  fs.writeFileSync(path.join(distDir, 'index.html'), '<!doctype html><title>Quorum test app</title>');
});
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(distDir, { recursive: true, force: true });
});

describe('a headless coordinator serving the app and signaling', () => {
  it('serves the app, signaling and /metrics on one port; links point at it; a restart keeps the key', async () => {
    const first = await start();
    let key: string;
    let fp: string | null = null;
    try {
      expect(first.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(first.metricsUrl).toBe(`${first.origin}/metrics`);
      expect(first.links.volunteer).toMatch(new RegExp(`^${first.origin}/#/volunteer\\?network=${NETWORK}&fp=[A-Za-z0-9_-]{43}$`));
      expect(await (await fetch(`${first.origin}/`)).text()).toContain('Quorum test app');

      // [K-1] The printed links carry the coordinator key's fingerprint; a client from them trusts that key only.
      fp = new URL(first.links.requester.replace('#/', '')).searchParams.get('fp');
      expect(fp).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // A requester finds the coordinator through the signaling this process serves.
      let welcomed = false;
      const link: CoordinatorLink = new CoordinatorLink(
        nodeEndpointFactory(signalingForServer(first.origin)),
        coordinatorPeerId(NETWORK),
        {
          open: () => link.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'served requester' }),
          frame: (m) => {
            if (m.t === 'welcome') welcomed = true;
          },
          protocolError: () => undefined,
          close: () => undefined,
          status: () => undefined,
        },
        { stableId: null, trust: memoryTrust(NETWORK, fp) },
      );
      link.start();
      const deadline = Date.now() + 60_000;
      while (!welcomed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(welcomed).toBe(true);
      const res = await fetch(first.metricsUrl as string);
      expect(res.status).toBe(200);
      const m = parseMetrics(await res.text());
      expect(m.get('quorum_peers{role="requester",backend="none"}')).toBe(1);
      expect(m.get('quorum_jobs{state="running"}')).toBe(0);
      link.stop();
      key = new URL(first.links.requester.replace('#/', '')).searchParams.get('key') ?? '';
      expect(key).toMatch(/^[0-9a-f]{32}$/);
    } finally {
      await first.stop();
    }
    // [N-4] JSON lines, one of them with the links.
    expect(lines.find((l) => l['msg'] === 'coordinator ready')).toMatchObject({ level: 'info', network: NETWORK, links: first.links });
    expect(lines.at(-1)).toMatchObject({ msg: 'coordinator stopped: every write is stored' });

    const second = await start();
    try {
      expect(second.links.requester).toMatch(new RegExp(`[?&]key=${key}$`));
      // [K-1] The same coordinator key after a restart: clients that pinned it still trust it.
      expect(second.links.volunteer).toContain(`fp=${fp}`);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('says where signaling is when given neither --server nor --serve, and refuses a bad network name', async () => {
    await expect(runHeadlessCoordinator({ network: NETWORK, dataDir, log })).rejects.toThrow(HeadlessOptionsError);
    await expect(runHeadlessCoordinator({ network: NETWORK, dataDir, log })).rejects.toThrow(/--server URL .* or --serve/);
    await expect(runHeadlessCoordinator({ network: 'no spaces', dataDir, serve: true, log })).rejects.toThrow(/not a valid network name/);
  });
});
