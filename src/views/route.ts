/** Hash routes: `#/volunteer` (default), `#/coordinator`, `#/requester`, `#/network`, each with `?network=`. */
import { useEffect, useState } from 'react';
import { DEFAULT_NETWORK, isValidNetworkName } from '../host/networkId.ts';

export const ROUTES = ['volunteer', 'coordinator', 'requester', 'network'] as const;
export type RouteName = (typeof ROUTES)[number];

export interface Route {
  readonly name: RouteName;
  readonly networkId: string;
  /** Set when the URL named an invalid network. */
  readonly networkError: string | null;
  readonly params: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#\/?/, '').split('?');
  const params = new URLSearchParams(query);
  const name = (ROUTES as readonly string[]).includes(path) ? (path as RouteName) : 'volunteer';
  const requested = params.get('network') ?? DEFAULT_NETWORK;
  const valid = isValidNetworkName(requested);
  return {
    name,
    networkId: valid ? requested : DEFAULT_NETWORK,
    networkError: valid ? null : `"${requested.slice(0, 60)}" is not a valid network name (use 1-40 letters, digits, - or _).`,
    params,
  };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => {
    const on = (): void => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parseRoute(hash);
}

export function linkTo(name: RouteName, networkId: string): string {
  return networkId === DEFAULT_NETWORK ? `#/${name}` : `#/${name}?network=${encodeURIComponent(networkId)}`;
}

/**
 * [K-1] A join link for a client role: the route with the coordinator key's fingerprint as `fp`,
 * so the page that opens it trusts that key, and no other, from its first connection.
 */
export function joinLink(name: RouteName, networkId: string, fingerprint: string | null): string {
  const base = linkTo(name, networkId);
  return fingerprint === null ? base : `${base}${base.includes('?') ? '&' : '?'}fp=${fingerprint}`;
}
