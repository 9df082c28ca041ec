/**
 * Requester keys: the coordinator makes one on its first start (crypto-random, kept in IndexedDB
 * settings); a requester page remembers the key it was given per network, in localStorage.
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
