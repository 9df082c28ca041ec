/** [E-3] Puts this page's RTCPeerConnection budget into the coordinator's slice, as it changes. */
import { ui } from './uiPorts.ts';
import { pageConnections } from '../transport/pageConnections.ts';

let watching = false;

export function showConnectionBudget(): void {
  if (watching) return;
  watching = true;
  ui().coordinator.patch({ connectionBudget: pageConnections.status() });
  pageConnections.subscribe((connectionBudget) => ui().coordinator.patch({ connectionBudget }));
}
