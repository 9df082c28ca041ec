/**
 * The requester role's connection, made at most once per tab: the dashboard's link to the
 * coordinator (PeerServer on this origin, jobs kept in IndexedDB), and the single-tab reference
 * run to compare verified results with. The dashboard's other intents are in requesterRole.ts.
 */
import { openQuorumDb } from '../persistence/db.ts';
import { RequesterStore } from '../persistence/requesterStore.ts';
import { errorMessage } from '../protocol/errorMessage.ts';
import { peerjsEndpointFactory } from '../transport/peerjsTransport.ts';
import { pageCoordinatorTrust } from './pageTrust.ts';
import { runMnistReference } from './referenceRun.ts';
import { RequesterHost } from './requesterHost.ts';
import { rememberedRequesterKey } from './requesterKey.ts';
import { loadSignalingConfig } from './signalingConfig.ts';
import { ui } from './uiPorts.ts';

let requester: RequesterHost | null = null;

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
      view: ui().requester,
      keyTrust: ui().keyTrust,
    });
    requester.start();
  } catch (e) {
    ui().requester.patch({ state: 'error', error: errorMessage(e) });
  }
}

/** The requester role's host, once `connectRequester` has made it (see requesterRole.ts). */
export function requesterHost(): RequesterHost | null {
  return requester;
}

/** Runs the built-in MNIST model on the first `count` digits in this tab alone. */
export async function runReference(count: number): Promise<void> {
  ui().requester.patch({ reference: { state: 'running', predictions: [], accuracy: null, detail: `running ${count} digits in this tab…` } });
  try {
    const ref = await runMnistReference(count);
    ui().requester.patch({
      reference: {
        state: 'done',
        predictions: ref.predictions,
        accuracy: ref.accuracy,
        detail: `${ref.predictions.length} digits on ${ref.backend} in ${ref.inferMs.toFixed(0)} ms, accuracy ${(ref.accuracy * 100).toFixed(2)}%`,
      },
    });
  } catch (e) {
    ui().requester.patch({ reference: { state: 'error', predictions: [], accuracy: null, detail: errorMessage(e) } });
  }
}
