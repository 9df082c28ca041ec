/**
 * [B-6] [B-7] [B-8] [P-1] The core's per-peer budgets: time to say hello, malformed frames, and
 * nothing answered before hello. Over a budget: dropped with a logged reason; under it: untouched.
 */
import { describe, expect, it } from 'vitest';
import { asPeerId, type PeerId } from '../../protocol/ids.ts';
import type { ToCoordinator } from '../../protocol/messages.ts';
import { parseToCoordinator, type ProtocolError } from '../../protocol/parse.ts';
import { PEER_BUDGETS } from '../../protocol/peerBudgets.ts';
import { seededRng } from '../rng.ts';
import { HASH_A, V, hello, jobSpec, policy } from '../testing/fixtures.ts';
import { checkFrames, only, sent, submitAndAdmit } from '../testing/coordinatorFrames.ts';
import { CoordinatorCore } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import { DEFAULT_COORDINATOR_CONFIG } from './state.ts';

const HELLO_MS = PEER_BUDGETS.helloTimeoutMs;

function core(): CoordinatorCore {
  return new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, peerTimeoutMs: 60_000 }, seededRng(3));
}

function join(c: CoordinatorCore, name: string, role: 'volunteer' | 'requester' = 'volunteer', now = 0): PeerId {
  const id = asPeerId(name);
  c.connect(id, now);
  checkFrames(c.handle(id, hello(role), now));
  return id;
}

const logs = (fx: readonly CoordinatorEffect[]): string[] => fx.flatMap((e) => (e.kind === 'log' ? [e.text] : []));
const closes = (fx: readonly CoordinatorEffect[]): PeerId[] => fx.flatMap((e) => (e.kind === 'close' ? [e.peer] : []));

function malformed(raw: unknown): ProtocolError {
  const p = parseToCoordinator(raw);
  if (p.ok) throw new Error('expected a malformed frame');
  return p.error;
}

describe('hello first [P-1] [B-6]', () => {
  it('[P-1] [B-6] a ping before hello is not answered and is no sign of life', () => {
    const c = core();
    const p = asPeerId('early');
    c.connect(p, 0);
    expect(sent(c.handle(p, { v: V, t: 'ping' }, 1_000), p)).toEqual([]);
    // Pinging at 4.9 s did not move its hello deadline: it is closed once 5 s have passed.
    c.handle(p, { v: V, t: 'ping' }, HELLO_MS - 100);
    const fx = c.tick(HELLO_MS + 1);
    expect(closes(fx)).toEqual([p]);
  });

  it('[B-6] a peer that says no hello within helloTimeoutMs is refused with the reason and closed; a greeted one stays', () => {
    const c = core();
    const silent = asPeerId('silent');
    c.connect(silent, 0);
    const v = join(c, 'v1');
    expect(closes(c.tick(HELLO_MS))).toEqual([]); // exactly at the limit: still there
    const fx = checkFrames(c.tick(HELLO_MS + 1));
    expect(closes(fx)).toEqual([silent]);
    expect(only(sent(fx, silent), 'refused').reason).toMatch(/no "hello" within 5000 ms/);
    expect(logs(fx).some((l) => /refused silent: dropped: no "hello" within 5000 ms/.test(l))).toBe(true);
    expect(c.peerSummaries().map((s) => s.peerId)).toEqual([v]);
    // Whatever it sends before the close takes effect is ignored, without a log line.
    expect(c.handle(silent, hello('volunteer'), HELLO_MS + 2)).toEqual([]);
  });
});

describe('refusals are final [B-7]', () => {
  it('[B-7] [P-1] a flood of frames before hello costs one refusal and one log line, not one each', () => {
    const c = core();
    const p = asPeerId('early');
    c.connect(p, 0);
    const fx: CoordinatorEffect[] = [];
    for (let i = 0; i < 10_000; i++) fx.push(...c.handle(p, { v: V, t: 'lease-request' }, i));
    expect(sent(fx, p).map((m) => m.t)).toEqual(['refused']);
    expect(logs(fx)).toHaveLength(1);
    expect(closes(fx)).toEqual([p]);
  });

  it('[B-7] [M-2] a flood of frames of another version costs one refusal', () => {
    const c = core();
    const p = join(c, 'p', 'requester');
    const error = malformed({ v: 99, t: 'ping' });
    expect(error.kind).toBe('version');
    const fx: CoordinatorEffect[] = [];
    for (let i = 0; i < 10_000; i++) fx.push(...c.protocolError(p, error, i));
    expect(sent(fx, p).map((m) => m.t)).toEqual(['refused']);
    expect(logs(fx)).toHaveLength(1);
  });
});

describe('malformed frames [B-7] [B-8]', () => {
  const bad = malformed({ v: V, t: 'no-such-frame' });

  it('[B-7] [B-8] 30,000 malformed frames: a bounded number of log lines, and the peer dropped with a reason and its leases released', () => {
    const c = core();
    const req = join(c, 'req', 'requester');
    submitAndAdmit(c, req, jobSpec(4, 2, policy(1, 1, 1)), 0, HASH_A);
    const flooder = join(c, 'flooder');
    const lease = only(sent(c.handle(flooder, { v: V, t: 'lease-request' }, 0), flooder), 'lease');
    const fx: CoordinatorEffect[] = [];
    // 30,000 frames in 2.3 s, as the attack sent them.
    for (let i = 0; i < 30_000; i++) fx.push(...c.protocolError(flooder, bad, Math.floor((i * 2300) / 30_000)));
    fx.push(...c.tick(2_300), ...c.tick(3_500));
    expect(logs(fx).length).toBeLessThanOrEqual(5);
    expect(closes(fx)).toEqual([flooder]);
    expect(only(sent(fx, flooder), 'refused').reason).toMatch(/over its budget of malformed frames \(50 at once, 5\/s\): 51 so far, the last: .*no-such-frame/);
    expect(c.peerSummaries().map((s) => s.peerId)).toEqual([req]);
    // Its lease went back: another volunteer gets that shard.
    const other = join(c, 'other', 'volunteer', 3_500);
    expect(only(sent(c.handle(other, { v: V, t: 'lease-request' }, 3_500), other), 'lease').shardId).toBe(lease.shardId);
  });

  it('[B-8] under the budget: the first bad frame is logged at once, the rest in one line per period; the peer stays', () => {
    const c = core();
    const p = join(c, 'p');
    const first = logs(c.protocolError(p, bad, 0));
    expect(first).toEqual([expect.stringMatching(/^p: dropped a malformed frame: .*no-such-frame/)]);
    const quiet: string[] = [];
    for (let i = 0; i < 20; i++) quiet.push(...logs(c.protocolError(p, bad, 100 + i)));
    expect(quiet).toEqual([]);
    const summary = logs(c.tick(1_000));
    expect(summary).toEqual([expect.stringMatching(/^p: dropped 20 malformed frames in the last 1\.0 s \(the last: .*no-such-frame/)]);
    expect(logs(c.tick(2_000))).toEqual([]);
    expect(closes(c.tick(2_500))).toEqual([]);
    expect(sent(c.handle(p, { v: V, t: 'ping' }, 2_500), p)).toEqual([{ v: V, t: 'pong' }]);
  });

  it('[B-7] a malformed submission under the budget is still refused by its ref ([J-1])', () => {
    const c = core();
    const r = join(c, 'r', 'requester');
    const error = malformed({ v: V, t: 'submit-job', ref: 'sub-1', spec: { name: 'x' } });
    expect(only(sent(c.protocolError(r, error, 0), r), 'job-rejected').ref).toBe('sub-1');
  });

  it('[B-7] a new connection under the same id starts with a fresh budget', () => {
    const c = core();
    // A requester: a volunteer's id would need its resume token back ([I-1]).
    const p = join(c, 'p', 'requester');
    for (let i = 0; i < 51; i++) c.protocolError(p, bad, 0);
    c.disconnect(p, 0);
    const again = join(c, 'p', 'requester', 1);
    expect(sent(c.handle(again, { v: V, t: 'ping' } as ToCoordinator, 1), again)).toEqual([{ v: V, t: 'pong' }]);
    expect(closes(c.protocolError(again, bad, 1))).toEqual([]);
  });
});
