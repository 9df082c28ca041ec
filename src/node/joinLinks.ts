/**
 * The links a coordinator hands out, as the coordinator page shows them: where volunteers join,
 * where requesters submit (with the requester key, which the requester page moves out of its URL
 * at once), and the network map. Pure, so a headless coordinator prints exactly what the page shows.
 */
import { DEFAULT_NETWORK } from '../host/networkId.ts';

export interface JoinLinks {
  readonly volunteer: string;
  readonly requester: string;
  readonly network: string;
}

/** `#/route` plus `?network=` unless it is the default network (views/route.ts, `linkTo`). */
function route(name: 'volunteer' | 'requester' | 'network', networkId: string): string {
  return networkId === DEFAULT_NETWORK ? `#/${name}` : `#/${name}?network=${encodeURIComponent(networkId)}`;
}

/** `origin` is the app's base URL, e.g. http://127.0.0.1:8080 (a trailing slash is dropped). */
export function joinLinks(origin: string, networkId: string, requesterKey: string, fingerprint: string | null = null): JoinLinks {
  const base = origin.replace(/\/+$/, '');
  // [K-1] With the coordinator key's fingerprint, a page opened from a link trusts that key only.
  const withFp = (link: string): string => (fingerprint === null ? link : `${link}${link.includes('?') ? '&' : '?'}fp=${fingerprint}`);
  const requester = withFp(route('requester', networkId));
  return {
    volunteer: `${base}/${withFp(route('volunteer', networkId))}`,
    requester: `${base}/${requester}${requester.includes('?') ? '&' : '?'}key=${encodeURIComponent(requesterKey)}`,
    network: `${base}/${withFp(route('network', networkId))}`,
  };
}
