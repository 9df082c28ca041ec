/** The network map's shell: a read-only link that receives job and peer telemetry. */
import { PROTOCOL_VERSION } from '../protocol/messages.ts';
import { patch } from '../stores/store.ts';
import type { EndpointFactory } from '../transport/transport.ts';
import { CoordinatorLink } from './coordinatorLink.ts';
import { coordinatorPeerId } from './networkId.ts';

export class ObserverHost {
  private link: CoordinatorLink | null = null;

  constructor(
    private readonly networkId: string,
    private readonly factory: EndpointFactory,
  ) {}

  start(): void {
    patch('network', { state: 'connecting', networkId: this.networkId, error: null });
    this.link = new CoordinatorLink(this.factory, coordinatorPeerId(this.networkId), {
      open: () => this.link?.send({ v: PROTOCOL_VERSION, t: 'hello', role: 'observer', caps: null, label: 'network map' }),
      frame: (msg) => {
        if (msg.t === 'welcome') patch('network', { state: 'connected' });
        else if (msg.t === 'network') patch('network', { peers: msg.peers });
        else if (msg.t === 'job-status') patch('network', { jobs: msg.jobs });
        else if (msg.t === 'refused') patch('network', { state: 'error', error: msg.reason });
      },
      protocolError: (error) => console.warn(`[network] dropped a frame: ${error.reason}`),
      close: () => patch('network', { peers: [] }),
      status: (state) => patch('network', { state }),
    });
    this.link.start();
  }

  stop(): void {
    this.link?.stop();
  }
}
