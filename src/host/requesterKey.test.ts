import { describe, expect, it } from 'vitest';
import { takeRequesterKeyFromHash } from './requesterKey.ts';

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
