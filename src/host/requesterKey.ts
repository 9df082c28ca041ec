/**
 * Requester keys: the coordinator makes one on its first start (crypto-random, kept in IndexedDB
 * settings); a requester page remembers the key it was given per network, in localStorage, and
 * takes it out of its URL as soon as it has read it (`#/requester?key=…` links).
 */
import { cryptoSecret } from './secrets.ts';

/** 128 random bits from `crypto.getRandomValues`, as 32 lowercase hex digits. */
export function generateRequesterKey(): string {
  return cryptoSecret();
}

const storageKey = (networkId: string): string => `quorum.requesterKey.${networkId}`;

export function rememberedRequesterKey(networkId: string): string {
  try {
    return localStorage.getItem(storageKey(networkId)) ?? '';
  } catch {
    return ''; // storage disabled: the field simply starts empty
  }
}

export function rememberRequesterKey(networkId: string, key: string): void {
  try {
    if (key === '') localStorage.removeItem(storageKey(networkId));
    else localStorage.setItem(storageKey(networkId), key);
  } catch {
    // storage disabled: nothing to remember it in
  }
}

/**
 * The requester key in a hash route such as `#/requester?network=n&key=…`, and the same hash
 * without it (every other parameter kept). Pure, so it can be tested without a browser.
 */
export function takeRequesterKeyFromHash(hash: string): { key: string | null; hash: string } {
  const q = hash.indexOf('?');
  if (q === -1) return { key: null, hash };
  const params = new URLSearchParams(hash.slice(q + 1));
  const key = params.get('key');
  if (key === null) return { key: null, hash };
  params.delete('key');
  const rest = params.toString();
  return { key, hash: `${hash.slice(0, q)}${rest === '' ? '' : `?${rest}`}` };
}

/**
 * Once the page has read a key from its URL, the key leaves the URL: a URL ends up in history,
 * bookmarks, screenshots and shared links, so it is stored here instead and the history entry is
 * replaced by the same route without it (no navigation, no hashchange).
 */
export function moveRequesterKeyOutOfUrl(networkId: string): void {
  const { key, hash } = takeRequesterKeyFromHash(location.hash);
  if (key === null) return;
  if (key !== '') rememberRequesterKey(networkId, key);
  history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
}
