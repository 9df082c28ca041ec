/** [L-6] Leasing between jobs follows their priorities (jobScheduler.ts inside CoordinatorCore). */
import { describe, expect, it } from 'vitest';
import { asPeerId, type JobId, type PeerId } from '../../protocol/ids.ts';
import type { FromCoordinator } from '../../protocol/messages.ts';
import { parseFromCoordinator, parseToCoordinator } from '../../protocol/parse.ts';
import { seededRng } from '../rng.ts';
import { V, f32, hello, HASH_A, jobSpec, policy } from '../testing/fixtures.ts';
import { CoordinatorCore } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import { DEFAULT_COORDINATOR_CONFIG } from './state.ts';

type Lease = Extract<FromCoordinator, { t: 'lease' }>;

function setup() {
  const core = new CoordinatorCore({ networkId: 'n', ...DEFAULT_COORDINATOR_CONFIG }, seededRng(3));
  const join = (name: string, role: 'volunteer' | 'requester'): PeerId => {
    const id = asPeerId(name);
    core.connect(id, 0);
    core.handle(id, hello(role), 0);
    return id;
  };
  const sent = (fx: CoordinatorEffect[]): FromCoordinator[] =>
    fx
      .flatMap((e) => (e.kind === 'send' ? [e.msg] : []))
      .map((m) => {
        const p = parseFromCoordinator(m);
        if (!p.ok) throw new Error(p.error.reason);
        return p.msg;
      });
  const submit = (req: PeerId, items: number, priority?: number): JobId => {
    const spec = jobSpec(items, 1, policy(1, 1, 1), priority === undefined ? {} : { priority });
    const frame = parseToCoordinator({ v: V, t: 'submit-job', ref: 'r', spec });
    if (!frame.ok) throw new Error(frame.error.reason);
    const fx = core.handle(req, frame.msg, 0);
    const h = fx.find((e) => e.kind === 'hash-model');
    if (h?.kind !== 'hash-model') throw new Error('not admitted');
    const accepted = sent(core.admitJob(req, 'r', h.spec, HASH_A, 0)).find((m) => m.t === 'job-accepted');
    if (accepted?.t !== 'job-accepted') throw new Error('no job-accepted');
    return accepted.jobId;
  };
  /** One volunteer asks, computes and returns; the job its lease was for. */
  const work = (vol: PeerId): JobId | null => {
    const lease = sent(core.handle(vol, { v: V, t: 'lease-request' }, 0)).find((m): m is Lease => m.t === 'lease');
    if (!lease) return null;
    core.handle(vol, { v: V, t: 'result', leaseId: lease.leaseId, outputs: [f32('y', [1, 1], [1])], backend: 'wasm', inferMs: 1 }, 0);
    return lease.jobId;
  };
  return { core, join, submit, work };
}

describe('[L-6] jobs share volunteers in proportion to their priorities', () => {
  it('priorities 3 and 1: leases 3:1 while both have work, then the rest goes to whoever has work', () => {
    const { core, join, submit, work } = setup();
    const req = join('req', 'requester');
    const vol = join('v1', 'volunteer');
    const high = submit(req, 60, 3);
    const low = submit(req, 60, 1);
    const counts = new Map<JobId | null, number>();
    for (let i = 0; i < 40; i++) {
      const j = work(vol);
      counts.set(j, (counts.get(j) ?? 0) + 1);
    }
    expect(counts.get(high)).toBe(30);
    expect(counts.get(low)).toBe(10);
    // The high-priority job finishes; the low one then gets everything.
    for (let i = 0; i < 80; i++) work(vol);
    const status = core.jobStatuses();
    expect(status.find((s) => s.jobId === high)).toMatchObject({ verified: 60, done: true, priority: 3 });
    expect(status.find((s) => s.jobId === low)).toMatchObject({ verified: 60, done: true, priority: 1 });
  });
  it('a job without a priority counts as 1, and equal priorities alternate', () => {
    const { join, submit, work } = setup();
    const req = join('req', 'requester');
    const vol = join('v1', 'volunteer');
    const a = submit(req, 10);
    const b = submit(req, 10, 1);
    expect(Array.from({ length: 6 }, () => work(vol))).toEqual([a, b, a, b, a, b]);
  });
  it('priority outside 1..10 is refused by the parser', () => {
    const spec = jobSpec(2, 1);
    expect(parseToCoordinator({ v: V, t: 'submit-job', ref: 'r', spec: { ...spec, priority: 11 } }).ok).toBe(false);
    expect(parseToCoordinator({ v: V, t: 'submit-job', ref: 'r', spec: { ...spec, priority: 0 } }).ok).toBe(false);
    expect(parseToCoordinator({ v: V, t: 'submit-job', ref: 'r', spec: { ...spec, priority: 1.5 } }).ok).toBe(false);
  });
});
