import { describe, expect, it } from 'vitest';
import { asPeerId, type JobId, type PeerId } from '../../protocol/ids.ts';
import type { ToCoordinator } from '../../protocol/messages.ts';
import { seededRng } from '../rng.ts';
import { checkFrames, only, sent, submitAndAdmit } from '../testing/coordinatorFrames.ts';
import type { WireTensor } from '../../protocol/tensor.ts';
import { HASH_A, V, f32, hello, jobSpec, policy } from '../testing/fixtures.ts';
import { CoordinatorCore } from './coordinator.ts';
import type { CoordinatorEffect } from './effects.ts';
import { DEFAULT_COORDINATOR_CONFIG } from './state.ts';

const KEY = 'sesame-0123456789abcdef';
const NEW_KEY = 'rotated-fedcba9876543210';
const out = (rows: number): WireTensor[] => [f32('y', [rows, 2], Array<number>(rows * 2).fill(1))];

/** A network with a requester key, one job submitted under it and verified by two volunteers. */
function network(requesterKey = KEY) {
  const core = new CoordinatorCore({ networkId: 'net1', ...DEFAULT_COORDINATOR_CONFIG, peerTimeoutMs: 600_000, requesterKey }, seededRng(3));
  const handle = (peer: PeerId, msg: ToCoordinator): CoordinatorEffect[] => checkFrames(core.handle(peer, msg, 0));
  const join = (name: string, msg: ToCoordinator): PeerId => {
    const id = asPeerId(name);
    core.connect(id, 0);
    handle(id, msg);
    return id;
  };
  const requesterHello = (key?: string): ToCoordinator => ({ ...hello('requester'), ...(key === undefined ? {} : { requesterKey: key }) });
  const owner = join('owner', requesterHello(requesterKey));
  const jobId: JobId = submitAndAdmit(core, owner, jobSpec(2, 2, policy(2, 2, 4), { requesterKey }), 0, HASH_A);
  for (const name of ['va', 'vb']) {
    const v = join(name, hello('volunteer'));
    const lease = only(sent(handle(v, { v: V, t: 'lease-request' }), v), 'lease');
    handle(v, { v: V, t: 'result', leaseId: lease.leaseId, outputs: out(2), backend: 'wasm', inferMs: 1 });
  }
  const results = (peer: PeerId) => sent(handle(peer, { v: V, t: 'results-request', jobId }), peer).filter((m) => m.t === 'job-results');
  return { core, handle, join, requesterHello, owner, jobId, results };
}

describe('requesters own their jobs', () => {
  it('[J-11] a requester whose hello proves the requester key reads results and job status; one without it gets neither', () => {
    const net = network();
    expect(net.results(net.owner)).toHaveLength(1);
    const stranger = net.join('stranger', net.requesterHello());
    const guesser = net.join('guesser', net.requesterHello('not-the-key'));
    expect(net.results(stranger)).toEqual([]);
    expect(net.results(guesser)).toEqual([]);
    // Job status detail goes to owners only: the host sends `job-status` to the watchers.
    expect(net.core.watchers()).toEqual([net.owner]);
    expect(net.core.ownsJobs(net.owner)).toBe(true);
    expect(net.core.ownsJobs(stranger)).toBe(false);
  });

  it('[J-11] observers never get results, whatever they send', () => {
    const net = network();
    const observer = net.join('obs', hello('observer'));
    expect(net.results(observer)).toEqual([]);
    expect(net.core.watchers()).not.toContain(observer);
    expect(net.core.ownsJobs(observer)).toBe(false);
  });

  it('[J-11] the key owns the job, not the tab: a second requester with the key reads it, as the dashboard after a reload does', () => {
    const net = network();
    const otherTab = net.join('other-tab', net.requesterHello(KEY));
    expect(net.results(otherTab)).toHaveLength(1);
    expect(net.core.watchers()).toEqual([net.owner, otherTab]);
    expect(net.results(net.join('keyless-tab', net.requesterHello()))).toEqual([]);
  });

  it('[J-11] a submission the key admits proves the key for its connection too', () => {
    const net = network();
    const late = net.join('late', net.requesterHello());
    expect(net.core.ownsJobs(late)).toBe(false);
    submitAndAdmit(net.core, late, jobSpec(2, 2, policy(2, 2, 4), { requesterKey: KEY }), 0, HASH_A);
    expect(net.core.ownsJobs(late)).toBe(true);
    expect(net.results(late)).toHaveLength(1);
  });

  it('[J-11] a second hello with the key proves it on the same connection; one with a wrong key takes the proof away', () => {
    const net = network();
    const tab = net.join('tab', net.requesterHello());
    net.handle(tab, net.requesterHello(KEY));
    expect(net.results(tab)).toHaveLength(1);
    net.handle(tab, net.requesterHello('typo'));
    expect(net.results(tab)).toEqual([]);
  });

  it('[J-11] a network without a requester key is open: every requester reads every job, observers still none', () => {
    const net = network('');
    const anyone = net.join('anyone', net.requesterHello());
    expect(net.results(anyone)).toHaveLength(1);
    expect(net.core.ownsJobs(anyone)).toBe(true);
    const observer = net.join('obs', hello('observer'));
    expect(net.results(observer)).toEqual([]);
  });

  it('[J-12] a rotated key: the old one proves nothing any more (connected tabs included) and submits nothing; the new one works', () => {
    const net = network();
    const second = net.join('second', net.requesterHello(KEY));
    checkFrames(net.core.rotateRequesterKey(NEW_KEY, 0));
    expect(net.core.requesterKey()).toBe(NEW_KEY);
    expect(net.results(net.owner)).toEqual([]);
    expect(net.results(second)).toEqual([]);
    expect(net.core.watchers()).toEqual([]);
    const oldKey = net.join('old', net.requesterHello(KEY));
    expect(net.results(oldKey)).toEqual([]);
    const refused = sent(net.handle(oldKey, { v: V, t: 'submit-job', ref: 'r2', spec: jobSpec(2, 2, policy(2, 2, 4), { requesterKey: KEY }) }), oldKey);
    expect(only(refused, 'job-rejected').reason).toMatch(/wrong requester key/);
    const fresh = net.join('fresh', net.requesterHello(NEW_KEY));
    expect(net.results(fresh)).toHaveLength(1);
    expect(net.core.watchers()).toEqual([fresh]);
  });

  it('[J-12] a rotation cannot open the network: an empty key is refused and the old key stays', () => {
    const net = network();
    expect(() => net.core.rotateRequesterKey('', 0)).toThrow(/empty/);
    expect(net.core.requesterKey()).toBe(KEY);
    expect(net.results(net.owner)).toHaveLength(1);
  });
});
