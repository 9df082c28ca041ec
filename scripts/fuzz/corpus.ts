/**
 * Valid frames of every type, both directions, for the fuzzer to mutate: a mutation of a valid
 * frame reaches deeper than random bytes (past the parser, into the cores). Frames that name a
 * lease, job or model use the ids the caller knows (those a coordinator really issued), so a
 * hostile volunteer's result can hit a live lease.
 */
import type { Rng } from '../../src/core/rng.ts';
import { caps, f32, HASH_A, jobSpec, policy } from '../../src/core/testing/fixtures.ts';
import { fileSpec, imagePipeline } from '../../src/core/testing/fileJobFixtures.ts';
import { PROTOCOL_VERSION, type FromCoordinator, type ToCoordinator } from '../../src/protocol/messages.ts';
import { pick, int, chance } from './mutate.ts';

const v = PROTOCOL_VERSION;

/** What a hostile peer knows: ids the coordinator gave it or that it can guess. */
export interface FuzzContext {
  readonly leaseIds: readonly string[];
  readonly jobIds: readonly string[];
  readonly modelHashes: readonly string[];
}

const idOr = (rng: Rng, known: readonly string[], fallback: string): string => (known.length > 0 && chance(rng, 0.8) ? pick(rng, known) : fallback);

/** Random float32 values: two hostile results never agree by accident (zeros would). */
function noise(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.next() * 2000 - 1000);
}

/** A valid frame a volunteer, requester or observer may send. */
export function toCoordinatorFrame(rng: Rng, ctx: FuzzContext): ToCoordinator {
  const leaseId = idOr(rng, ctx.leaseIds, 'lease-x');
  const hash = idOr(rng, ctx.modelHashes, HASH_A);
  switch (int(rng, 0, 13)) {
    case 0:
      return { v, t: 'hello', role: 'volunteer', caps: caps(chance(rng, 0.5) ? 'wasm' : 'webgpu'), label: 'fuzz volunteer' };
    case 1:
      return { v, t: 'hello', role: pick(rng, ['requester', 'observer'] as const), caps: null, label: 'fuzz' };
    case 2:
    case 3:
      return { v, t: 'lease-request' };
    case 4:
      return { v, t: 'model-request', hash: hash as never, offset: pick(rng, [0, 1, 262_144, 2 ** 40]) };
    case 5: {
      const rows = int(rng, 1, 4);
      const k = int(rng, 1, 4);
      return { v, t: 'result', leaseId: leaseId as never, outputs: [f32('y', [rows, k], noise(rng, rows * k))], backend: 'wasm', inferMs: int(rng, 0, 500) };
    }
    case 6:
      return {
        v,
        t: 'result',
        leaseId: leaseId as never,
        outputs: [],
        answers: [{ kind: 'labels', labels: [{ index: int(rng, 0, 9), score: rng.next() }] }],
        backend: 'webgpu',
        inferMs: 3,
      };
    case 7:
      return { v, t: 'lease-abandon', leaseId: leaseId as never, reason: 'fuzz' };
    case 8:
      return { v, t: 'lease-progress', leaseId: leaseId as never, elapsedMs: int(rng, 0, 60_000) };
    case 9:
      return { v, t: 'volunteer-state', paused: chance(rng, 0.15), reason: 'fuzz' };
    case 10:
      return { v, t: 'caps', caps: caps(pick(rng, ['wasm', 'webgpu'] as const)) };
    case 11: {
      // Small jobs (up to 40 shards): work for the strangers to lease, without burying the honest job.
      const spec = chance(rng, 0.7) ? jobSpec(int(rng, 4, 40), int(rng, 1, 2), policy(2, 2, 4)) : fileSpec(int(rng, 2, 10), 1, policy(2, 2, 3));
      return { v, t: 'submit-job', ref: `f${int(rng, 0, 99)}`, spec };
    }
    case 12:
      return { v, t: 'results-request', jobId: idOr(rng, ctx.jobIds, 'job-x') as never };
    default:
      return { v, t: 'ping' };
  }
}

/** The hello of a stranger that plays `role`. */
export function helloAs(rng: Rng, role: 'volunteer' | 'requester' | 'observer'): ToCoordinator {
  return { v, t: 'hello', role, caps: role === 'volunteer' ? caps(chance(rng, 0.5) ? 'wasm' : 'webgpu') : null, label: `fuzz ${role}` };
}

/**
 * What a volunteer that has said hello sends most: lease requests, then results, progress and
 * give-backs for the leases it holds, so that mutations reach leasing and verification.
 */
export function volunteerFrame(rng: Rng, ctx: FuzzContext): ToCoordinator {
  if (chance(rng, 0.4)) return { v, t: 'lease-request' };
  for (;;) {
    const f = toCoordinatorFrame(rng, ctx);
    if (f.t === 'result' || f.t === 'lease-progress' || f.t === 'lease-abandon' || f.t === 'model-request' || chance(rng, 0.1)) return f;
  }
}

/** A valid frame a coordinator may send a volunteer (or a requester, or an observer). */
export function fromCoordinatorFrame(rng: Rng, ctx: FuzzContext & { readonly model: ArrayBuffer; readonly modelHash: string }): FromCoordinator {
  const leaseId = idOr(rng, ctx.leaseIds, `lease-${int(rng, 0, 5)}`);
  const jobId = idOr(rng, ctx.jobIds, 'job-1');
  switch (int(rng, 0, 17)) {
    case 0:
      return { v, t: 'welcome', networkId: 'fuzz', you: 'vf', token: chance(rng, 0.5) ? 'tok-1' : undefined } as FromCoordinator;
    case 1:
      return { v, t: 'refused', reason: 'fuzz', expectedVersion: v, code: chance(rng, 0.3) ? 'peer-id-taken' : undefined } as FromCoordinator;
    case 2:
    case 3: {
      const rows = int(rng, 1, 3);
      return {
        v,
        t: 'lease',
        leaseId: leaseId as never,
        jobId: jobId as never,
        shardId: `${jobId}/${int(rng, 0, 3)}` as never,
        modelHash: ctx.modelHash as never,
        modelBytes: ctx.model.byteLength,
        inputs: [f32('x', [rows, 2], noise(rng, rows * 2))],
        deadlineInMs: pick(rng, [0, 1, 15_000, 60_000]),
      };
    }
    case 4: {
      const f = fileSpec(1, 1);
      return {
        v,
        t: 'lease',
        leaseId: leaseId as never,
        jobId: jobId as never,
        shardId: `${jobId}/0` as never,
        modelHash: ctx.modelHash as never,
        modelBytes: ctx.model.byteLength,
        inputs: [],
        files: f.files,
        pipeline: imagePipeline(ctx.modelHash as never),
        deadlineInMs: 30_000,
      };
    }
    case 5:
      return { v, t: 'no-work', retryInMs: pick(rng, [0, 100, 5_000, 2 ** 40]) };
    case 6:
      return { v, t: 'work-available' };
    case 7:
    case 8: {
      const total = ctx.model.byteLength;
      const offset = chance(rng, 0.7) ? 0 : int(rng, 0, total);
      const end = Math.min(total, offset + int(rng, 1, total));
      return { v, t: 'model-chunk', hash: ctx.modelHash as never, offset, total, bytes: ctx.model.slice(offset, end) };
    }
    case 9:
      return { v, t: 'model-unavailable', hash: ctx.modelHash as never, reason: 'fuzz' };
    case 10:
      return { v, t: 'result-ack', leaseId: leaseId as never, outcome: pick(rng, ['received', 'duplicate', 'unknown-lease', 'rejected'] as const), reason: '' };
    case 11:
      return {
        v,
        t: 'volunteer-status',
        shardsAccepted: int(rng, 0, 9),
        resultsReturned: int(rng, 0, 9),
        resultsRejected: 0,
        paused: chance(rng, 0.2),
        trusted: chance(rng, 0.5),
        streak: 3,
        trustLevel: chance(rng, 0.5) ? null : rng.next(),
        quarantined: chance(rng, 0.1),
      };
    case 12:
      return { v, t: 'job-accepted', ref: 'r1', jobId: jobId as never, shards: 3 };
    case 13:
      return { v, t: 'job-rejected', ref: 'r1', reason: 'fuzz' };
    case 14:
      return {
        v,
        t: 'job-status',
        jobs: [
          {
            jobId: jobId as never,
            name: 'j',
            createdAtMs: 0,
            items: 3,
            shards: 3,
            verified: 1,
            inFlight: 1,
            pending: 1,
            unverifiable: 0,
            disagreements: 0,
            done: false,
          },
        ],
      };
    case 15:
      return {
        v,
        t: 'job-results',
        jobId: jobId as never,
        shards: [
          { index: 0, start: 0, count: 1, outputs: [f32('y', [1, 2], noise(rng, 2))], volunteers: ['a' as never, 'b' as never], backends: ['wasm', 'webgpu'] },
        ],
      };
    case 16:
      return {
        v,
        t: 'network',
        peers: [{ peerId: 'p1' as never, role: 'volunteer', label: 'x', backend: 'wasm', adapter: null, shardsDone: 1, activeLeases: 0, connectedAtMs: 0 }],
      };
    default:
      return { v, t: 'pong' };
  }
}

/** A job spec whose model is `HASH_A`'s stand-in; exported for the fuzzer's volunteers' leases. */
export const FUZZ_MODEL_HASH = HASH_A;
