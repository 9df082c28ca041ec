/**
 * The page's roles, each started at most once per tab with the real adapters: PeerServer on this
 * origin, IndexedDB, and the inference Worker. Views call these as user intents.
 */
import { openQuorumDb, type QuorumDb } from '../persistence/db.ts';
import { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { unavailableStorage, type CoordinatorStorage } from '../persistence/coordinatorStorage.ts';
import { SettingsStore } from '../persistence/settingsStore.ts';
import { DEFAULT_JOB_LIMITS, type JobLimits } from '../core/jobChecks.ts';
import type { Backend } from '../protocol/capabilities.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import { patch } from '../stores/store.ts';
import { runMnistReference } from './referenceRun.ts';
import { peerjsEndpointFactory } from '../transport/peerjsTransport.ts';
import type { TrustConfig } from '../core/reputation/reputation.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { testFaults } from './testFaults.ts';
import { ModelInspector } from './modelInspector.ts';
import { generateRequesterKey, rememberedRequesterKey } from './requesterKey.ts';
import { DemoHost } from './demoHost.ts';
import { ObserverHost } from './observerHost.ts';
import { RequesterHost } from './requesterHost.ts';
import { RequesterStore } from '../persistence/requesterStore.ts';
import { loadSignalingConfig } from './signalingConfig.ts';
import { startVolunteer as startVolunteerRole, type VolunteerTestOptions } from './volunteerRole.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { CoordinatorKeyStore } from '../persistence/coordinatorKeyStore.ts';
import { generateCoordinatorKeyPair, identityOf } from './coordinatorKey.ts';
import { pageCoordinatorTrust } from './pageTrust.ts';
import { showConnectionBudget } from './connectionBudgetView.ts';
import { claimingFactory } from './coordinatorIdClaim.ts';

let coordinator: CoordinatorHost | null = null;
let requester: RequesterHost | null = null;
let observer: ObserverHost | DemoHost | null = null;
/** What the running observer watches (`network|demo`): the map may switch between them. */
let observing = '';
let settings: SettingsStore | null = null;

/** Test builds only: tuning that lets a tiny e2e network exercise the trust machinery. */
export interface CoordinatorTestOptions {
  readonly trust?: Partial<TrustConfig>;
}

export async function startCoordinator(networkId: string, test: CoordinatorTestOptions = {}): Promise<void> {
  if (coordinator) return;
  const trust = import.meta.env.MODE === 'test' ? test.trust : undefined;
  patch('coordinator', { state: 'starting', networkId });
  showConnectionBudget();
  try {
    // [S-3] Without IndexedDB the coordinator still starts, to say so on its page, but takes no work.
    const [signaling, db] = await Promise.all([loadSignalingConfig(), openQuorumDb().catch((e: unknown) => errorMessage(e))]);
    void askPersistence();
    let requesterKey: string;
    let jobLimits: JobLimits;
    if (typeof db === 'string') {
      requesterKey = generateRequesterKey();
      jobLimits = DEFAULT_JOB_LIMITS;
    } else {
      // [J-1] The network's requester key, made on the first start; [J-4] its job limits.
      settings = new SettingsStore(db);
      [requesterKey, jobLimits] = await Promise.all([settings.requesterKey(networkId, generateRequesterKey), settings.jobLimits(networkId)]);
    }
    patch('coordinator', { requesterKey, jobLimits });
    // [K-1] The network's key, made on the first start and kept in IndexedDB; without storage a
    // fresh one (clients that pinned the stored one will then warn, as they should).
    const keyPair =
      typeof db === 'string'
        ? await generateCoordinatorKeyPair()
        : await new CoordinatorKeyStore(db).keyPair(networkId, generateCoordinatorKeyPair, Date.now());
    const identity = await identityOf(keyPair);
    coordinator = new CoordinatorHost({
      identity,
      networkId,
      // [K-7] The network's id is claimed with its key before each registration.
      factory: claimingFactory(signaling, identity, peerjsEndpointFactory),
      store: withTestFaults(typeof db === 'string' ? unavailableStorage(db) : new CoordinatorStore(db as QuorumDb, networkId)),
      config: { requesterKey, ...(trust ? { trust } : {}) },
      jobLimits,
      // [J-4] Its own engine, to re-check every submitted model: it trusts no dashboard.
      inspector: new ModelInspector(() => createWorkerEngine()),
    });
    await coordinator.start();
  } catch (e) {
    coordinator = null;
    patch('coordinator', { state: 'error', error: errorMessage(e) });
  }
}

/**
 * [S-3] Asks the browser to keep this origin's storage (no eviction under pressure) and shows the
 * answer: without it, a coordinator's jobs may be evicted when the disk fills up.
 */
async function askPersistence(): Promise<void> {
  let persisted: boolean | null = null;
  try {
    const storage = typeof navigator === 'undefined' ? undefined : navigator.storage;
    if (storage && typeof storage.persist === 'function') persisted = (await storage.persisted()) || (await storage.persist());
  } catch {
    persisted = false;
  }
  patch('coordinator', (prev) => ({ storage: { ...prev.storage, persisted } }));
}

/**
 * Test builds only: the coordinator's writes fail with QuotaExceededError while the test hook
 * says the quota is exhausted, for the @faults e2e test. (Chromium 156 accepts CDP's
 * Storage.overrideQuotaForOrigin but IndexedDB writes still succeed, so the failure is injected
 * at the store boundary, with the browser's own error type.)
 */
function withTestFaults(store: CoordinatorStorage): CoordinatorStorage {
  if (import.meta.env.MODE !== 'test') return store;
  const guard =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      testFaults.quotaExhausted ? Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError')) : f(...args);
  return {
    ...(Object.fromEntries(
      (['loadModel', 'loadJobs', 'loadShards', 'loadLeases', 'loadPeers', 'requesterKey', 'jobLimits'] as const).map((k) => [k, store[k].bind(store)]),
    ) as Pick<CoordinatorStorage, 'loadModel' | 'loadJobs' | 'loadShards' | 'loadLeases' | 'loadPeers' | 'requesterKey' | 'jobLimits'>),
    putJob: guard(store.putJob.bind(store)),
    putShard: guard(store.putShard.bind(store)),
    putModel: guard(store.putModel.bind(store)),
    persist: guard(store.persist.bind(store)),
    putJobLimits: guard(store.putJobLimits.bind(store)),
  };
}

/** [S-3] "Retry storage": writes what waited; true when storage works again. */
export function retryCoordinatorStorage(): Promise<boolean> {
  return coordinator ? coordinator.retryStorage() : Promise.resolve(false);
}

/** [J-4] Saves the coordinator's job limits (clamped to the protocol's caps) and applies them at once. */
export async function saveJobLimits(networkId: string, limits: Partial<Record<keyof JobLimits, unknown>>): Promise<void> {
  if (!settings || !coordinator) throw new Error('the coordinator has not started yet');
  const saved = await settings.putJobLimits(networkId, limits);
  coordinator.setJobLimits(saved);
  patch('coordinator', { jobLimits: saved });
}

/**
 * [J-12] A new requester key for the network: stored first (so a reload keeps it, and a failed
 * write changes nothing), then in force at once — the old key no longer submits or reads jobs.
 */
export async function rotateRequesterKey(networkId: string): Promise<void> {
  if (!settings || !coordinator) throw new Error('the coordinator has not started yet, or has no storage to keep a new key in: reload the page');
  const key = generateRequesterKey();
  await settings.putRequesterKey(networkId, key);
  coordinator.rotateRequesterKey(key);
  patch('coordinator', { requesterKey: key });
}

/** Starts this tab's volunteer (see volunteerRole.ts, which also has its controls). */
export function startVolunteer(networkId: string, backend: 'auto' | Backend, test: VolunteerTestOptions = {}): Promise<void> {
  return startVolunteerRole(networkId, backend, test);
}

export async function connectRequester(networkId: string): Promise<void> {
  if (requester) return;
  try {
    // Without IndexedDB (private mode, denied) the dashboard still works, keeping results in memory.
    const [signaling, db] = await Promise.all([loadSignalingConfig(), openQuorumDb().catch(() => null)]);
    requester = new RequesterHost({
      networkId,
      factory: peerjsEndpointFactory(signaling),
      store: db ? new RequesterStore(db, networkId) : null,
      trust: pageCoordinatorTrust(networkId),
      // [J-11] The key this page remembers for the network, proved in each hello.
      requesterKey: () => rememberedRequesterKey(networkId),
    });
    requester.start();
  } catch (e) {
    patch('requester', { state: 'error', error: errorMessage(e) });
  }
}

/** The requester role's host, once `connectRequester` has made it (see requesterRole.ts). */
export function requesterHost(): RequesterHost | null {
  return requester;
}

/** `demo` > 0 feeds the map from a seeded synthetic network of that many volunteers instead. */
export async function connectObserver(networkId: string, demo = 0): Promise<void> {
  const what = `${networkId}|${demo}`;
  if (observing === what) return; // already watching it, or about to
  observer?.stop();
  observer = null;
  observing = what;
  if (demo > 0) {
    observer = new DemoHost(demo);
    observer.start();
    return;
  }
  try {
    const signaling = await loadSignalingConfig();
    if (observing !== what) return; // the page moved on while the config loaded
    observer = new ObserverHost(networkId, peerjsEndpointFactory(signaling), pageCoordinatorTrust(networkId));
    observer.start();
  } catch (e) {
    observing = '';
    patch('network', { state: 'error', error: errorMessage(e) });
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
    patch('requester', { reference: { state: 'error', predictions: [], accuracy: null, detail: errorMessage(e) } });
  }
}
