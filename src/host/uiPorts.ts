/**
 * The page's view ports, one per part of the UI, handed to the host layer once by the page's entry
 * point (main.tsx attaches the store's). Host classes take the port they need in their options;
 * the role modules, which make those hosts for the page, take them from here.
 */
import type { CoordinatorView } from '../model/coordinatorView.ts';
import type { KeyTrustView } from '../model/keyTrustView.ts';
import type { NetworkView } from '../model/networkView.ts';
import type { RequesterView } from '../model/requesterView.ts';
import { initialState } from '../model/state.ts';
import type { VolunteerView } from '../model/volunteerView.ts';
import { memoryViewPort, type ViewPort } from '../model/viewPort.ts';

export interface UiPorts {
  readonly keyTrust: ViewPort<KeyTrustView>;
  readonly coordinator: ViewPort<CoordinatorView>;
  readonly volunteer: ViewPort<VolunteerView>;
  readonly requester: ViewPort<RequesterView>;
  readonly network: ViewPort<NetworkView>;
}

/** Ports that keep every view in memory: for tests, and a page-less start. */
export function memoryUiPorts(): UiPorts {
  return {
    keyTrust: memoryViewPort(initialState.keyTrust),
    coordinator: memoryViewPort(initialState.coordinator),
    volunteer: memoryViewPort(initialState.volunteer),
    requester: memoryViewPort(initialState.requester),
    network: memoryViewPort(initialState.network),
  };
}

let attached: UiPorts | null = null;

/** Gives the host layer the page's ports; the entry point calls it once, before any role starts. */
export function attachUi(ports: UiPorts): void {
  attached = ports;
}

/** The attached ports. A role started before `attachUi` is a wiring mistake, said so at once. */
export function ui(): UiPorts {
  if (!attached) throw new Error('the page started a role before attaching its view ports (attachUi in main.tsx)');
  return attached;
}
