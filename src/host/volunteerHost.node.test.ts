/**
 * The volunteer tab's shell end to end in Node: a VolunteerHost with the real onnxruntime-web
 * engine (WASM), IndexedDB stores (fake-indexeddb) and a real coordinator host on a memory
 * network. [W-15] A result is in the outbox before it leaves, and no frame overtakes an outbox
 * write: while the write is slow, neither the result nor the next lease-request goes out.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { buildProbeModel } from '../../scripts/make-probe-model.ts';
import { MemoryCoordinatorStore } from '../persistence/memoryCoordinatorStore.ts';
import { ModelCache } from '../persistence/modelCache.ts';
import { OutboxStore } from '../persistence/outboxStore.ts';
import { SettingsStore } from '../persistence/settingsStore.ts';
import { openQuorumDb } from '../persistence/db.ts';
import type { LeaseId } from '../protocol/ids.ts';
import { PROTOCOL_VERSION, type ToCoordinatorType } from '../protocol/messages.ts';
import { parseToCoordinator } from '../protocol/parse.ts';
import type { OutboxEntry } from '../core/volunteer/volunteer.ts';
import { createOrtEngine } from '../runtime/ortEngine.ts';
import { MemoryNetwork } from '../transport/memoryTransport.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { coordinatorPeerId } from './networkId.ts';
import { coordinatorClient } from './testing/coordinatorClient.ts';
import { memoryTrust, newIdentity } from './testing/provingCoordinator.ts';
import type { OutboxStorage } from './volunteerDriver.ts';
import { VolunteerHost } from './volunteerHost.ts';
import type { VolunteerIdentity } from './volunteerIdentity.ts';

const NET = 'volunteer-host';

/** The real outbox store, whose writes wait until the test opens the gate (a slow disk). */
class SlowOutbox implements OutboxStorage {
  readonly stored = new Set<LeaseId>();
  writesStarted = 0;
  private open!: () => void;
  private gate = new Promise<void>((resolve) => (this.open = resolve));
  constructor(private readonly real: OutboxStore) {}
  release(): void {
    this.open();
  }
  async put(volunteerId: string, networkId: string, entry: OutboxEntry, nowMs: number): Promise<void> {
    this.writesStarted++;
    await this.gate;
    await this.real.put(volunteerId, networkId, entry, nowMs);
    this.stored.add(entry.leaseId);
  }
  delete(volunteerId: string, leaseId: LeaseId): Promise<void> {
    return this.real.delete(volunteerId, leaseId);
  }
  load(volunteerId: string, networkId: string, nowMs: number): Promise<OutboxEntry[]> {
    return this.real.load(volunteerId, networkId, nowMs);
  }
}

/** What the coordinator received from the volunteer, in order, with whether its result was stored then. */
interface Seen {
  readonly t: ToCoordinatorType;
  readonly storedFirst: boolean | null;
}

async function until(net: MemoryNetwork, check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    net.flush();
    await new Promise((r) => setTimeout(r, 5));
  }
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe('[W-15] VolunteerHost', () => {
  it('[W-15] runs a shard and delivers its result only once the outbox holds it; nothing it sends overtakes the write', async () => {
    const net = new MemoryNetwork();
    const db = await openQuorumDb(`volunteer-host-${Math.random()}`);
    const outbox = new SlowOutbox(new OutboxStore(db));
    const seen: Seen[] = [];
    // The coordinator's own endpoint, recording every frame from the volunteer as it arrives.
    const recordingFactory: EndpointFactory = (id, handlers) =>
      net.factory(id, {
        ...handlers,
        data: (peer, raw) => {
          const p = parseToCoordinator(raw);
          if (p.ok && peer === 'vol-1') seen.push({ t: p.msg.t, storedFirst: p.msg.t === 'result' ? outbox.stored.has(p.msg.leaseId) : null });
          handlers.data(peer, raw);
        },
      });
    const coordinator = new CoordinatorHost({
      networkId: NET,
      factory: recordingFactory,
      store: new MemoryCoordinatorStore(NET),
      identity: await newIdentity(),
    });
    stops.push(() => coordinator.stop());
    await coordinator.start();

    const requester = coordinatorClient(net, 'req-1', coordinatorPeerId(NET));
    net.flush();
    requester.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'requester', caps: null, label: 'requester' });
    const x = new Float32Array([1, 2, 3, 4, 0, 1, 0, 1, 2, 2, 2, 2, 5, 0, 0, 1]);
    requester.send({
      v: PROTOCOL_VERSION,
      t: 'submit-job',
      ref: 'r1',
      spec: {
        name: 'probe',
        model: buildProbeModel().slice().buffer,
        inputs: [{ name: 'x', dtype: 'float32', dims: [4, 4], data: x.buffer }],
        shardSize: 2,
        policy: { replication: 1, quorum: 1, maxReplicas: 1, comparator: { kind: 'allclose', atol: 1e-4, rtol: 1e-3 } },
        requesterKey: '',
      },
    });
    await until(net, () => requester.received.some((m) => m.t === 'job-accepted'), 'the job to be accepted');

    // The volunteer's endpoint, recording every frame it hands over, with the outbox's state then.
    const sent: { readonly t: string; readonly writing: boolean }[] = [];
    const volunteerFactory: EndpointFactory = async (id, handlers) => {
      const ep = await net.factory(id, handlers);
      return {
        ...ep,
        send: (peer, frame) => {
          sent.push({ t: (frame as { t: string }).t, writing: outbox.writesStarted > outbox.stored.size });
          return ep.send(peer, frame);
        },
      };
    };
    let identity: VolunteerIdentity | null = { peerId: 'vol-1', token: null };
    const volunteer = new VolunteerHost({
      networkId: NET,
      factory: volunteerFactory,
      createEngine: () => createOrtEngine(),
      cache: new ModelCache(db),
      settings: new SettingsStore(db),
      outbox,
      identity: { load: () => identity, save: (i) => (identity = i) },
      backend: 'wasm',
      label: 'test volunteer',
      trust: memoryTrust(NET),
      // [I-2] The volunteer's own key (made here, as a fresh browser profile would).
      volunteerKey: newIdentity,
    });
    stops.push(() => volunteer.stop());
    await volunteer.start();

    // The first result is written to the outbox: the write hangs, and meanwhile nothing but
    // liveness leaves (the second shard runs all the same, [W-18]).
    await until(net, () => outbox.writesStarted >= 1, 'the first outbox write');
    for (let i = 0; i < 40; i++) {
      net.flush();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(seen.filter((s) => s.t === 'result')).toEqual([]);

    outbox.release();
    await until(net, () => coordinator.core.jobStatuses()[0]?.done === true, 'the job to be done');
    const results = seen.filter((s) => s.t === 'result');
    expect(results).toEqual([
      { t: 'result', storedFirst: true },
      { t: 'result', storedFirst: true },
    ]);
    // [W-15] Nothing the core sent was handed over while an outbox write was in progress.
    expect(sent.filter((s) => s.writing && s.t !== 'ping').map((s) => s.t)).toEqual([]);
    expect(sent.filter((s) => s.t === 'result')).toHaveLength(2);
    expect(sent.findIndex((s) => s.t === 'result')).toBeLessThan(sent.findLastIndex((s) => s.t === 'lease-request'));
    // Each ack follows its result's signature check ([I-3]): waited for, not assumed sent yet.
    await until(net, () => volunteer.view.get().stats?.resultsDelivered === 2, 'both results acknowledged');
  }, 60_000);
});
