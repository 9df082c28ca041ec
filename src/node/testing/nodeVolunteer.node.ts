/**
 * A volunteer without a browser, for tests: the real `VolunteerCore` behind a `CoordinatorLink`
 * over the Node transport, its effects carried out as volunteerHost.ts carries them out (models
 * fetched from the coordinator and sha256-checked, shards run in onnxruntime-node, timers), minus
 * what a tab adds (page state, battery, visibility, IndexedDB): its outbox and resume token live
 * in the core's memory, which outlives any coordinator restart since this process keeps running;
 * so does its key pair ([I-2]), with which it signs its hello and results ([I-3]).
 * `runDelayMs` holds each result back a while, so a test can act while shards are in flight.
 */
import { memoryTrust } from '../../host/testing/provingCoordinator.ts';
import { VolunteerCore, type VolunteerEffect } from '../../core/volunteer/volunteer.ts';
import { CoordinatorLink } from '../../host/coordinatorLink.ts';
import { generateCoordinatorKeyPair, identityOf } from '../../host/coordinatorKey.ts';
import { needsSignature, VolunteerSigner } from '../../host/volunteerSigner.ts';
import { coordinatorPeerId } from '../../host/networkId.ts';
import type { ModelHash } from '../../protocol/ids.ts';
import { errorMessage } from '../../protocol/errorMessage.ts';
import type { InferenceEngine } from '../../runtime/engine.ts';
import { createOrtNodeEngine } from '../../runtime/ortNodeEngine.node.ts';
import { sha256Hex } from '../../runtime/sha256.ts';
import type { EndpointFactory } from '../../transport/transport.ts';

export interface NodeVolunteer {
  readonly core: VolunteerCore;
  /** Shards this volunteer ran to the end. */
  runs(): number;
  stop(): Promise<void>;
}

export async function startNodeVolunteer(factory: EndpointFactory, networkId: string, label: string, runDelayMs = 0): Promise<NodeVolunteer> {
  const engine: InferenceEngine = createOrtNodeEngine();
  const caps = await engine.init({ backend: 'wasm', threads: 1 });
  const core = new VolunteerCore(caps, label);
  const loaded = new Set<ModelHash>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let runs = 0;
  let stopped = false;
  // [I-2] [I-3] Its own key for the life of the process; signed frames leave in order.
  const signer = new VolunteerSigner(networkId, async () => identityOf(await generateCoordinatorKeyPair()));
  let ordered: Promise<void> = Promise.resolve();

  const later = (atMs: number, step: () => VolunteerEffect[]): void => {
    const t = setTimeout(
      () => {
        timers.delete(t);
        if (!stopped) apply(step());
      },
      Math.max(0, atMs - Date.now()),
    );
    timers.add(t);
  };

  const run = async (e: Extract<VolunteerEffect, { kind: 'run' }>): Promise<void> => {
    try {
      if (!loaded.has(e.hash)) {
        await engine.loadModel(e.hash, e.model.slice(0));
        loaded.add(e.hash);
      }
      const result = await engine.run(e.hash, e.inputs);
      if (runDelayMs > 0) await new Promise((r) => setTimeout(r, runDelayMs));
      if (stopped) return;
      runs++;
      apply(core.inferenceDone(e.leaseId, result.outputs, result.backend, result.inferMs, Date.now(), result.answers));
    } catch (err) {
      if (!stopped) apply(core.inferenceFailed(e.leaseId, errorMessage(err)));
    }
  };

  const apply = (effects: readonly VolunteerEffect[]): void => {
    for (const e of effects) {
      switch (e.kind) {
        case 'send': {
          const msg = e.msg;
          ordered = ordered.then(() => (needsSignature(msg) ? signer.send(link, msg, core.capabilities()) : void link.send(msg))).catch(() => undefined);
          break;
        }
        case 'outbox-put':
          signer.noteResult(e.entry.leaseId, e.entry.shardId);
          break;
        case 'outbox-delete':
          signer.forget(e.leaseId);
          break;
        case 'load-cached-model':
          // No cache: every model comes from the coordinator (and is checked).
          queueMicrotask(() => apply(core.modelFromCache(e.hash, null)));
          break;
        case 'check-model':
          void sha256Hex(e.bytes).then((digest) => apply(core.modelChecked(e.hash, e.bytes, digest === e.hash)));
          break;
        case 'run':
          void run(e);
          break;
        case 'wake-at':
          later(e.atMs, () => core.wake(Date.now()));
          break;
        case 'progress-at':
          later(e.atMs, () => core.progressDue(Date.now()));
          break;
        case 'renew-id':
          link.renewId('the coordinator says this id is another volunteer’s');
          break;
        case 'cache-model':
        case 'save-token':
        case 'log':
        case 'status-changed':
          break;
      }
    }
  };

  const link: CoordinatorLink = new CoordinatorLink(
    factory,
    coordinatorPeerId(networkId),
    {
      open: () => apply(core.connected(Date.now())),
      frame: (msg) => apply(core.receive(msg, Date.now())),
      protocolError: (error) => apply(core.protocolError(error, Date.now())),
      close: () => apply(core.disconnected(Date.now())),
      status: () => undefined,
    },
    // One peer id for every connection, as a volunteer tab keeps one ([W-17]); the coordinator's
    // key pinned on first use ([K-4]), as a tab opened without `fp` does.
    { stableId: null, trust: memoryTrust(networkId) },
  );
  link.start();

  return {
    core,
    runs: () => runs,
    stop: async () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      link.stop();
      await engine.dispose();
    },
  };
}
