/**
 * The page's roles, each started at most once per tab with the real adapters: PeerServer on this
 * origin, IndexedDB, and the inference Worker. Views call these as user intents.
 */
import { openQuorumDb } from '../persistence/db.ts';
import { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { ModelCache } from '../persistence/modelCache.ts';
import { DEFAULT_POLICY, type VerificationPolicy } from '../protocol/policy.ts';
import type { Backend } from '../protocol/capabilities.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import { patch } from '../stores/store.ts';
import { runMnistReference } from './referenceRun.ts';
import { peerjsEndpointFactory } from '../transport/peerjsTransport.ts';
import { buildMnistJob } from '../workloads/mnist/mnistJob.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { ObserverHost } from './observerHost.ts';
import { RequesterHost } from './requesterHost.ts';
import { loadSignalingConfig } from './signalingConfig.ts';
import { VolunteerHost } from './volunteerHost.ts';

let coordinator: CoordinatorHost | null = null;
let volunteer: VolunteerHost | null = null;
let requester: RequesterHost | null = null;
let observer: ObserverHost | null = null;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export async function startCoordinator(networkId: string): Promise<void> {
  if (coordinator) return;
  patch('coordinator', { state: 'starting', networkId });
  try {
    const [signaling, db] = await Promise.all([loadSignalingConfig(), openQuorumDb()]);
    coordinator = new CoordinatorHost({ networkId, factory: peerjsEndpointFactory(signaling), store: new CoordinatorStore(db, networkId) });
    await coordinator.start();
  } catch (e) {
    coordinator = null;
    patch('coordinator', { state: 'error', error: message(e) });
  }
}

export async function startVolunteer(networkId: string, backend: 'auto' | Backend): Promise<void> {
  if (volunteer) return;
  patch('volunteer', { state: 'starting', networkId });
  try {
    const [signaling, db] = await Promise.all([loadSignalingConfig(), openQuorumDb()]);
    volunteer = new VolunteerHost({
      networkId,
      factory: peerjsEndpointFactory(signaling),
      engine: createWorkerEngine(),
      cache: new ModelCache(db),
      // One thread per tab: several volunteer tabs on one machine share its cores.
      prefs: { backend, threads: 1 },
      label: navigator.userAgent.includes('Headless') ? 'headless volunteer' : 'volunteer',
    });
    await volunteer.start();
  } catch (e) {
    volunteer = null;
    patch('volunteer', { state: 'error', error: message(e) });
  }
}

export async function connectRequester(networkId: string): Promise<void> {
  if (requester) return;
  try {
    const signaling = await loadSignalingConfig();
    requester = new RequesterHost({ networkId, factory: peerjsEndpointFactory(signaling) });
    requester.start();
  } catch (e) {
    patch('requester', { state: 'error', error: message(e) });
  }
}

export interface MnistSubmission {
  readonly count: number;
  readonly shardSize: number;
  readonly replication: number;
  readonly quorum: number;
  readonly requesterKey: string;
}

export async function submitMnistJob(s: MnistSubmission): Promise<void> {
  if (!requester) throw new Error('not connected to a coordinator yet');
  const policy: VerificationPolicy = {
    ...DEFAULT_POLICY,
    replication: s.replication,
    quorum: s.quorum,
    maxReplicas: Math.max(DEFAULT_POLICY.maxReplicas, s.replication),
  };
  const job = await buildMnistJob(s.count, s.shardSize, policy, s.requesterKey);
  requester.submit(job.spec, job.labels);
}

export async function connectObserver(networkId: string): Promise<void> {
  if (observer) return;
  try {
    const signaling = await loadSignalingConfig();
    observer = new ObserverHost(networkId, peerjsEndpointFactory(signaling));
    observer.start();
  } catch (e) {
    patch('network', { state: 'error', error: message(e) });
  }
}

/** Runs the built-in MNIST model on the first `count` digits in this tab alone. */
export async function runReference(count: number): Promise<void> {
  patch('requester', { reference: { state: 'running', predictions: [], accuracy: null, detail: `running ${count} digits in this tab…` } });
  try {
    const ref = await runMnistReference(count);
    patch('requester', {
      reference: {
        state: 'done',
        predictions: ref.predictions,
        accuracy: ref.accuracy,
        detail: `${ref.predictions.length} digits on ${ref.backend} in ${ref.inferMs.toFixed(0)} ms, accuracy ${(ref.accuracy * 100).toFixed(2)}%`,
      },
    });
  } catch (e) {
    patch('requester', { reference: { state: 'error', predictions: [], accuracy: null, detail: message(e) } });
  }
}
