/**
 * The coordinator role, started at most once per tab with the real adapters: PeerServer on this
 * origin (the network id claimed with its key, [K-7]), IndexedDB, and an inference Worker to check
 * every submitted model. The coordinator page calls these as user intents.
 */
import { openQuorumDb, type QuorumDb } from '../persistence/db.ts';
import { CoordinatorStore } from '../persistence/coordinatorStore.ts';
import { unavailableStorage, type CoordinatorStorage } from '../persistence/coordinatorStorage.ts';
import { SettingsStore } from '../persistence/settingsStore.ts';
import { CoordinatorKeyStore } from '../persistence/coordinatorKeyStore.ts';
import { DEFAULT_JOB_LIMITS, type JobLimits } from '../core/jobChecks.ts';
import type { TrustConfig } from '../core/reputation/reputation.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import { peerjsEndpointFactory } from '../transport/peerjsTransport.ts';
import { showConnectionBudget } from './connectionBudgetView.ts';
import { CoordinatorHost } from './coordinatorHost.ts';
import { claimingFactory } from './coordinatorIdClaim.ts';
import { generateCoordinatorKeyPair, identityOf } from './coordinatorKey.ts';
import { ModelInspector } from './modelInspector.ts';
import { generateRequesterKey } from './requesterKey.ts';
import { loadSignalingConfig } from './signalingConfig.ts';
import { testFaults } from './testFaults.ts';
import { ui } from './uiPorts.ts';

let coordinator: CoordinatorHost | null = null;
let settings: SettingsStore | null = null;

/** Test builds only: tuning that lets a tiny e2e network exercise the trust machinery. */
export interface CoordinatorTestOptions {
  readonly trust?: Partial<TrustConfig>;
}

export async function startCoordinator(networkId: string, test: CoordinatorTestOptions = {}): Promise<void> {
  if (coordinator) return;
  const trust = import.meta.env.MODE === 'test' ? test.trust : undefined;
  ui().coordinator.patch({ state: 'starting', networkId });
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
    ui().coordinator.patch({ requesterKey, jobLimits });
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
      view: ui().coordinator,
      keyTrust: ui().keyTrust,
    });
    await coordinator.start();
  } catch (e) {
    coordinator = null;
    ui().coordinator.patch({ state: 'error', error: errorMessage(e) });
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
  ui().coordinator.patch((prev) => ({ storage: { ...prev.storage, persisted } }));
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
  ui().coordinator.patch({ jobLimits: saved });
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
  ui().coordinator.patch({ requesterKey: key });
}
