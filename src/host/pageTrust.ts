/**
 * [K-1] [K-4] The trust a page's client roles start with: the `fp` of the join link the page
 * was opened with (`#/volunteer?network=…&fp=…`), and this browser's pins in localStorage.
 */
import { isKeyFingerprint } from '../protocol/coordinatorProof.ts';
import { CoordinatorTrust, localPinStore } from './coordinatorTrust.ts';

/** The join link's key fingerprint, if the page's address has a well-formed one. */
export function pageLinkFingerprint(hash: string = typeof location === 'undefined' ? '' : location.hash): string | null {
  const query = hash.split('?')[1] ?? '';
  const fp = new URLSearchParams(query).get('fp');
  return fp !== null && isKeyFingerprint(fp) ? fp : null;
}

export function pageCoordinatorTrust(networkId: string): CoordinatorTrust {
  return new CoordinatorTrust({ networkId, linkFingerprint: pageLinkFingerprint(), pins: localPinStore() });
}
