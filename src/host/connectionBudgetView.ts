/** [E-3] Puts this page's RTCPeerConnection budget into the coordinator's slice, as it changes. */
import { patch } from '../stores/store.ts';
import { pageConnections } from '../transport/pageConnections.ts';

let watching = false;

export function showConnectionBudget(): void {
  if (watching) return;
  watching = true;
  patch('coordinator', { connectionBudget: pageConnections.status() });
  pageConnections.subscribe((connectionBudget) => patch('coordinator', { connectionBudget }));
}
