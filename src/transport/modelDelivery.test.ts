/**
 * [W-6] [L-5] A model travels from the coordinator core to the volunteer core through the real
 * data plane: every frame the coordinator sends is encoded by frameCodec, cut into chunks by a
 * ChunkQueue that interleaves messages as the transport does, put back together by a Reassembler,
 * decoded and parsed. The coordinator queues all of a model's chunks at once, so a shorter last
 * chunk overtakes the ones queued ahead of it: the volunteer must still get the model whole.
 */
import { describe, expect, it } from 'vitest';
import { CoordinatorCore } from '../core/coordinator/coordinator.ts';
import type { CoordinatorEffect } from '../core/coordinator/effects.ts';
import { DEFAULT_COORDINATOR_CONFIG } from '../core/coordinator/state.ts';
import { seededRng } from '../core/rng.ts';
import { submitAndAdmit } from '../core/testing/coordinatorFrames.ts';
import { HASH_A, caps, jobSpec, policy } from '../core/testing/fixtures.ts';
import { VolunteerCore, type VolunteerEffect } from '../core/volunteer/volunteer.ts';
import { asPeerId } from '../protocol/ids.ts';
import { LIMITS } from '../protocol/limits.ts';
import { parseFromCoordinator, parseToCoordinator } from '../protocol/parse.ts';
import { ChunkQueue, DEFAULT_INTERLEAVE, Reassembler } from './chunker.ts';
import { DEFAULT_DATA_PLANE } from './dataPlane.ts';
import { decodeFrame, encodeFrame } from './frameCodec.ts';

const CHUNK = LIMITS.modelChunkBytes;

/** Model bytes with a pattern (period 251) that never lines up with the chunk grid. */
function modelOf(n: number): ArrayBuffer {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) % 251;
  return b.buffer;
}

/**
 * Runs one volunteer against one coordinator until the volunteer asks to check a model; returns
 * the bytes it assembled, or the reason it gave the lease back.
 */
function deliver(model: ArrayBuffer): { bytes: ArrayBuffer } | { abandoned: string } {
  let now = 0;
  const core = new CoordinatorCore({ networkId: 'net', ...DEFAULT_COORDINATOR_CONFIG }, seededRng(1));
  const requester = asPeerId('req');
  core.connect(requester, now);
  core.handle(requester, { v: 1, t: 'hello', role: 'requester', caps: null, label: 'r' }, now);
  submitAndAdmit(core, requester, jobSpec(2, 2, policy(1, 1, 1), { model }), now, HASH_A);

  const me = asPeerId('vol');
  const volunteer = new VolunteerCore(caps('wasm'), 'tab', { prefetch: 0 });
  const wire = new ChunkQueue(DEFAULT_DATA_PLANE.chunkBytes, DEFAULT_INTERLEAVE);
  const receiver = new Reassembler(DEFAULT_DATA_PLANE.limits);
  const toVolunteer: VolunteerEffect[] = [];

  const fromCoordinator = (fx: readonly CoordinatorEffect[]): void => {
    for (const e of fx) if (e.kind === 'send' && e.to === me) wire.enqueue(encodeFrame(e.msg));
    // Only now drain the wire: all the frames of one handle() are queued together, as the host does.
    for (let chunk = wire.next(); chunk; chunk = wire.next()) {
      const r = receiver.push(chunk);
      if (r.kind === 'dropped') throw new Error(`reassembler dropped a chunk: ${r.reason}`);
      if (r.kind !== 'message') continue;
      const parsed = parseFromCoordinator(decodeFrame(r.parts.map((p) => p.slice())));
      if (!parsed.ok) throw new Error(`volunteer could not parse a frame: ${parsed.error.reason}`);
      toVolunteer.push(...volunteer.receive(parsed.msg, ++now));
    }
  };
  const fromVolunteer = (fx: readonly VolunteerEffect[]): void => {
    for (const e of fx) {
      if (e.kind !== 'send') continue;
      const parsed = parseToCoordinator(decodeFrame(encodeFrame(e.msg)));
      if (!parsed.ok) throw new Error(`coordinator could not parse a frame: ${parsed.error.reason}`);
      fromCoordinator(core.handle(me, parsed.msg, ++now));
    }
  };

  fromCoordinator(core.connect(me, now));
  fromVolunteer(volunteer.connected(now));
  for (let steps = 0; steps < 100; steps++) {
    const fx = toVolunteer.splice(0);
    for (const e of fx) {
      if (e.kind === 'check-model') return { bytes: e.bytes };
      if (e.kind === 'load-cached-model') fromVolunteer(volunteer.modelFromCache(e.hash, null));
      if (e.kind === 'send' && e.msg.t === 'lease-abandon') return { abandoned: e.msg.reason };
    }
    fromVolunteer(fx);
  }
  throw new Error('the volunteer never finished downloading the model');
}

describe('model delivery over the real codec and chunker [W-6] [L-5]', () => {
  const sizes: [string, number][] = [
    ['one chunk (200,000 B)', 200_000],
    ['exactly one chunk', CHUNK],
    ['n chunks exactly (42 × 256 KiB)', 42 * CHUNK],
    ['n chunks and a remainder', 3 * CHUNK + 1],
    ["PaddleOCR's direction classifier (578,966 B)", 578_966],
    ["PaddleOCR's detector (4,745,517 B)", 4_745_517],
    ["PaddleOCR's recognizer (10,822,323 B)", 10_822_323],
  ];
  for (const [what, size] of sizes) {
    it(`${what} arrives whole`, () => {
      const model = modelOf(size);
      const got = deliver(model);
      if ('abandoned' in got) throw new Error(`the volunteer gave the lease back: ${got.abandoned}`);
      expect(got.bytes.byteLength).toBe(size);
      const a = new Uint8Array(got.bytes);
      const b = new Uint8Array(model);
      expect(a.findIndex((x, i) => x !== b[i])).toBe(-1);
    });
  }
});
