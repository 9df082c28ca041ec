/**
 * Test builds only (`vite build --mode test`): exposes the store to Playwright so e2e tests can
 * assert on outcomes (verified predictions, counts) rather than on rendered text alone.
 */
import { useQuorumStore, type QuorumState } from './stores/store.ts';

export interface QuorumTestHook {
  state(): QuorumState;
}

declare global {
  interface Window {
    __quorum?: QuorumTestHook;
  }
}

export function installTestHook(): void {
  window.__quorum = { state: () => useQuorumStore.getState() };
}
