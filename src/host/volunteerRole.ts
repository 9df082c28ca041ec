/**
 * The volunteer page's intents: open the page (controls and surroundings show before starting),
 * start volunteering, pause or resume, change the controls. One volunteer per tab, with the real
 * adapters: PeerServer on this origin, IndexedDB, the inference Worker.
 */
import type { VolunteerSettings } from '../core/volunteer/controls.ts';
import { openQuorumDb } from '../persistence/db.ts';
import { storedVolunteerKey } from './volunteerKey.ts';
import { ModelCache } from '../persistence/modelCache.ts';
import { OutboxStore } from '../persistence/outboxStore.ts';
import { SettingsStore } from '../persistence/settingsStore.ts';
import type { Backend } from '../protocol/capabilities.ts';
import type { InferenceEngine } from '../runtime/engine.ts';
import { lyingEngine } from '../runtime/lyingEngine.ts';
import { slowEngine } from '../runtime/slowEngine.ts';
import { createWorkerEngine } from '../runtime/workerEngine.ts';
import { ui } from './uiPorts.ts';
import { peerjsEndpointFactory } from '../transport/peerjsTransport.ts';
import { loadSignalingConfig } from './signalingConfig.ts';
import { VolunteerHost } from './volunteerHost.ts';
import { sessionIdentityStorage } from './volunteerIdentity.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { pageCoordinatorTrust } from './pageTrust.ts';

export interface VolunteerTestOptions {
  /** Test builds only: corrupt every output before sending it (see runtime/lyingEngine.ts). */
  readonly liar?: boolean;
  /** Test builds only: hold every shard this long before running it (see runtime/slowEngine.ts). */
  readonly slowMs?: number;
  /** [W-18] Leases queued behind the running one (the bench compares 0 with the default). */
  readonly prefetch?: number;
}

let host: Promise<VolunteerHost> | null = null;

/**
 * Makes this tab's volunteer host (once) and prepares it: saved controls, tab visibility, battery,
 * other volunteer tabs. The first call's network and backend are the tab's for good.
 */
export function prepareVolunteer(networkId: string, backend: 'auto' | Backend, test: VolunteerTestOptions = {}): Promise<VolunteerHost> {
  host ??= (async () => {
    // Checked here as well as on the page: production builds drop the lying engine altogether.
    const liar = import.meta.env.MODE === 'test' && test.liar === true;
    const slowMs = import.meta.env.MODE === 'test' ? Math.max(0, test.slowMs ?? 0) : 0;
    const engine = (): InferenceEngine => {
      const real = liar ? lyingEngine(createWorkerEngine()) : createWorkerEngine();
      return slowMs > 0 ? slowEngine(real, slowMs) : real;
    };
    const [signaling, db] = await Promise.all([loadSignalingConfig(), openQuorumDb()]);
    const h = new VolunteerHost({
      networkId,
      factory: peerjsEndpointFactory(signaling),
      createEngine: engine,
      cache: new ModelCache(db),
      settings: new SettingsStore(db),
      outbox: new OutboxStore(db),
      identity: sessionIdentityStorage(networkId),
      // [I-2] Made on first use and kept in IndexedDB, the private key non-extractable.
      volunteerKey: () => storedVolunteerKey(db, networkId),
      trust: pageCoordinatorTrust(networkId),
      backend,
      ...(test.prefetch !== undefined ? { prefetch: test.prefetch } : {}),
      label: liar ? 'lying volunteer (test)' : navigator.userAgent.includes('Headless') ? 'headless volunteer' : 'volunteer',
      view: ui().volunteer,
      keyTrust: ui().keyTrust,
    });
    await h.prepare();
    return h;
  })();
  host.catch((e: unknown) => {
    host = null;
    ui().volunteer.patch({ state: 'error', error: errorMessage(e) });
  });
  return host;
}

export async function startVolunteer(networkId: string, backend: 'auto' | Backend, test: VolunteerTestOptions = {}): Promise<void> {
  // Feedback at once (the host says 'starting' itself once it exists); a second call changes nothing.
  const now = ui().volunteer.get().state;
  if (now === 'off') ui().volunteer.patch({ state: 'starting', networkId, error: null });
  try {
    await (await prepareVolunteer(networkId, backend, test)).start();
  } catch (e) {
    ui().volunteer.patch({ state: 'error', error: errorMessage(e) });
  }
}

/** [W-11] The pause / resume button. */
export function setVolunteerPaused(paused: boolean): void {
  void host?.then((h) => h.setUserPaused(paused));
}

/** Saves and applies the volunteer's controls (CPU cap, pause rules, threads). */
export function updateVolunteerSettings(change: Partial<VolunteerSettings>): void {
  void host?.then((h) => h.updateSettings(change));
}
