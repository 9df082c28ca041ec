/**
 * The network map's role: one observer per tab, watching a network's coordinator or the seeded
 * demo network (`?demo=N`), switched when the page's route changes.
 */
import { DEFAULT_DEMO } from '../core/telemetry/demoNetwork.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { peerjsEndpointFactory } from '../transport/peerjsTransport.ts';
import { DemoHost } from './demoHost.ts';
import { ObserverHost } from './observerHost.ts';
import { pageCoordinatorTrust } from './pageTrust.ts';
import { loadSignalingConfig } from './signalingConfig.ts';
import { ui } from './uiPorts.ts';

let observer: ObserverHost | DemoHost | null = null;
/** What the running observer watches (`network|demo`): the map may switch between them. */
let observing = '';

/** `demo` > 0 feeds the map from a seeded synthetic network of that many volunteers instead. */
export async function connectObserver(networkId: string, demo = 0): Promise<void> {
  const what = `${networkId}|${demo}`;
  if (observing === what) return; // already watching it, or about to
  observer?.stop();
  observer = null;
  observing = what;
  if (demo > 0) {
    observer = new DemoHost(demo, DEFAULT_DEMO.seed, () => Date.now(), ui().network);
    observer.start();
    return;
  }
  try {
    const signaling = await loadSignalingConfig();
    if (observing !== what) return; // the page moved on while the config loaded
    observer = new ObserverHost(networkId, peerjsEndpointFactory(signaling), pageCoordinatorTrust(networkId), ui().network, ui().keyTrust);
    observer.start();
  } catch (e) {
    observing = '';
    ui().network.patch({ state: 'error', error: errorMessage(e) });
  }
}
