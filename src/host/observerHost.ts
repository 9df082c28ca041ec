/**
 * The network map's shell: a read-only link to the coordinator ([O-1]) that feeds its telemetry
 * frames ([T-1]) into the store through `applyTelemetry`, the path the demo mode uses too.
 */
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { applyTelemetry } from '../stores/networkSlice.ts';
import { patch } from '../stores/store.ts';
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
  ) {}

  start(): void {
    patch('network', { state: 'connecting', source: 'coordinator', networkId: this.networkId, error: null, telemetry: null, history: [], peers: [], jobs: [] });
    this.link = new CoordinatorLink(
      this.factory,
      coordinatorPeerId(this.networkId),
      {
        open: () => this.link?.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'observer', caps: null, label: 'network map' }),
        frame: (msg) => {
          if (msg.t === 'welcome') patch('network', { state: 'connected' });
          else if (msg.t === 'telemetry') patch('network', (prev) => applyTelemetry(prev, msg));
          else if (msg.t === 'network') patch('network', { peers: msg.peers });
          else if (msg.t === 'job-status') patch('network', { jobs: msg.jobs });
          else if (msg.t === 'refused') patch('network', { state: 'error', error: msg.reason });
        },
        protocolError: (error) => console.warn(`[network] dropped a frame: ${error.reason}`),
        close: () => patch('network', { peers: [], telemetry: null }),
        status: (state) => patch('network', { state }),
        ...keyTrustHandlers('network', this.trust),
      },
      { trust: this.trust },
    );
    this.link.start();
  }

  stop(): void {
    this.link?.stop();
  }
}
