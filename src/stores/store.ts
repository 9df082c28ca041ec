/**
 * The one zustand store: what the UI shows (src/model/state.ts), one part per role. Views read it
 * with `useQuorumStore`; hosts write it only through the ViewPorts `storePorts()` makes.
 */
import { create } from 'zustand';
import type { UiPorts } from '../host/uiPorts.ts';
import { applyViewUpdate, type ViewPort, type ViewUpdate } from '../model/viewPort.ts';
import { initialState, type QuorumState } from '../model/state.ts';

export const useQuorumStore = create<QuorumState>()(() => initialState);

type Part = keyof QuorumState;

/** Shallow-merges an update into one part of the state. */
export function patch<P extends Part>(part: P, update: ViewUpdate<QuorumState[P]>): void {
  useQuorumStore.setState((state) => ({ [part]: applyViewUpdate(state[part], update) }) as Partial<QuorumState>);
}

/** A port onto one part of the store. */
export function storePort<P extends Part>(part: P): ViewPort<QuorumState[P]> {
  return { get: () => useQuorumStore.getState()[part], patch: (update) => patch(part, update) };
}

/** The ports the page's hosts write through (given to them once, in main.tsx). */
export function storePorts(): UiPorts {
  return {
    keyTrust: storePort('keyTrust'),
    coordinator: storePort('coordinator'),
    volunteer: storePort('volunteer'),
    requester: storePort('requester'),
    network: storePort('network'),
  };
}
