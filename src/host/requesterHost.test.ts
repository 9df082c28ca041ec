/**
 * The requester dashboard's shell against a real coordinator host, on a memory network with
 * in-memory storage: a submission is answered, also when the link to the coordinator is down
 * when it is made or drops before the frame arrives, and one that can never be sent fails with a
 * message saying why — never left at "sending".
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { asJobId, type PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type JobSpec, type JobStatus } from '../protocol/messages.ts';
import { initialState } from '../model/state.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';
import type { RequesterView, Submission } from '../model/requesterView.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import type { Endpoint, EndpointFactory } from '../transport/transport.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { RequesterHost } from './requesterHost.ts';
import { memoryTrust, newIdentity, provingCoordinator } from './testing/provingCoordinator.ts';

const NET = 'requester-host';
const COORDINATOR = coordinatorPeerId(NET);

const spec = (name: string): JobSpec => ({
  name,
  model: new Uint8Array(64).fill(3).buffer,
  inputs: [{ name: 'x', dtype: 'float32', dims: [4, 1], data: new ArrayBuffer(16) }],
  shardSize: 2,
  policy: { replication: 1, quorum: 1, maxReplicas: 1, comparator: { kind: 'exact' } },
  requesterKey: '',
});

/** Delivers frames and lets timers and WebCrypto run until `check` holds. */
async function until(net: MemoryNetwork, check: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    net.flush();
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** What the dashboard shows: the requester each test makes writes it. */
let view: ViewPort<RequesterView>;
const submission = (ref: string): Submission | undefined => view.get().submissions.find((s) => s.ref === ref);

/** The network's factory, keeping every endpoint it makes so a test can cut a connection. */
function recording(net: MemoryNetwork): { factory: EndpointFactory; endpoints: Endpoint[] } {
  const endpoints: Endpoint[] = [];
  return {
    endpoints,
    factory: async (id, handlers) => {
      const ep = await net.factory(id, handlers);
      endpoints.push(ep);
      return ep;
    },
  };
}

let stops: (() => void)[] = [];
beforeEach(() => {
  view = memoryViewPort(initialState.requester);
});
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
});

async function coordinatorOn(net: MemoryNetwork): Promise<CoordinatorHost> {
  const host = new CoordinatorHost({ networkId: NET, factory: net.factory, store: new MemoryCoordinatorStore(NET) });
  stops.push(() => host.stop());
  await host.start();
  return host;
}

function requesterOn(factory: EndpointFactory, submitWaitMs?: number): RequesterHost {
  const host = new RequesterHost({ networkId: NET, factory, trust: memoryTrust(NET), view, ...(submitWaitMs === undefined ? {} : { submitWaitMs }) });
  stops.push(() => host.stop());
  host.start();
  return host;
}

describe('[J-13] RequesterHost submissions', () => {
  it('a job submitted while connected is accepted, and the coordinator has it', async () => {
    const net = new MemoryNetwork();
    const coordinator = await coordinatorOn(net);
    const requester = requesterOn(net.factory);
    await until(net, () => view.get().state === 'connected', 'the welcome');
    const ref = requester.submit(spec('one'), null);
    expect(submission(ref)?.state).toBe('sending');
    await until(net, () => submission(ref)?.state !== 'sending', 'an answer');
    expect(submission(ref)).toMatchObject({ state: 'accepted', reason: null });
    expect(coordinator.core.jobStatuses().map((j) => j.name)).toEqual(['one']);
  });

  it('[J-13] a job submitted before the link to the coordinator is up is sent once it is, not refused', async () => {
    const net = new MemoryNetwork();
    const coordinator = await coordinatorOn(net);
    const requester = requesterOn(net.factory);
    const ref = requester.submit(spec('early'), null);
    await until(net, () => submission(ref)?.state !== 'sending', 'an answer');
    expect(submission(ref)).toMatchObject({ state: 'accepted', reason: null });
    expect(coordinator.core.jobStatuses().map((j) => j.name)).toEqual(['early']);
  });

  it('[J-13] a job sent on a connection that drops before it arrives is sent again on the next one, and accepted once', async () => {
    const net = new MemoryNetwork();
    const coordinator = await coordinatorOn(net);
    const { factory, endpoints } = recording(net);
    const requester = requesterOn(factory);
    await until(net, () => view.get().state === 'connected', 'the welcome');
    const ref = requester.submit(spec('dropped'), null);
    // The first connection drops with the frame still on its way: the coordinator never sees it.
    endpoints[0]?.close(COORDINATOR);
    net.flush();
    expect(coordinator.core.jobStatuses()).toEqual([]);
    await until(net, () => submission(ref)?.state !== 'sending', 'an answer');
    expect(endpoints.length).toBeGreaterThanOrEqual(2);
    expect(submission(ref)).toMatchObject({ state: 'accepted', reason: null });
    expect(coordinator.core.jobStatuses().map((j) => j.name)).toEqual(['dropped']);
  });

  it('[J-13] a job that cannot reach any coordinator fails with a message saying so, instead of staying at "sending"', async () => {
    const net = new MemoryNetwork();
    const requester = requesterOn(net.factory, 300);
    const ref = requester.submit(spec('nowhere'), null);
    await until(net, () => submission(ref)?.state !== 'sending', 'the submission to fail');
    expect(submission(ref)?.state).toBe('rejected');
    expect(submission(ref)?.reason).toMatch(/could not reach the coordinator .* submit again/);
  });

  it('[J-13] a job sent on a connection that closes, with no coordinator to come back, fails with the same message instead of staying at "sending"', async () => {
    const net = new MemoryNetwork();
    const coordinator = await coordinatorOn(net);
    const requester = requesterOn(net.factory, 300);
    await until(net, () => view.get().state === 'connected', 'the welcome');
    const ref = requester.submit(spec('orphaned'), null);
    // The coordinator goes away with the frame still on its way: it never answers, nor comes back.
    coordinator.stop();
    net.flush();
    expect(coordinator.core.jobStatuses()).toEqual([]);
    await until(net, () => submission(ref)?.state !== 'sending', 'the submission to fail');
    expect(submission(ref)?.state).toBe('rejected');
    expect(submission(ref)?.reason).toMatch(/could not reach the coordinator .* submit again/);
  });
});

describe('[AU-5] RequesterHost fetches results again after a re-verification', () => {
  it('[AU-5] a job re-opened after it was done ([X-3]) is fetched again, with its new receipt, once it is done again; a job that stays done is fetched once', async () => {
    const net = new MemoryNetwork();
    const asked: string[] = [];
    const JOB = asJobId('job-au5');
    let requesterPeer: PeerId | null = null;
    // A coordinator that proves its key and scripts the job's course: no quarantine needs to
    // happen for real to re-open a job, only the statuses a requester then sees.
    const coordinator = provingCoordinator(net, COORDINATOR, NET, await newIdentity(), (peer, msg, ep) => {
      requesterPeer = peer;
      if (msg.t === 'submit-job') ep.send(peer, { v: PROTOCOL_VERSION, t: 'job-accepted', ref: msg.ref, jobId: JOB, shards: 2 });
      if (msg.t === 'results-request') asked.push(msg.jobId);
    });
    const status = (done: boolean): void => {
      const job: JobStatus = {
        jobId: JOB,
        name: 'reopened',
        createdAtMs: 0,
        items: 4,
        shards: 2,
        verified: done ? 2 : 1,
        inFlight: done ? 0 : 1,
        pending: 0,
        unverifiable: 0,
        disagreements: 0,
        done,
      };
      if (requesterPeer === null) throw new Error('no requester connected');
      coordinator.send(requesterPeer, { v: PROTOCOL_VERSION, t: 'job-status', jobs: [job] });
    };
    const requester = requesterOn(net.factory);
    const ref = requester.submit(spec('reopened'), null);
    await until(net, () => submission(ref)?.state === 'accepted', 'the job to be accepted');

    status(true);
    await until(net, () => asked.length === 1, 'the first results-request');
    status(true); // done again, nothing changed: its results are not fetched twice
    net.flush();
    await new Promise((r) => setTimeout(r, 50));
    net.flush();
    expect(asked).toEqual([JOB]);

    status(false); // a quarantine re-opened one of its shards
    status(true); // decided again: the results, and their receipt, are new
    await until(net, () => asked.length === 2, 'the results-request after the re-verification');
    expect(asked).toEqual([JOB, JOB]);
  });
});
