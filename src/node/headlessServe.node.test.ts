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
import { DEFAULT_JOB_LIMITS } from '../core/jobChecks.ts';
import { PROTOCOL_VERSION, type FromCoordinator } from '../protocol/messages.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import { MNIST_INPUT_NAME, MNIST_PIXELS } from '../workloads/mnist/holdout.ts';
import { nodeEndpointFactory, signalingForServer } from '../transport/nodeTransport.node.ts';
import { HeadlessOptionsError, runHeadlessCoordinator, type HeadlessCoordinator, type HeadlessCoordinatorOptions } from './headlessCoordinator.node.ts';
import { parseMetrics } from './metrics.ts';

const NETWORK = 'served';
const MODEL = fs.readFileSync(path.resolve(import.meta.dirname, '../../public/models/mnist-mlp.onnx'));
let dataDir: string;
let distDir: string;
const lines: Record<string, unknown>[] = [];
const log = (line: string): void => void lines.push(JSON.parse(line) as Record<string, unknown>);

const start = (more: Partial<HeadlessCoordinatorOptions> = {}): Promise<HeadlessCoordinator> =>
  runHeadlessCoordinator({ network: NETWORK, dataDir, serve: true, port: 0, host: '127.0.0.1', distDir, log, handleSignals: false, ...more });

/** A link param of a printed join link (`fp`, `key`). */
const linkParam = (link: string, name: string): string | null => new URL(link.replace('#/', '')).searchParams.get(name);

/** A requester connected through the coordinator's own signaling, pinned to its key; says hello on open. */
function connectRequester(coordinator: HeadlessCoordinator, frame: (m: FromCoordinator) => void): CoordinatorLink {
  const link: CoordinatorLink = new CoordinatorLink(
    nodeEndpointFactory(signalingForServer(coordinator.origin)),
    coordinatorPeerId(NETWORK),
    {
      open: () => link.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'served requester' }),
      frame,
      protocolError: () => undefined,
      close: () => undefined,
      status: () => undefined,
    },
    { stableId: null, trust: memoryTrust(NETWORK, linkParam(coordinator.links.volunteer, 'fp')) },
  );
  link.start();
  return link;
}

async function until<T>(what: string, check: () => T | undefined | false, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

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
      fp = linkParam(first.links.requester, 'fp');
      expect(fp).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // A requester finds the coordinator through the signaling this process serves.
      let welcomed = false;
      const link = connectRequester(first, (m) => {
        if (m.t === 'welcome') welcomed = true;
      });
      await until('a welcome', () => welcomed);
      const res = await fetch(first.metricsUrl as string);
      expect(res.status).toBe(200);
      const m = parseMetrics(await res.text());
      expect(m.get('quorum_peers{role="requester",backend="none"}')).toBe(1);
      expect(m.get('quorum_jobs{state="running"}')).toBe(0);
      link.stop();
      key = linkParam(first.links.requester, 'key') ?? '';
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

  it('[N-5] [J-4] applies the job limits it is started with, keeps them with the network, and refuses a larger job naming the limit', async () => {
    const readyLine = (): Record<string, unknown> | undefined => lines.findLast((l) => l['msg'] === 'coordinator ready');
    const limited = await start({ jobLimits: { maxItems: 3 } });
    try {
      expect(readyLine()?.['jobLimits']).toEqual({ ...DEFAULT_JOB_LIMITS, maxItems: 3 });
      const frames: FromCoordinator[] = [];
      const link = connectRequester(limited, (m) => frames.push(m));
      await until('a welcome', () => frames.some((m) => m.t === 'welcome'));
      link.send({
        v: PROTOCOL_VERSION,
        t: 'submit-job',
        ref: 'four-items',
        spec: {
          name: 'four digits',
          model: MODEL.buffer.slice(MODEL.byteOffset, MODEL.byteOffset + MODEL.byteLength),
          inputs: [{ name: MNIST_INPUT_NAME, dtype: 'float32', dims: [4, MNIST_PIXELS], data: new ArrayBuffer(4 * MNIST_PIXELS * 4) }],
          shardSize: 2,
          policy: DEFAULT_POLICY,
          requesterKey: linkParam(limited.links.requester, 'key') ?? '',
        },
      });
      const answer = await until('an answer to the submission', () => frames.find((m) => m.t === 'job-accepted' || m.t === 'job-rejected'));
      expect(answer).toMatchObject({ t: 'job-rejected', ref: 'four-items', reason: expect.stringMatching(/4 items, over this coordinator's limit of 3/) });
      link.stop();
    } finally {
      await limited.stop();
    }
    // Saved with the network, as the page saves its limits: a restart without them keeps them.
    const again = await start();
    try {
      expect(readyLine()?.['jobLimits']).toEqual({ ...DEFAULT_JOB_LIMITS, maxItems: 3 });
    } finally {
      await again.stop();
    }
  }, 120_000);

  it('says where signaling is when given neither --server nor --serve, and refuses a bad network name', async () => {
    await expect(runHeadlessCoordinator({ network: NETWORK, dataDir, log })).rejects.toThrow(HeadlessOptionsError);
    await expect(runHeadlessCoordinator({ network: NETWORK, dataDir, log })).rejects.toThrow(/--server URL .* or --serve/);
    await expect(runHeadlessCoordinator({ network: 'no spaces', dataDir, serve: true, log })).rejects.toThrow(/not a valid network name/);
  });
});
