/**
 * The network map's shell: a read-only link to the coordinator ([O-1]) that feeds its telemetry
 * frames ([T-1]) into the store through `applyTelemetry`, the path the demo mode uses too.
 */
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { applyTelemetry } from '../model/networkView.ts';
import type { KeyTrustView } from '../model/keyTrustView.ts';
import type { NetworkView } from '../model/networkView.ts';
import { initialState } from '../model/state.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { CoordinatorLink } from './coordinatorLink.ts';
import type { CoordinatorTrust } from './coordinatorTrust.ts';
import { keyTrustHandlers } from './keyAlarms.ts';
import { coordinatorPeerId } from './networkId.ts';

export class ObserverHost {
  private link: CoordinatorLink | null = null;

  constructor(
    private readonly networkId: string,
    private readonly factory: EndpointFactory,
    /** [K-2] How the coordinator proves its key on each connection. */
    private readonly trust: CoordinatorTrust,
    /** What the map shows; absent (tests): kept in memory. */
    readonly view: ViewPort<NetworkView> = memoryViewPort(initialState.network),
    /** [K-4] Where the page shows the coordinator's key and its alarms. */
    private readonly keyTrust: ViewPort<KeyTrustView> = memoryViewPort(initialState.keyTrust),
  ) {}

  start(): void {
    this.view.patch({ state: 'connecting', source: 'coordinator', networkId: this.networkId, error: null, telemetry: null, history: [], peers: [], jobs: [] });
    this.link = new CoordinatorLink(
      this.factory,
      coordinatorPeerId(this.networkId),
      {
        open: () => this.link?.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'observer', caps: null, label: 'network map' }),
        frame: (msg) => {
          if (msg.t === 'welcome') this.view.patch({ state: 'connected' });
          else if (msg.t === 'telemetry') this.view.patch((prev) => applyTelemetry(prev, msg));
          else if (msg.t === 'network') this.view.patch({ peers: msg.peers });
          else if (msg.t === 'job-status') this.view.patch({ jobs: msg.jobs });
          else if (msg.t === 'refused') this.view.patch({ state: 'error', error: msg.reason });
        },
        protocolError: (error) => console.warn(`[network] dropped a frame: ${error.reason}`),
        close: () => this.view.patch({ peers: [], telemetry: null }),
        status: (state) => this.view.patch({ state }),
        ...keyTrustHandlers('network', this.trust, this.keyTrust),
      },
      { trust: this.trust },
    );
    this.link.start();
  }

  stop(): void {
    this.link?.stop();
  }
}
