import { beforeEach, describe, expect, it } from 'vitest';
import { initialState } from '../model/state.ts';
import { storePorts, useQuorumStore } from './store.ts';

beforeEach(() => useQuorumStore.setState(initialState));

describe("the store's view ports", () => {
  it('a host writing through its port changes what the page reads, and only its own part', () => {
    const ports = storePorts();
    const seen: string[] = [];
    const unsubscribe = useQuorumStore.subscribe((s) => seen.push(s.coordinator.state));
    ports.coordinator.patch({ state: 'connected', peerId: 'quorum-x' });
    ports.coordinator.patch((prev) => ({ activeLeases: prev.activeLeases + 2 }));
    unsubscribe();
    const s = useQuorumStore.getState();
    expect(s.coordinator).toMatchObject({ state: 'connected', peerId: 'quorum-x', activeLeases: 2 });
    expect(seen).toEqual(['connected', 'connected']);
    expect(s.volunteer).toBe(initialState.volunteer);
    expect(s.requester).toBe(initialState.requester);
    expect(ports.coordinator.get()).toBe(s.coordinator);
  });
});
