/**
 * The requester's conversation shared by the dashboard and `quorum submit`: over a MemoryNetwork
 * to a coordinator that proves its key, its frames reach the caller's events, and a job the
 * coordinator's parser would drop never leaves ([J-1]).
 */
import { describe, expect, it } from 'vitest';
import { asJobId, type PeerId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type JobSpec, type ToCoordinator } from '../protocol/messages.ts';
import { DEFAULT_POLICY } from '../protocol/policy.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import { coordinatorPeerId } from './networkId.ts';
import { RequesterClient, type RequesterClientEvents } from './requesterClient.ts';
import { memoryTrust, newIdentity, provingCoordinator } from './testing/provingCoordinator.ts';

const NET = 'client';
const JOB = asJobId('job-1');
const spec = (delta: Partial<JobSpec> = {}): JobSpec => ({
  name: 'two rows',
  model: new Uint8Array([8, 1]).buffer,
  inputs: [{ name: 'x', dtype: 'float32', dims: [2, 1], data: new Float32Array([1, 2]).buffer }],
  shardSize: 1,
  policy: DEFAULT_POLICY,
  requesterKey: 'k',
  ...delta,
});

/** The memory network delivers on `flush`: flushed until `check` holds. */
let net = new MemoryNetwork();
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    net.flush();
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A client on a coordinator that accepts every job and reports it done; what each side saw. */
async function connected(): Promise<{ client: RequesterClient; seen: string[]; received: ToCoordinator[] }> {
  net = new MemoryNetwork();
  const received: ToCoordinator[] = [];
  const coordinator = provingCoordinator(net, coordinatorPeerId(NET), NET, await newIdentity(), (peer: PeerId, m) => {
    received.push(m);
    if (m.t === 'hello') coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'welcome', networkId: NET, you: peer });
    if (m.t === 'submit-job') coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'job-accepted', ref: m.ref, jobId: JOB, shards: 2 });
    if (m.t === 'results-request') coordinator.send(peer, { v: PROTOCOL_VERSION, t: 'job-results', jobId: m.jobId, shards: [], itemNames: ['a', 'b'] });
  });
  const seen: string[] = [];
  const events: RequesterClientEvents = {
    welcome: (networkId) => seen.push(`welcome ${networkId}`),
    refused: (reason) => seen.push(`refused ${reason}`),
    accepted: (ref, jobId, shards) => seen.push(`accepted ${ref} ${jobId} ${shards}`),
    rejected: (ref, reason) => seen.push(`rejected ${ref} ${reason}`),
    unsent: (ref, reason) => seen.push(`unsent ${ref} ${reason}`),
    status: (jobs) => seen.push(`status ${jobs.length}`),
    results: (jobId, shards, itemNames) => seen.push(`results ${jobId} ${shards.length} ${itemNames?.join(',')}`),
    linkState: () => undefined,
    lost: () => seen.push('lost'),
    protocolError: (reason) => seen.push(`protocol ${reason}`),
    untrusted: () => seen.push('untrusted'),
    verified: (_fp, firstUse) => seen.push(`verified ${firstUse}`),
  };
  const client = new RequesterClient(net.factory, memoryTrust(NET), events, 'test requester');
  // [J-13] Made before the link is up: it waits for the connection and is sent on it.
  expect(client.submit('early', spec())).toEqual({ ok: true, waiting: true });
  client.start();
  await until(() => seen.includes(`welcome ${NET}`), 'the welcome');
  await until(() => seen.includes(`accepted early ${JOB} 2`), 'the early submission, sent once connected');
  return { client, seen, received };
}

describe('RequesterClient', () => {
  it('says hello after the key is proved, submits under the caller’s ref and hands the answers to its events', async () => {
    const { client, seen, received } = await connected();
    expect(seen.slice(0, 2)).toEqual(['verified true', `welcome ${NET}`]);
    expect(received[0]).toMatchObject({ t: 'hello', role: 'requester', label: 'test requester' });
    expect(client.submit('r1', spec())).toEqual({ ok: true, waiting: false });
    await until(() => seen.includes(`accepted r1 ${JOB} 2`), 'the acceptance');
    expect(client.requestResults(JOB)).toBe(true);
    await until(() => seen.includes(`results ${JOB} 0 a,b`), 'the results');
    client.stop();
  });

  it('[J-1] refuses at once, with the parser’s reason, a job the coordinator would drop: nothing is sent', async () => {
    const { client, received } = await connected();
    const outcome = client.submit('r2', spec({ shardSize: 0 }));
    expect(outcome).toMatchObject({ ok: false });
    expect(outcome.ok ? '' : outcome.reason).toMatch(/shardSize/);
    await new Promise((r) => setTimeout(r, 50));
    net.flush();
    expect(received.filter((m) => m.t === 'submit-job' && m.ref === 'r2')).toEqual([]);
    client.stop();
  });
});
