import { afterEach, describe, expect, it, vi } from 'vitest';
import { moveRequesterKeyOutOfUrl, rememberedRequesterKey, takeRequesterKeyFromHash } from './requesterKey.ts';

describe('takeRequesterKeyFromHash', () => {
  it('returns the key and the hash without it, keeping the route and other parameters', () => {
    expect(takeRequesterKeyFromHash('#/requester?key=0123abcd')).toEqual({ key: '0123abcd', hash: '#/requester' });
    expect(takeRequesterKeyFromHash('#/requester?network=lab-2&key=k1')).toEqual({ key: 'k1', hash: '#/requester?network=lab-2' });
    expect(takeRequesterKeyFromHash('#/requester?key=k1&network=lab-2')).toEqual({ key: 'k1', hash: '#/requester?network=lab-2' });
  });

  it('takes every copy of the key, so none is left in the URL', () => {
    const taken = takeRequesterKeyFromHash('#/requester?key=a&network=n&key=b');
    expect(taken.key).toBe('a');
    expect(taken.hash).toBe('#/requester?network=n');
  });

  it('leaves a hash without a key alone', () => {
    expect(takeRequesterKeyFromHash('#/requester?network=n')).toEqual({ key: null, hash: '#/requester?network=n' });
    expect(takeRequesterKeyFromHash('')).toEqual({ key: null, hash: '' });
  });
});

describe('moveRequesterKeyOutOfUrl', () => {
  afterEach(() => vi.unstubAllGlobals());

  /** The page's URL, history and localStorage, as far as requesterKey.ts touches them. */
  function page(hash: string): { url: () => string; stored: Map<string, string> } {
    const loc = { pathname: '/app/', search: '?lang=en', hash };
    const stored = new Map<string, string>();
    vi.stubGlobal('location', loc);
    vi.stubGlobal('history', {
      state: { n: 1 },
      replaceState: (_state: unknown, _title: string, url: string) => {
        loc.hash = url.slice(url.indexOf('#'));
      },
    });
    vi.stubGlobal('localStorage', {
      getItem: (k: string) => stored.get(k) ?? null,
      setItem: (k: string, v: string) => void stored.set(k, v),
      removeItem: (k: string) => void stored.delete(k),
    });
    return { url: () => `${loc.pathname}${loc.search}${loc.hash}`, stored };
  }

  it('a key read from the URL is kept for its network and leaves the URL, every other parameter staying', () => {
    const p = page('#/requester?network=lab&key=0123abcd');
    moveRequesterKeyOutOfUrl('lab');
    expect(p.url()).toBe('/app/?lang=en#/requester?network=lab');
    expect(rememberedRequesterKey('lab')).toBe('0123abcd');
    expect(rememberedRequesterKey('other')).toBe('');
    expect([...p.stored.values()].join()).toBe('0123abcd');
  });

  it('a URL without a key is left alone, and a remembered key stays', () => {
    const p = page('#/requester?network=lab');
    p.stored.set('quorum.requesterKey.lab', 'kept');
    moveRequesterKeyOutOfUrl('lab');
    expect(p.url()).toBe('/app/?lang=en#/requester?network=lab');
    expect(rememberedRequesterKey('lab')).toBe('kept');
  });
});
