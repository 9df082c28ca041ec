/**
 * What the coordinator derives from its connected peers: a volunteer's standing counters, how
 * its adapter is named, and how many volunteers the network has. Free functions over the peer
 * records (and the reputation book where trust matters), so the read models, the persistence
 * batch and the canary pool all derive them the same way without reaching into the coordinator.
 */
import type { PeerId } from '../../protocol/ids.ts';
import { resultAdapter } from '../../protocol/volunteerProof.ts';
import type { ReputationBook } from '../reputation/reputation.ts';
import type { PeerState, Standing } from './state.ts';

/** [P-7] The counters a volunteer keeps across its connections ([I-1]). */
export function standingOf(p: PeerState): Standing {
  return { shardsAccepted: p.shardsAccepted, resultsReturned: p.resultsReturned, resultsRejected: p.resultsRejected };
}

const adapterNames = new WeakMap<object, string | null>();

/** How provenance names a volunteer's adapter: "vendor architecture", null on WASM (cached per hello). */
export function adapterOf(state: PeerState): string | null {
  const caps = state.caps;
  if (!caps) return null;
  let name = adapterNames.get(caps);
  if (name === undefined) {
    name = resultAdapter(caps, caps.backend); // [I-3] laid out once, as volunteers sign it
    adapterNames.set(caps, name);
  }
  return name;
}

/** How a volunteer's WebGPU adapter is named in summaries and telemetry; null on WASM. */
export function adapterLabel(caps: PeerState['caps']): string | null {
  return caps?.adapter ? `${caps.adapter.vendor} ${caps.adapter.architecture}`.trim() : null;
}

/**
 * [C-4] Distinct volunteers the network knows and has not quarantined — every one with a
 * reputation record (whether or not still connected: a coalition member that left still vouched
 * for its partners) and every connected one without a record yet — counted up to `cap`.
 */
export function knownVolunteers(peers: ReadonlyMap<PeerId, PeerState>, reputation: ReputationBook, cap: number): number {
  let n = reputation.activeCount(cap);
  if (n >= cap) return n;
  for (const p of peers.values()) {
    if (p.role === 'volunteer' && reputation.get(p.id) === undefined && ++n >= cap) break;
  }
  return n;
}

/** Connected volunteers not quarantined, counted up to `cap`. */
export function connectedVolunteers(peers: ReadonlyMap<PeerId, PeerState>, reputation: ReputationBook, cap: number): number {
  let n = 0;
  for (const p of peers.values()) if (p.role === 'volunteer' && !reputation.isQuarantined(p.id) && ++n >= cap) break;
  return n;
}
